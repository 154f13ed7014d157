/**
 * The teacher's sheets of login cards, `/hub/cards/<id>`, made by the dashboard's import and its
 * Print login cards. Admins only, logged in with the cookie.
 */
import type { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { qrSvg } from '../../lan/qr.js';
import { hasScope } from '../../rbac/scopes.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { identityOf, type Identity } from '../identity.js';
import { cardsExpiredPage, cardsSheet } from './login-card-templates.js';

export function rosterRouter(ctx: HubContext): Router {
  const { urls } = ctx;
  const router = express.Router();

  /** Teachers only: anonymous visitors log in first, students are told this is not for them. */
  const teacher = (req: Request, res: Response, next: NextFunction): void => {
    const identity = identityOf(res);
    if (!identity?.user) res.redirect(302, urls.login(req.originalUrl));
    else if (!hasScope(identity.scopes, 'admin:users')) throw new HttpError(403, 'Only teachers (admins) can manage the class roster.');
    else next();
  };
  const viewer = (res: Response): string => (identityOf(res) as Identity).name;

  // Where the roster page was: classes are imported in the dashboard now.
  router.get('/roster', teacher, (_req, res) => {
    res.redirect(301, urls.hub('admin'));
  });

  router.get('/cards/:id', teacher, async (req, res) => {
    // The sheet holds login secrets and maybe passwords: never cached, by the browser or anyone.
    res.set('Cache-Control', 'no-store');
    const sheet = ctx.cardSheets.get(String(req.params.id));
    if (!sheet) {
      res.status(410).type('html').send(cardsExpiredPage(urls, { user: viewer(res) }));
      return;
    }
    const joinUrl = studentJoinUrl(ctx, req);
    const cards = await Promise.all(
      sheet.cards.map(async (card) => ({
        name: card.name,
        displayName: card.displayName,
        password: card.password,
        code: card.code,
        qrSvg: await qrSvg(`${joinUrl}hub/login-link/${card.linkSecret}`),
      })),
    );
    const { nameUrl } = ctx.joinAddresses.list();
    res.type('html').send(cardsSheet(urls, { cards, joinUrl, nameUrl, linksExpireAt: sheet.linksExpireAt }));
  });

  return router;
}

/**
 * The hub's root URL as students reach it (ending in the base URL's `/`): the join address the
 * teacher chose on the dashboard, or Lectern's best guess, so cards and dashboard agree. A hub kept
 * to this machine (bound to loopback), or on no network at all, has none students could use: then
 * the address the teacher's own browser used, which at least works on this machine.
 */
export function studentJoinUrl(ctx: HubContext, req: IncomingMessage): string {
  const preferred = ctx.joinAddresses.list().preferred;
  if (preferred && preferred.kind !== 'loopback') return preferred.url;
  return `${ctx.secure ? 'https' : 'http'}://${req.headers.host ?? `127.0.0.1:${ctx.publicPort()}`}${ctx.urls.base}`;
}
