/**
 * `/hub/change-password`: a logged-in user chooses a new password. After a teacher's reset the
 * student must: until they have, every other hub page sends them here (API calls are not pages and
 * go on as before; the pages to log in and out stay open, to switch accounts).
 *
 * The current password is asked for, so that whoever finds a logged-in browser cannot lock its owner
 * out; guesses at it are throttled like logins, per account. Not right after the login that brought
 * a student here to choose their own, though: they have just typed the teacher's temporary password
 * (or scanned their card), and asking again is only in the way.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { changeOwnPassword } from '../../auth/password-changes.js';
import { passwordProblem } from '../../auth/passwords.js';
import type { SessionRecord } from '../../store/sessions.js';
import type { UserRecord } from '../../store/users.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { identityOf } from '../identity.js';
import { safeNextUrl } from '../next-url.js';
import { fromOtherSite } from '../../net/same-origin.js';
import { changePasswordPage } from './password-templates.js';

/**
 * Pages a user who must change their password may still open (paths under the hub's prefix): this
 * one, and the ways out and in (another student may log in on the same tablet, from a card's QR code).
 */
const OPEN_WHILE_MUST_CHANGE = /^\/(change-password|login|logout|join|card|login-link\/[^/]+)$/;
/** A login this recent has just proved the password, for a student who must choose their own. */
const FRESH_LOGIN_MS = 10 * 60_000;

/** Whether the change-password form asks `user`, logged in with `session`, for their current password. */
export function asksCurrentPassword(user: UserRecord, session: SessionRecord | undefined, now = Date.now()): boolean {
  if (user.passwordHash === null) return false;
  const fresh = session !== undefined && now - Date.parse(session.created) < FRESH_LOGIN_MS;
  return !(user.mustChangePassword && fresh);
}

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
    const identity = identityOf(res);
    const user = identity?.user;
    if (!user) {
      res.redirect(302, urls.login(req.originalUrl));
      return;
    }
    res.type('html').send(
      changePasswordPage(urls, {
        user: user.name,
        next: safeNextUrl(req.query.next, urls),
        mustChange: user.mustChangePassword,
        askCurrent: asksCurrentPassword(user, identity.session),
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
    const askCurrent = asksCurrentPassword(user, session);
    const again = (status: number, error: string) =>
      res
        .status(status)
        .type('html')
        .send(
          changePasswordPage(urls, {
            user: user.name,
            next,
            mustChange: user.mustChangePassword,
            askCurrent,
            minLength: ctx.config.auth.minPasswordLength,
            error,
          }),
        );

    const current = field('current');
    const password = field('password');
    if (askCurrent && user.passwordHash !== null) {
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
    }
    if (user.passwordHash !== null && (await ctx.hasher.verify(password, user.passwordHash))) {
      again(400, 'Your new password must be different from the one you have now.');
      return;
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
