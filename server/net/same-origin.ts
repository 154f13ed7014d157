/**
 * Telling the hub's own pages from every other page: other sites, and students' servers, which are
 * other origins on the same host (see DESIGN.md, "Students are isolated"). A cookie rides along with
 * requests that any page of the same host makes to the hub, so a cookie alone never authorises a
 * state change: the request must also show it comes from a page of the hub's own origin.
 *
 * The evidence is `Origin`, else `Referer`, which browsers send over plain HTTP too. `Sec-Fetch-Site`
 * is only a reason to refuse: on a classroom LAN (plain HTTP, not localhost) browsers do not send it,
 * so nothing may depend on its presence.
 *
 * Behind a reverse proxy (nginx at `/jupyter/`, say) the hub's origin is the proxy's: its
 * `X-Forwarded-Proto` and `X-Forwarded-Host` say what the browser used. A page cannot add those
 * headers to a request it sends elsewhere without the target's consent (CORS), so they cannot be
 * used to pass a foreign page off as the hub's.
 */
import type { IncomingMessage } from 'node:http';

/** The hub's origin, as the browser that sent `req` sees it. */
function ownOrigin(req: IncomingMessage, secure: boolean): string | undefined {
  const host = firstValue(req.headers['x-forwarded-host']) ?? req.headers.host;
  if (!host) return undefined;
  const scheme = firstValue(req.headers['x-forwarded-proto']) ?? (secure ? 'https' : 'http');
  return `${scheme}://${host}`;
}

/** Positive evidence that a page of this hub made the request. */
export function fromSameOrigin(req: IncomingMessage, secure: boolean): boolean {
  const own = ownOrigin(req, secure);
  if (!own || fetchedFromElsewhere(req)) return false;
  const { origin, referer } = req.headers;
  if (origin !== undefined) return origin === own;
  return referer !== undefined && originOf(referer) === own;
}

/** Evidence that another origin's page made the request. Non-browser clients send none of these headers. */
export function fromOtherSite(req: IncomingMessage, secure: boolean): boolean {
  if (fetchedFromElsewhere(req)) return true;
  const own = ownOrigin(req, secure);
  const { origin, referer } = req.headers;
  if (origin !== undefined) return origin !== own;
  return referer !== undefined && originOf(referer) !== own;
}

/** `Sec-Fetch-Site` saying the request came from another origin (`same-site` includes a student's server). */
function fetchedFromElsewhere(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** The first of a comma-separated list (proxies append: `client, proxy1`), trimmed. */
function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const first = value?.split(',')[0]?.trim();
  return first || undefined;
}
