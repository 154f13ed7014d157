/**
 * The cookies a student's server may set through the proxy. Browsers keep cookies per host, not
 * per port: a cookie one server sets reaches the hub and every other server on the same host,
 * unless its Path keeps it at home. So, of each Set-Cookie a student's server sends:
 *
 * - one named as Lectern names its own (`lectern-…`) is dropped: a server answering
 *   `Set-Cookie: lectern-session=<the student's login>; Path=/hub/` would log the teacher who
 *   opened it in as the student;
 * - its Domain is dropped, so it stays with the host that set it;
 * - a Path outside the server's own URL prefix is narrowed to that prefix. Notebook 6 sets `_xsrf` at
 *   `/`; left there, a student's server could choose the XSRF token that a classmate's server
 *   accepts from the teacher's browser (JupyterHub's GHSA-7r3h-4ph8-w38g).
 *
 * Cookies without a Path default to the folder of the request, which is inside the server's prefix.
 */
import type { SetCookiePolicy } from './proxy.js';

/** Lectern's own cookies all start with this: the login (`lectern-session`) and the gate's (`lectern-server`). */
export const LECTERN_COOKIE_PREFIX = 'lectern-';

/** The hub's policy: routes of students' servers (the hub's, with a `user`) are vetted; others pass. */
export const studentServerCookies: SetCookiePolicy = (route, setCookie) =>
  route.data.user === undefined ? setCookie : scopeServerCookie(setCookie, encodedPath(route.prefix));

/** `setCookie` as a server under `serverPath` (`/user/ann/`, URL-encoded) may set it, or undefined. */
export function scopeServerCookie(setCookie: string, serverPath: string): string | undefined {
  const [pair = '', ...attributes] = setCookie.split(';');
  const name = pair.slice(0, Math.max(0, pair.indexOf('='))).trim();
  if (name === '' || name.startsWith(LECTERN_COOKIE_PREFIX)) return undefined;
  const kept: string[] = [];
  let path: string | undefined;
  for (const attribute of attributes) {
    const key = attribute.split('=', 1)[0]?.trim().toLowerCase();
    if (key === 'domain') continue;
    if (key === 'path') path = attribute.slice(attribute.indexOf('=') + 1).trim();
    else kept.push(attribute.trim());
  }
  if (path !== undefined && !`${path.replace(/\/$/, '')}/`.startsWith(serverPath)) path = serverPath;
  return [pair.trim(), ...(path === undefined ? [] : [`Path=${path}`]), ...kept].join('; ');
}

/** A decoded route prefix (`/user/zoë/`) as browsers send it in a request path. */
function encodedPath(prefix: string): string {
  const path = prefix.split('/').map(encodeURIComponent).join('/');
  return path.endsWith('/') ? path : `${path}/`;
}
