/**
 * `/hub/card`: where a student types the code on their login card, at whatever address the hub has
 * today; throttled like logins, per address.
 *
 * `/hub/login-link/<secret>`: what the QR code on a login card opens. A GET only shows a page;
 * the link is used by the POST that page makes, because chat apps, mail scanners and link
 * previews fetch URLs before any person does, and a link that a GET consumed would be spent by
 * the time the student opened it. A `next` in the query (only ever a path on this hub) is where
 * the browser goes once logged in: the desktop app opens its window on the teacher dashboard so.
 */
import express, { type Request, type Router } from 'express';
import { redeemCardCode, redeemLoginLink } from '../../auth/login-links.js';
import type { LoginLinkRecord } from '../../store/login-links.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { safeNextUrl } from '../next-url.js';
import { fromOtherSite } from '../../net/same-origin.js';
import { startBrowserSession } from './login.js';
import { CARD_CODE_REFUSED, cardCodePage, loginLinkPage, loginLinkRefusedPage } from './login-card-templates.js';

/** The throttle's subject for card-code guesses: ":" is in no username. */
const CARD_CODE_SUBJECT = ':card-code';
const form = express.urlencoded({ extended: false, limit: '16kb' });

export function loginLinkRouter(ctx: HubContext): Router {
  const { urls } = ctx;
  const router = express.Router();
  const action = (req: Request) => {
    const path = urls.hub(`login-link/${encodeURIComponent(secretOf(req))}`);
    const next = safeNextUrl(req.query.next, urls);
    return next ? `${path}?next=${encodeURIComponent(next)}` : path;
  };

  router.get('/login-link/:secret', (req, res) => {
    // The URL holds a secret: no cache may keep the page.
    res.set('Cache-Control', 'no-store').type('html').send(loginLinkPage(urls, { action: action(req) }));
  });

  /** The account a used link or code logs in, or undefined (its use is saved either way). */
  const accountOf = async (link: LoginLinkRecord | undefined) => {
    const user = link && ctx.users.findById(link.userId);
    if (user?.approved) return user;
    if (link) await ctx.db.commit();
    return undefined;
  };

  router.post('/login-link/:secret', async (req, res) => {
    // Login CSRF: another site must not log a browser into an account of its choosing.
    if (fromOtherSite(req, ctx.secure)) throw new HttpError(403, 'Open the login link from your card, not from another site.');
    const user = await accountOf(redeemLoginLink(ctx.loginLinks, secretOf(req), new Date(ctx.clock())));
    if (!user) {
      ctx.log.info('refused a used, expired or revoked login link');
      res.status(403).set('Cache-Control', 'no-store').type('html').send(loginLinkRefusedPage(urls));
      return;
    }
    // The link's use reaches the disk with the new session, in startBrowserSession's commit.
    await startBrowserSession(ctx, req, res, user);
    ctx.log.info(`${user.name} logged in with a login link`);
    res.redirect(303, safeNextUrl(req.query.next, urls) ?? urls.hub());
  });

  const cardAction = (req: Request) => {
    const next = safeNextUrl(req.query.next, urls);
    return next ? `${urls.hub('card')}?next=${encodeURIComponent(next)}` : urls.hub('card');
  };

  router.get('/card', (req, res) => {
    res.type('html').send(cardCodePage(urls, { action: cardAction(req) }));
  });

  router.post('/card', form, async (req, res) => {
    if (fromOtherSite(req, ctx.secure)) throw new HttpError(403, 'Type your card code on this hub’s own page.');
    const typed = typeof req.body?.code === 'string' ? (req.body.code as string).slice(0, 64) : '';
    const again = (status: number, error: string) =>
      res.status(status).type('html').send(cardCodePage(urls, { action: cardAction(req), error, code: typed }));
    const admission = ctx.logins.admit(CARD_CODE_SUBJECT, req.socket.remoteAddress ?? '');
    if (admission.kind === 'throttled') {
      res.set('Retry-After', String(admission.retryAfterSeconds));
      again(429, admission.message);
      return;
    }
    const user = await accountOf(redeemCardCode(ctx.loginLinks, typed, new Date(ctx.clock())));
    if (!user) {
      ctx.log.info('refused a wrong, used or expired card code');
      again(403, CARD_CODE_REFUSED);
      return;
    }
    ctx.logins.succeeded(admission.attempt);
    await startBrowserSession(ctx, req, res, user);
    ctx.log.info(`${user.name} logged in with a card code`);
    res.redirect(303, safeNextUrl(req.query.next, urls) ?? urls.hub());
  });

  return router;
}

function secretOf(req: Request): string {
  const secret: unknown = req.params.secret;
  return typeof secret === 'string' ? secret : '';
}
