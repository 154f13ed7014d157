/**
 * Where to send a browser after login. `next` comes from the query string, so it is attacker
 * controlled: only a path on this hub is ever followed (no scheme, no host, no `//` or `\`
 * tricks: see the open-redirect cases in the security catalogue).
 */
import type { HubUrls } from './urls.js';

export function safeNextUrl(next: unknown, urls: HubUrls): string | null {
  if (typeof next !== 'string' || next.length === 0 || next.length > 4096) return null;
  // A single leading slash, then not a second slash or backslash; no backslashes or control characters at all.
  // eslint-disable-next-line no-control-regex
  if (!/^\/(?![/\\])/.test(next) || /[\\\u0000-\u001f\u007f]/.test(next)) return null;
  let parsed: URL;
  try {
    parsed = new URL(next, 'http://lectern.invalid');
  } catch {
    return null;
  }
  if (parsed.origin !== 'http://lectern.invalid' || parsed.pathname.startsWith('//')) return null;
  const path = `${parsed.pathname}${parsed.search}${parsed.hash}`;
  if (!path.startsWith(urls.base)) return null;
  // As JupyterHub: a server URL goes through the hub's /hub/user/… handler, which starts the server
  // or explains why it is not running instead of landing on a proxy error.
  const userPrefix = `${urls.base}user/`;
  return path.startsWith(userPrefix) ? urls.hub(`user/${path.slice(userPrefix.length)}`) : path;
}
