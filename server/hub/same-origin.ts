/**
 * Telling the hub's own pages from other sites. A cookie rides along with requests that any site
 * makes to the hub, so a cookie alone never authorises a state change: the request must also show
 * it comes from a page on this hub (Sec-Fetch-Site, else Origin, else Referer, as browsers send them).
 */
import type { IncomingMessage } from 'node:http';

function ownOrigin(req: IncomingMessage, secure: boolean): string | undefined {
  return req.headers.host ? `${secure ? 'https' : 'http'}://${req.headers.host}` : undefined;
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** Positive evidence that a page of this hub made the request. */
export function fromSameOrigin(req: IncomingMessage, secure: boolean): boolean {
  const own = ownOrigin(req, secure);
  if (!own) return false;
  const site = req.headers['sec-fetch-site'];
  if (site) return site === 'same-origin';
  if (req.headers.origin) return req.headers.origin === own;
  return req.headers.referer ? originOf(req.headers.referer) === own : false;
}

/** Evidence that another site made the request. Non-browser clients send none of these headers. */
export function fromOtherSite(req: IncomingMessage, secure: boolean): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site) return site !== 'same-origin' && site !== 'none';
  const origin = req.headers.origin;
  return origin !== undefined && origin !== ownOrigin(req, secure);
}
