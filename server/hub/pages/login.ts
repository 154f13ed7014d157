/**
 * Getting in: the login page, and (when `auth.loginMode` is "join-code") the join page where
 * students create their own account with the class join code. Both are throttled by the same
 * `LoginAttempts`, refuse requests from other sites (login CSRF), and end in the same session start.
 */
import express, { type Request, type Response, type Router } from 'express';
import { AccountError, createAccount } from '../../auth/accounts.js';
import { ApprovalWaits, WAITING_COOKIE, WAITING_TICKET_SECONDS } from '../../auth/approval-waits.js';
import type { JoinCodes } from '../../auth/join-codes.js';
import { WRONG_CREDENTIALS, type Throttled } from '../../auth/login-attempts.js';
import { passwordProblem } from '../../auth/passwords.js';
import { findSession, setSessionCookie, startSession } from '../../auth/sessions.js';
import { readCookie, setCookie } from '../../net/cookies.js';
import type { UserRecord } from '../../store/users.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { identityOf } from '../identity.js';
import { safeNextUrl } from '../next-url.js';
import { fromOtherSite } from '../../net/same-origin.js';
import { awaitingApprovalPage, joinPage, turnedAwayPage, type JoinForm } from './join-templates.js';
import { loginPage } from './templates.js';

/** The throttle's subject for join-code guesses: ":" never appears in a username, so it is no one's name. */
const JOIN_CODE_SUBJECT = ':join-code';
const MAX_DISPLAY_NAME = 100;
const form = express.urlencoded({ extended: false, limit: '16kb' });

export function loginRouter(ctx: HubContext, defaultUrl: (user: UserRecord) => string): Router {
  const { urls } = ctx;
  const router = express.Router();
  const joinUrl = (next: string | null) =>
    ctx.joinCodes ? (next ? `${urls.hub('join')}?next=${encodeURIComponent(next)}` : urls.hub('join')) : null;
  const firstUse = ctx.config.auth.loginMode === 'first-use';
  const waits = new ApprovalWaits();
  const waitingCookie = { path: urls.hub('waiting'), secure: ctx.secure };
  const waitingUrl = (next: string | null) => (next ? `${urls.hub('waiting')}?next=${encodeURIComponent(next)}` : urls.hub('waiting'));

  /** The waiting page, with a ticket that logs this browser in once the teacher lets `user` in. */
  const awaitApproval = (res: Response, status: number, user: UserRecord, next: string | null) => {
    setCookie(res, WAITING_COOKIE, waits.issue(user.id), waitingCookie, WAITING_TICKET_SECONDS);
    res.status(status).type('html').send(awaitingApprovalPage(urls, { user: user.name, next, refreshUrl: waitingUrl(next) }));
  };

  /** Where a browser goes once logged in: `next`, or home; by way of choosing a new password if it must. */
  const afterLogin = (user: UserRecord, next: string | null): string => {
    const destination = next ?? defaultUrl(user);
    return user.mustChangePassword ? `${urls.hub('change-password')}?next=${encodeURIComponent(destination)}` : destination;
  };

  router.get('/login', (req, res) => {
    const next = safeNextUrl(req.query.next, urls);
    const identity = identityOf(res);
    if (identity?.user) {
      res.redirect(302, next ?? defaultUrl(identity.user));
      return;
    }
    // The student types her password now: her login will not wait for a hashing worker to start.
    ctx.hasher.prepare();
    res.type('html').send(loginPage(urls, { next, joinUrl: joinUrl(next), firstUse }));
  });

  router.post('/login', form, async (req, res) => {
    // Login CSRF: another site must not be able to log a student into an account of its choosing.
    if (fromOtherSite(req, ctx.secure)) throw new HttpError(403, 'Log in from this hub’s own login page.');
    const fields = formFields(req);
    const next = safeNextUrl(req.query.next, urls);
    const outcome = await ctx.logins.logIn(fields('username'), fields('password'), clientAddress(req));
    const again = (status: number, error: string) =>
      res
        .status(status)
        .type('html')
        .send(loginPage(urls, { next, error, username: fields('username').slice(0, 64), joinUrl: joinUrl(next), firstUse }));
    switch (outcome.kind) {
      case 'throttled':
        again(throttled(res, outcome), outcome.message);
        return;
      case 'refused':
        // A problem (a password too long) is the user's to fix; a wrong name or password is 403.
        again(outcome.problem ? 400 : 403, outcome.problem ?? WRONG_CREDENTIALS);
        return;
      case 'awaiting-approval':
        awaitApproval(res, 403, outcome.user, next);
        return;
      case 'ok':
        await startBrowserSession(ctx, req, res, outcome.user);
        ctx.log.info(`${outcome.user.name} logged in`);
        res.redirect(302, afterLogin(outcome.user, next));
    }
  });

  /** The join page exists only in join-code mode; elsewhere it says how students do get in. */
  const joinCodes = (): JoinCodes => {
    if (ctx.joinCodes) return ctx.joinCodes;
    throw new HttpError(
      404,
      ctx.config.auth.loginMode === 'first-use'
        ? 'This class has no join page: log in with the username your teacher gave you, and choose your password the first time.'
        : 'This class has no join page: log in with the username and password your teacher gave you.',
    );
  };

  router.get('/join', (req, res) => {
    joinCodes();
    const next = safeNextUrl(req.query.next, urls);
    const identity = identityOf(res);
    if (identity?.user) {
      res.redirect(302, next ?? defaultUrl(identity.user));
      return;
    }
    res.type('html').send(joinPage(urls, { next, minPasswordLength: ctx.config.auth.minPasswordLength }));
  });

  router.post('/join', form, async (req, res) => {
    const codes = joinCodes();
    if (fromOtherSite(req, ctx.secure)) throw new HttpError(403, 'Join from this hub’s own join page.');
    const fields = formFields(req);
    const next = safeNextUrl(req.query.next, urls);
    // A setting the teacher may change while the hub runs.
    const { minPasswordLength } = ctx.config.auth;
    const typed: JoinForm = {
      next,
      minPasswordLength,
      code: fields('code').slice(0, 64),
      username: fields('username').slice(0, 64),
      displayName: fields('displayName').slice(0, MAX_DISPLAY_NAME),
    };
    const password = fields('password');
    // Nothing the student typed is lost to a mistake elsewhere; a password that was the mistake is typed again.
    const again = (status: number, error: string, keepPassword = true) => {
      const keep = keepPassword && password === fields('password2') && passwordProblem(password, minPasswordLength) === null;
      res.set('Cache-Control', 'no-store');
      res.status(status).type('html').send(joinPage(urls, { ...typed, error, ...(keep ? { password } : {}) }));
    };

    const admission = ctx.logins.admit(JOIN_CODE_SUBJECT, clientAddress(req));
    if (admission.kind === 'throttled') {
      again(throttled(res, admission), admission.message);
      return;
    }
    if (!codes.matches(fields('code'))) {
      again(403, 'That class code is not right. Check it with your teacher and type it again.');
      return;
    }
    ctx.logins.succeeded(admission.attempt);

    if (password !== fields('password2')) {
      again(400, 'The two passwords are not the same: type the same password in both boxes.', false);
      return;
    }
    const displayName = fields('displayName').normalize('NFKC').trim();
    // eslint-disable-next-line no-control-regex
    if (displayName.length > MAX_DISPLAY_NAME || /[\u0000-\u001f\u007f]/.test(displayName)) {
      again(400, `Your name can be at most ${MAX_DISPLAY_NAME} characters long, on one line.`);
      return;
    }
    const approved = !ctx.config.auth.joinApproval;
    let user: UserRecord;
    try {
      user = await createAccount(
        { db: ctx.db, users: ctx.users, hasher: ctx.hasher, minPasswordLength },
        { name: fields('username'), admin: false, password, displayName: displayName || null, approved },
      );
    } catch (error) {
      if (!(error instanceof AccountError)) throw error;
      again(error.reason === 'exists' ? 409 : 400, error.reason === 'exists' ? 'That name is taken: choose another.' : error.message);
      return;
    }
    ctx.log.info(`${user.name} joined with the class code${approved ? '' : ', waiting for approval'}`);
    ctx.events.usersChanged();
    if (!approved) {
      awaitApproval(res, 202, user, next);
      return;
    }
    await startBrowserSession(ctx, req, res, user);
    res.redirect(303, afterLogin(user, next));
  });

  /** Where the waiting page refreshes to: it moves on to the student's server once they are let in. */
  router.get('/waiting', async (req, res) => {
    const next = safeNextUrl(req.query.next, urls);
    const ticket = readCookie(req, WAITING_COOKIE);
    const userId = ticket === undefined ? undefined : waits.find(ticket);
    if (ticket === undefined || userId === undefined) {
      res.redirect(302, next ? urls.login(next) : urls.login());
      return;
    }
    const user = ctx.users.findById(userId);
    if (user?.approved === false) {
      res.type('html').send(awaitingApprovalPage(urls, { user: user.name, next, refreshUrl: waitingUrl(next) }));
      return;
    }
    waits.end(ticket);
    setCookie(res, WAITING_COOKIE, '', waitingCookie, 0);
    if (!user) {
      res.type('html').send(turnedAwayPage(urls, { joinUrl: joinUrl(next) }));
      return;
    }
    await startBrowserSession(ctx, req, res, user);
    ctx.log.info(`${user.name} was let in and logged in from the waiting page`);
    res.redirect(303, afterLogin(user, next));
  });

  return router;
}

/**
 * Logs the browser in as `user`: a fresh session at every login, on disk before the cookie is
 * sent; a session cookie the browser already had is ended, not reused (session fixation).
 */
export async function startBrowserSession(ctx: HubContext, req: Request, res: Response, user: UserRecord): Promise<void> {
  const previous = findSession(ctx.sessions, req);
  const { cookieValue } = ctx.db.transaction(() => {
    if (previous) ctx.sessions.delete(previous.id);
    return startSession(ctx.sessions, user.id, ctx.config.auth.sessionMaxAgeDays);
  });
  await ctx.db.commit();
  setSessionCookie(res, cookieValue, { path: ctx.urls.hub(), secure: ctx.secure }, ctx.config.auth.sessionMaxAgeDays);
}

/** A form's text fields; anything missing or repeated reads as empty. */
function formFields(req: Request): (name: string) => string {
  const body = (req.body ?? {}) as Record<string, unknown>;
  return (name) => {
    const value = body[name];
    return typeof value === 'string' ? value : '';
  };
}

/** The browser's address as the public listener saw it (the hub trusts no forwarding headers). */
function clientAddress(req: Request): string {
  return req.socket.remoteAddress ?? '';
}

/** Marks `res` as a throttled answer and returns its status. */
function throttled(res: Response, outcome: Throttled): number {
  res.set('Retry-After', String(outcome.retryAfterSeconds));
  return 429;
}
