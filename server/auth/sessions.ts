/**
 * Login sessions carried by one cookie. Its value is a fresh random secret at every login (so a
 * cookie planted before login is worthless), stored only as a hash, and scoped to the hub's pages:
 * `Path=<base>hub/`, HttpOnly, SameSite=Lax, Secure when the hub speaks HTTPS.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { appendSetCookie, cookieValues, type CookieScope, serializeCookie, setCookie } from '../net/cookies.js';
import type { SessionRecord, SessionRepository } from '../store/sessions.js';
import { hashSecret, newSecret } from './secrets.js';

export const SESSION_COOKIE = 'lectern-session';

export function startSession(
  sessions: SessionRepository,
  userId: number,
  maxAgeDays: number,
): { cookieValue: string; session: SessionRecord } {
  const cookieValue = newSecret();
  const expiresAt = new Date(Date.now() + maxAgeDays * 86_400_000).toISOString();
  return { cookieValue, session: sessions.create(userId, hashSecret(cookieValue), expiresAt) };
}

/**
 * The login the request's cookie stands for. A request carrying the cookie twice (another path, or
 * planted by a page of the same host) stands for none: which one is the browser's own cannot be told.
 */
export function findSession(sessions: SessionRepository, req: IncomingMessage): SessionRecord | undefined {
  const values = cookieValues(req.headers.cookie, SESSION_COOKIE);
  return values.length === 1 ? sessions.findByHash(hashSecret(values[0] as string)) : undefined;
}

/** True when the request carries more than one login cookie: someone planted one. */
export function hasTossedSessionCookie(req: IncomingMessage): boolean {
  return cookieValues(req.headers.cookie, SESSION_COOKIE).length > 1;
}

/**
 * Expires the login cookie at every path that could have sent it with a request for `path`: a
 * browser sends a cookie only where its Path is a prefix of the request's path, so this clears the
 * planted one whatever Path it was given, and the browser's own.
 */
export function clearSessionCookiesFor(res: ServerResponse, path: string, secure: boolean): void {
  const segments = path.split('/').filter(Boolean);
  const paths = new Set(['/']);
  for (let i = 1; i <= segments.length; i++) {
    const prefix = `/${segments.slice(0, i).join('/')}`;
    paths.add(prefix).add(`${prefix}/`);
  }
  for (const cookiePath of paths) appendSetCookie(res, serializeCookie(SESSION_COOKIE, '', { path: cookiePath, secure }, 0));
}

export function setSessionCookie(res: ServerResponse, value: string, scope: CookieScope, maxAgeDays: number): void {
  setCookie(res, SESSION_COOKIE, value, scope, Math.round(maxAgeDays * 86_400));
}

export function clearSessionCookie(res: ServerResponse, scope: CookieScope): void {
  setCookie(res, SESSION_COOKIE, '', scope, 0);
}
