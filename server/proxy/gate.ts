/**
 * The proxy's half of the gate in front of servers that check no logins themselves (plain-mode
 * Jupyter started with a token: see hub/server-gate.ts, the hub's half, which knows who is
 * logged in). For every request to a gated route, this guard:
 *
 * 1. refuses state-changing requests and websocket handshakes from other sites: Jupyter skips its
 *    own XSRF check for token-authenticated requests, and every request it sees carries the token;
 * 2. asks the keeper whether the request is admitted, and sends a browser that is not to the
 *    keeper's login page (API calls and websockets, with no browser to send, get a 403);
 * 3. forwards an admitted request with Lectern's cookies removed (the server has no business seeing
 *    the login) and the server's own token as its Authorization.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../logging/logger.js';
import { withoutCookies } from '../net/cookies.js';
import { fromOtherSite } from '../net/same-origin.js';
import { type GuardVerdict, type RouteGuard, rewriteRequestHeaders } from './proxy.js';
import { LECTERN_COOKIE_PREFIX } from './server-cookies.js';

/** A gated route: its normalised prefix (the proxy's `route.prefix`) and its server's token. */
export interface GatedRoute {
  prefix: string;
  token: string;
}

/** Who decides who gets in: the hub. */
export interface GateKeeper<Route extends GatedRoute> {
  /** Whether the request's browser or client may use the server. */
  admits(req: IncomingMessage, route: Route): boolean;
  /** Where a browser not admitted logs in and is admitted to what it asked for; undefined for an API call. */
  loginPage(req: IncomingMessage, route: Route): string | undefined;
}

/** Methods that change nothing, which another site may send (a link, an image). */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
const CROSS_ORIGIN_MESSAGE = "Cross-origin requests to a student's server are refused.";
const LOG_IN_MESSAGE = 'Log in to the hub first.';
const FORWARD: GuardVerdict = { forward: true };

/** The proxy's guard for the routes in `gated` (by normalised prefix); other routes pass. */
export function gateGuard<Route extends GatedRoute>(
  gated: ReadonlyMap<string, Route>,
  keeper: GateKeeper<Route>,
  options: { secure: boolean; log: Logger },
): RouteGuard {
  return (req, route) => {
    const server = gated.get(route.prefix);
    if (server === undefined) return FORWARD;
    const websocket = req.headers.upgrade !== undefined;
    const method = req.method ?? 'GET';

    if ((websocket || !SAFE_METHODS.has(method)) && fromOtherSite(req, options.secure)) {
      options.log.warn(`refused a cross-origin ${websocket ? 'websocket' : method} to ${server.prefix}`, {
        origin: req.headers.origin ?? req.headers['sec-fetch-site'],
      });
      return { forward: false, status: 403, message: CROSS_ORIGIN_MESSAGE };
    }

    if (!keeper.admits(req, server)) {
      const loginPage = websocket || (method !== 'GET' && method !== 'HEAD') ? undefined : keeper.loginPage(req, server);
      if (loginPage === undefined) return { forward: false, status: 403, message: LOG_IN_MESSAGE };
      return { forward: false, status: 302, message: LOG_IN_MESSAGE, location: loginPage };
    }

    rewriteRequestHeaders(req, {
      cookie: withoutCookies(req.headers.cookie, LECTERN_COOKIE_PREFIX),
      authorization: `token ${server.token}`,
    });
    return FORWARD;
  };
}
