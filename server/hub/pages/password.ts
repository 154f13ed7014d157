/**
 * `/hub/change-password`: a logged-in user chooses a new password. After a teacher's reset the
 * student must: until they have, every other hub page sends them here (API calls are not pages and
 * go on as before; the pages to log in and out stay open, to switch accounts).
 *
 * The current password is asked for even then (it is the temporary one the teacher gave): whoever
 * finds a logged-in browser must not be able to lock its owner out. Guesses at it are throttled like
 * logins, per account.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { changeOwnPassword } from '../../auth/password-changes.js';
import { passwordProblem } from '../../auth/passwords.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { identityOf } from '../identity.js';
import { safeNextUrl } from '../next-url.js';
import { fromOtherSite } from '../same-origin.js';
import { changePasswordPage } from './password-templates.js';

/**
 * Pages a user who must change their password may still open (paths under the hub's prefix): this
 * one, and the ways out and in (another student may log in on the same tablet, from a card's QR code).
 */
const OPEN_WHILE_MUST_CHANGE = /^\/(change-password|login|logout|join|login-link\/[^/]+)$/;

export function passwordPages(ctx: HubContext): Router {
  const { urls } = ctx;
  const router = express.Router();
  const page = urls.hub('change-password');
  const form = express.urlencoded({ extended: false, limit: '16kb' });

  router.use((req: Request, res: Response, next: NextFunction) => {
    const user = identityOf(res)?.user;
    if (!user?.mustChangePassword || OPEN_WHILE_MUST_CHANGE.test(req.path)) {
      next();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(403, `Choose your own password first, at ${page}.`);
    const back = safeNextUrl(req.originalUrl, urls);
    res.redirect(302, back ? `${page}?next=${encodeURIComponent(back)}` : page);
  });

  router.get('/change-password', (req, res) => {
    const user = identityOf(res)?.user;
    if (!user) {
      res.redirect(302, urls.login(req.originalUrl));
      return;
    }
    res.type('html').send(
      changePasswordPage(urls, {
        user: user.name,
        next: safeNextUrl(req.query.next, urls),
        mustChange: user.mustChangePassword,
        hasPassword: user.passwordHash !== null,
        minLength: ctx.config.auth.minPasswordLength,
      }),
    );
  });

  router.post('/change-password', form, async (req, res) => {
    // The form changes the account's password: another site must not be able to send it.
    if (fromOtherSite(req, ctx.secure)) throw new HttpError(403, 'Change your password from this hub’s own page.');
    const identity = identityOf(res);
    const user = identity?.user;
    const session = identity?.session;
    if (!user || !session) throw new HttpError(403, `Your login has ended. Log in again at ${urls.login()}.`);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const field = (name: string): string => {
      const value = body[name];
      return typeof value === 'string' ? value : '';
    };
    const next = safeNextUrl(req.query.next, urls);
    const again = (status: number, error: string) =>
      res
        .status(status)
        .type('html')
        .send(
          changePasswordPage(urls, {
            user: user.name,
            next,
            mustChange: user.mustChangePassword,
            hasPassword: user.passwordHash !== null,
            minLength: ctx.config.auth.minPasswordLength,
            error,
          }),
        );

    const current = field('current');
    const password = field('password');
    if (user.passwordHash !== null) {
      const admission = ctx.logins.admit(user.name, req.socket.remoteAddress ?? '');
      if (admission.kind === 'throttled') {
        res.set('Retry-After', String(admission.retryAfterSeconds));
        again(429, admission.message);
        return;
      }
      if (!(await ctx.hasher.verify(current, user.passwordHash))) {
        const which = user.mustChangePassword ? 'the temporary password your teacher gave you' : 'your current password';
        again(403, `That is not ${which}. Type it again; if you have lost it, ask your teacher to reset your password.`);
        return;
      }
      ctx.logins.succeeded(admission.attempt);
      if (password === current) {
        again(400, 'Your new password must be different from the one you have now.');
        return;
      }
    }
    const problem = passwordProblem(password, ctx.config.auth.minPasswordLength);
    if (problem) {
      again(400, `${problem} Choose another new password.`);
      return;
    }
    if (password !== field('confirm')) {
      again(400, 'The two new passwords are not the same. Type your new password twice, exactly the same way.');
      return;
    }
    await changeOwnPassword(ctx, user, password, session.id);
    ctx.log.info(`${user.name} changed their password`);
    res.redirect(303, next ?? urls.hub('home'));
  });

  return router;
}
