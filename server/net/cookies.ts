/**
 * Cookies, read and written: the hub's one place for the Cookie and Set-Cookie headers. The
 * hub's cookies are all HttpOnly and SameSite=Lax, Secure when it speaks HTTPS; which cookies
 * there are, and what they stand for, is for their owners (auth/sessions.ts, the server gate).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface CookieScope {
  path: string;
  secure: boolean;
}

/**
 * A Set-Cookie value: HttpOnly, SameSite=Lax, with `Max-Age` when given (0 clears the cookie), or
 * without, as a cookie that ends with the browser's session.
 */
export function serializeCookie(name: string, value: string, scope: CookieScope, maxAgeSeconds?: number): string {
  const parts = [`${name}=${value}`, `Path=${scope.path}`, ...(maxAgeSeconds === undefined ? [] : [`Max-Age=${maxAgeSeconds}`]), 'HttpOnly', 'SameSite=Lax'];
  if (scope.secure) parts.push('Secure');
  return parts.join('; ');
}

/** Adds a cookie to the answer, beside any it sets already. */
export function appendSetCookie(res: ServerResponse, cookie: string): void {
  const existing = res.getHeader('Set-Cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader('Set-Cookie', [...list, cookie]);
}

/** Adds an HttpOnly, SameSite=Lax cookie to the answer; `maxAgeSeconds` 0 clears it. */
export function setCookie(res: ServerResponse, name: string, value: string, scope: CookieScope, maxAgeSeconds: number): void {
  appendSetCookie(res, serializeCookie(name, value, scope, maxAgeSeconds));
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  return cookieValues(req.headers.cookie, name)[0];
}

/** Every value of the cookies called `name` in a Cookie header (browsers send one per path). */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (header === undefined) return [];
  const values: string[] = [];
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === name) values.push(pair.slice(eq + 1).trim());
  }
  return values;
}

/** The Cookie header without the cookies whose names start with `prefix`, or undefined if none is left. */
export function withoutCookies(header: string | undefined, prefix: string): string | undefined {
  if (header === undefined) return undefined;
  const kept = header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '' && !pair.startsWith(prefix));
  return kept.length === 0 ? undefined : kept.join('; ');
}
