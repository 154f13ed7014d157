/**
 * Login sessions carried by one cookie. Its value is a fresh random secret at every login (so a
 * cookie planted before login is worthless), stored only as a hash, and scoped to the hub's pages:
 * `Path=<base>hub/`, HttpOnly, SameSite=Lax, Secure when the hub speaks HTTPS.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SessionRecord, SessionRepository } from '../store/sessions.js';
import { hashSecret, newSecret } from './secrets.js';

export const SESSION_COOKIE = 'lectern-session';

export interface CookieScope {
  path: string;
  secure: boolean;
}

export function startSession(
  sessions: SessionRepository,
  userId: number,
  maxAgeDays: number,
): { cookieValue: string; session: SessionRecord } {
  const cookieValue = newSecret();
  const expiresAt = new Date(Date.now() + maxAgeDays * 86_400_000).toISOString();
  return { cookieValue, session: sessions.create(userId, hashSecret(cookieValue), expiresAt) };
}

export function findSession(sessions: SessionRepository, req: IncomingMessage): SessionRecord | undefined {
  const value = readCookie(req, SESSION_COOKIE);
  return value ? sessions.findByHash(hashSecret(value)) : undefined;
}

export function setSessionCookie(res: ServerResponse, value: string, scope: CookieScope, maxAgeDays: number): void {
  appendSetCookie(res, serializeCookie(SESSION_COOKIE, value, scope, Math.round(maxAgeDays * 86_400)));
}

export function clearSessionCookie(res: ServerResponse, scope: CookieScope): void {
  appendSetCookie(res, serializeCookie(SESSION_COOKIE, '', scope, 0));
}

function serializeCookie(name: string, value: string, scope: CookieScope, maxAgeSeconds: number): string {
  const parts = [`${name}=${value}`, `Path=${scope.path}`, `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Lax'];
  if (scope.secure) parts.push('Secure');
  return parts.join('; ');
}

function appendSetCookie(res: ServerResponse, cookie: string): void {
  const existing = res.getHeader('Set-Cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader('Set-Cookie', [...list, cookie]);
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}
