/**
 * The proxy: every request on the public listener comes here first. A request whose path matches a
 * route is forwarded to that route's target; anything else goes to the `fallback` handler (the
 * hub's express app, in-process, no extra TCP hop), or gets a 404.
 *
 * It behaves as configurable-http-proxy 5.3 does (the spec is
 * `reference/configurable-http-proxy.md`), so the hub's routes mean the same here and on a CHP, and
 * `lectern proxy` can stand in for CHP under JupyterHub:
 * - routing by longest whole-segment prefix of the decoded, dot-resolved path (or of `/<host>/<path>`
 *   with host routing), case-sensitive;
 * - the full original path and query forwarded (joined to the target's own path), Host kept,
 *   X-Forwarded-* added, custom headers last;
 * - `lastActivity` moved by responses below 300, by request-body chunks and by client websocket
 *   frames;
 * - 404 without a route, 503 when the target cannot be reached, from an error target, an error
 *   directory or Lectern's own pages; websockets get a bare status line;
 * - `/_chp_healthz` answered by the proxy itself;
 * - beyond CHP, an optional `guard` that may refuse, redirect or rewrite a routed request before it
 *   is forwarded (the hub's gate for servers that check no logins themselves), an optional
 *   `setCookiePolicy` that vets the cookies a target sets, and caps on connections and websockets
 *   below the process's file-descriptor limit (`connections`, which every public listener joins).
 * Plain HTTP goes through `http-forwarder.ts`; websockets through http-proxy-3.
 */

import { Agent as HttpAgent, type ClientRequest, type IncomingMessage, type RequestListener, type ServerResponse, validateHeaderName, validateHeaderValue } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createProxyServer, type ProxyServer, type ServerOptions as ForwarderOptions } from 'http-proxy-3';
import { type Logger, scrubUrl } from '../logging/logger.js';
import { type ErrorAnswerOptions, type ErrorPageRenderer, rejectUpgrade } from './error-answer.js';
import { ConnectionGuard, type ConnectionLimits, connectionLimits, fileDescriptorLimit } from './connection-guard.js';
import { ErrorResponder } from './error-responder.js';
import type { RequestHeaderPolicy } from './forward-headers.js';
import { type ForwardTarget, parseForwardTarget } from './forward-target.js';
import { errorCode, Exchange, type ForwardingContext } from './http-forwarder.js';
import { ProxyStats } from './proxy-stats.js';
import { forwardedPath, hostKey, joinUrl, routingPath, segmentCount, stripSegments } from './request-path.js';
import { type Route, RouteTable } from './route-table.js';

export { SERVER_NOT_RUNNING_MESSAGE } from './http-forwarder.js';

/** TLS material the proxy presents to https targets (CHP's `--client-ssl-*`). */
export interface ClientTlsOptions {
  key?: string | Buffer | undefined;
  cert?: string | Buffer | undefined;
  ca?: string | Buffer | Array<string | Buffer> | undefined;
}

export interface ProxyOptions {
  log: Logger;
  /** The table to route by; the hub keeps it in step with its database. A new one if omitted. */
  routes?: RouteTable;
  /** Handles requests that match no route (the hub's express app). Without it they get a 404. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Renders error pages for browsers; a small built-in page is used if omitted. */
  renderErrorPage?: ErrorPageRenderer;
  /** The "Go to your home page" link on the built-in error page. */
  homeUrl?: string;
  /** Add X-Forwarded-For/-Port/-Proto/-Host (default true; CHP's `--no-x-forward` turns it off). */
  xForward?: boolean;
  /** Route by `/<Host without port>/<path>` (CHP's `--host-routing`; the host is compared lower-cased). */
  hostRouting?: boolean;
  /** Join the target URL's own path before the request's (default true). */
  prependPath?: boolean;
  /** Keep the matched route prefix in the forwarded path (default true). */
  includePrefix?: boolean;
  /** Headers added to every proxied request, web and websocket, replacing the client's. */
  customHeaders?: Readonly<Record<string, string>>;
  /** Send the target's host as Host (CHP's `--change-origin`). */
  changeOrigin?: boolean;
  /** Rewrite the host of redirects that point at the target to the client's Host. */
  autoRewrite?: boolean;
  /** Rewrite the scheme of redirects that point at the target (`https`). */
  protocolRewrite?: string;
  /** Fetch error pages from `<errorTarget>/<code>?url=…` (JupyterHub's `/hub/error`). */
  errorTarget?: string;
  /** Serve error pages from `<errorPath>/<code>.html` or `error.html`. */
  errorPath?: string;
  /**
   * Milliseconds a target may stay silent, before or during its response (0 or omitted: no limit).
   * Before its headers the client gets a 503; after them the client's response is aborted.
   */
  proxyTimeout?: number;
  /** Do not verify https targets' certificates (CHP's `--insecure`, which CHP 5.1+ ignores). */
  insecure?: boolean;
  /** Client certificate and CAs for https targets (CHP's `--client-ssl-*`). */
  clientTls?: ClientTlsOptions;
  /**
   * Asked about every routed request and websocket handshake before it is forwarded (the hub's
   * gate in front of servers that check no logins themselves). Without it everything routed goes.
   */
  guard?: RouteGuard;
  /**
   * Asked about each Set-Cookie of a routed response, web or websocket handshake: the cookie to
   * pass on (the same, or changed), or undefined to drop it. Without it every cookie goes through,
   * as CHP passes them. The hub keeps a student's server from setting cookies for the hub or for
   * other servers with it.
   */
  setCookiePolicy?: SetCookiePolicy;
  /**
   * Caps on connections and websockets, so they cannot use up the process's file descriptors (see
   * connection-guard.ts). Sized from this process's open-file limit if omitted.
   */
  connectionLimits?: ConnectionLimits;
}

export type SetCookiePolicy = (route: Route, setCookie: string) => string | undefined;

/**
 * Decides whether a routed request or websocket handshake is forwarded; it may rewrite the
 * request's headers first, with `rewriteRequestHeaders` only. It runs on every request to every
 * route, so it must be cheap. It should not throw; if it does, the request gets a 500, never a forward.
 */
export type RouteGuard = (req: IncomingMessage, route: Route) => GuardVerdict;

/**
 * What a guard decided. A refused request gets `status` with `message` (an error page or JSON), or,
 * with `location`, a redirect (`status` is then a 3xx) with an empty body; a refused websocket
 * handshake gets the bare status line either way.
 */
export type GuardVerdict =
  | { forward: true }
  | { forward: false; status: number; message: string; location?: string };

/**
 * Sets (or, with `undefined`, removes) request headers before the request is forwarded: the way a
 * `RouteGuard` changes what the target sees. Plain HTTP is forwarded from `req.rawHeaders` (every
 * header as sent, in order) and websockets from `req.headers`, so both are changed together; every
 * client copy of a named header goes, and the new value is appended once. Names are lower-case.
 */
export function rewriteRequestHeaders(req: IncomingMessage, changes: Readonly<Record<string, string | undefined>>): void {
  // Node builds `headers` from `rawHeaders` on first read, counting the headers it parsed: build it
  // now, before `rawHeaders` changes length under it.
  const headers = req.headers;
  const raw = req.rawHeaders;
  const rewritten: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (!Object.hasOwn(changes, name.toLowerCase())) rewritten.push(name, raw[i + 1] as string);
  }
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) {
      delete headers[name];
    } else {
      headers[name] = value;
      rewritten.push(name, value);
    }
  }
  req.rawHeaders = rewritten;
}

/** The route a websocket handshake was forwarded on, for vetting the cookies its answer sets. */
const ROUTE = Symbol('lectern.route');
type RoutedRequest = IncomingMessage & { [ROUTE]?: Route };

/** Applies `policy` to the Set-Cookie headers of a parsed header object, in place. */
function vetSetCookieHeader(headers: IncomingMessage['headers'], route: Route, policy: SetCookiePolicy): void {
  const cookies = headers['set-cookie'];
  if (cookies === undefined) return;
  const kept = cookies.map((cookie) => policy(route, cookie)).filter((cookie): cookie is string => cookie !== undefined);
  if (kept.length === 0) delete headers['set-cookie'];
  else headers['set-cookie'] = kept;
}

const HEALTH_CHECK_PATH = '/_chp_healthz';
const HEALTH_CHECK_BODY = JSON.stringify({ status: 'OK' });
const NO_ROUTE_MESSAGE = 'There is nothing at this address.';
const BAD_PATH_MESSAGE = 'This address is not valid: it contains a malformed %-escape.';
const BAD_TARGET_MESSAGE = 'This server has an invalid address. Ask your teacher to restart it.';
const TOO_BUSY_MESSAGE = 'Lectern has too many connections open right now. Try again in a moment.';
const GUARD_FAILED_MESSAGE = 'Lectern could not check this request. Try again; if it keeps failing, ask your teacher to look at the hub log.';
const FORWARD: GuardVerdict = { forward: true };
/** TCP keepalive on websockets, so a peer that vanished without a FIN is noticed in minutes, not hours. */
const WEBSOCKET_KEEPALIVE_MS = 30_000;
/** How long a closing websocket's client may take to accept what is left before it is cut. */
const WEBSOCKET_LINGER_MS = 10_000;

export class Proxy {
  readonly routes: RouteTable;
  /** Counters for metrics; read them, never write them. */
  readonly stats = new ProxyStats();
  private readonly log: Logger;
  private readonly fallback: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  private readonly guard: RouteGuard | undefined;
  private readonly setCookiePolicy: SetCookiePolicy | undefined;
  private readonly errors: ErrorResponder;
  private readonly hostRouting: boolean;
  private readonly prependPath: boolean;
  private readonly includePrefix: boolean;
  private readonly forwarding: ForwardingContext;
  private readonly websockets: ProxyServer;
  private readonly websocketOptions: ForwarderOptions;
  // One pool per scheme, shared by every route: keep-alive saves a TCP handshake per request to
  // the targets, and destroying the pools is how close() ends idle upstream connections.
  /** Counts the public listeners' connections and websockets against the descriptor limit. */
  readonly connections: ConnectionGuard;
  private readonly httpAgent = new HttpAgent({ keepAlive: true });
  private httpsAgent: HttpsAgent | undefined;
  private readonly httpsAgentOptions: HttpsAgentOptions;
  /** Parsed targets by route, so a request does not parse its target's URL again. */
  private readonly targets = new WeakMap<Route, ForwardTarget>();
  /** Client and upstream sockets of upgraded (or upgrading) connections, which no agent owns. */
  private readonly upgradeSockets = new Set<Duplex>();
  private closed = false;

  constructor(options: ProxyOptions) {
    this.log = options.log;
    this.connections = new ConnectionGuard(options.connectionLimits ?? connectionLimits(fileDescriptorLimit()), options.log);
    this.routes = options.routes ?? new RouteTable();
    this.fallback = options.fallback;
    this.guard = options.guard;
    this.hostRouting = options.hostRouting ?? false;
    this.prependPath = options.prependPath ?? true;
    this.includePrefix = options.includePrefix ?? true;
    const customHeaders = Object.entries(options.customHeaders ?? {});
    for (const [name, value] of customHeaders) {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    }
    if (options.proxyTimeout !== undefined && !(options.proxyTimeout >= 0)) {
      throw new TypeError(`proxyTimeout must be a number of milliseconds, not ${String(options.proxyTimeout)}`);
    }
    this.httpsAgentOptions = {
      keepAlive: true,
      // Agent options override the request's, so this reaches websockets through http-proxy-3 as well.
      rejectUnauthorized: options.insecure !== true,
      key: options.clientTls?.key,
      cert: options.clientTls?.cert,
      ca: options.clientTls?.ca,
    };
    const answers: ErrorAnswerOptions = {
      renderErrorPage: options.renderErrorPage,
      homeUrl: options.homeUrl ?? '/hub/home',
      onRenderError: (error) =>
        this.log.error(`error page renderer failed: ${error instanceof Error ? error.message : String(error)}`),
    };
    this.errors = new ErrorResponder({
      log: this.log,
      errorTarget: options.errorTarget,
      errorPath: options.errorPath,
      answers,
      agentFor: (target) => this.agentFor(target),
    });
    const headerPolicy: RequestHeaderPolicy = {
      xForward: options.xForward ?? true,
      changeOrigin: options.changeOrigin ?? false,
      customHeaders,
      customNames: new Set(customHeaders.map(([name]) => name.toLowerCase())),
    };
    this.setCookiePolicy = options.setCookiePolicy;
    this.forwarding = {
      log: this.log,
      setCookiePolicy: options.setCookiePolicy,
      stats: this.stats,
      headerPolicy,
      proxyTimeout: options.proxyTimeout ?? 0,
      autoRewrite: options.autoRewrite ?? false,
      protocolRewrite: options.protocolRewrite,
      agentFor: (target) => this.agentFor(target),
      answerError: (req, res, status, message) => this.answerError(req, res, status, message),
    };

    this.websockets = createProxyServer({});
    this.websocketOptions = {
      xfwd: headerPolicy.xForward,
      prependPath: this.prependPath,
      changeOrigin: headerPolicy.changeOrigin,
      // http-proxy-3 merges these over the client's lower-cased header names.
      headers: Object.fromEntries(customHeaders.map(([name, value]) => [name.toLowerCase(), value])),
    };
    // http-proxy-3 rethrows an 'error' event that only its own default listener hears. Failures of
    // forwarding reach the per-request callbacks below; what arrives here is an upgrade client
    // socket's own error, which handleUpgrade already handles on the socket.
    this.websockets.on('error', () => undefined);
    this.websockets.on('proxyReqWs', (upstreamRequest, req, socket) => this.watchWebsocket(upstreamRequest, req, socket as Socket));
    this.websockets.on('open', (upstream) => {
      // After http-proxy-3's own socket setup, which asks for keepalive with the OS's 2-hour delay.
      upstream.setKeepAlive(true, WEBSOCKET_KEEPALIVE_MS);
      this.trackUpgradeSocket(upstream);
    });
  }

  /** The public listener's 'request' handler. */
  readonly handleRequest: RequestListener = (req, res) => {
    const url = req.url ?? '/';
    if (url === HEALTH_CHECK_PATH) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(HEALTH_CHECK_BODY);
      return;
    }
    const path = forwardedPath(url);
    const key = path === undefined ? undefined : routingPath(path);
    if (path === undefined || key === undefined) {
      this.answerError(req, res, 400, BAD_PATH_MESSAGE);
      return;
    }
    const route = this.match(req, key);
    if (route === undefined) {
      if (this.fallback !== undefined) this.fallback(req, res);
      else this.answerError(req, res, 404, NO_ROUTE_MESSAGE);
      return;
    }
    const target = this.targetFor(route);
    if (target === undefined) {
      this.answerError(req, res, 500, BAD_TARGET_MESSAGE);
      return;
    }
    const verdict = this.askGuard(req, route);
    if (!verdict.forward) {
      if (verdict.location === undefined) {
        this.answerError(req, res, verdict.status, verdict.message);
      } else {
        this.stats.countResponse(verdict.status);
        res.writeHead(verdict.status, { Location: verdict.location, 'Cache-Control': 'no-store', 'Content-Length': '0' });
        res.end();
      }
      return;
    }
    if (!this.connections.mayForward()) {
      // Closing this connection makes room for the hub's own pages.
      res.shouldKeepAlive = false;
      this.answerError(req, res, 503, TOO_BUSY_MESSAGE);
      return;
    }
    new Exchange(this.forwarding, req, res, route, target, joinUrl(this.prependPath ? target.basePath : '/', this.withoutPrefix(route, path))).start();
  };

  /** The public listener's 'upgrade' handler: websockets to routed targets, nothing else. */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // Node removes its own error listener from a socket once it is handed over on 'upgrade'; an
    // error without one (a client resetting the connection) would crash the whole process.
    socket.on('error', (error) => {
      this.log.debug(`websocket client error: ${errorCode(error)} for ${scrubUrl(req.url ?? '/')}`);
    });
    // Only websocket upgrades are proxied (as CHP): an h2c or POST upgrade is dropped.
    if (this.closed || req.method !== 'GET' || req.headers.upgrade?.toLowerCase() !== 'websocket') {
      socket.destroy();
      return;
    }
    this.trackUpgradeSocket(socket);

    const path = forwardedPath(req.url ?? '/');
    const key = path === undefined ? undefined : routingPath(path);
    if (path === undefined || key === undefined) {
      this.rejectUpgrade(socket, 400);
      return;
    }
    const route = this.match(req, key);
    if (route === undefined) {
      this.rejectUpgrade(socket, 404);
      return;
    }
    const target = this.targetFor(route);
    if (target === undefined) {
      this.rejectUpgrade(socket, 500);
      return;
    }
    const verdict = this.askGuard(req, route);
    if (!verdict.forward) {
      this.rejectUpgrade(socket, verdict.status);
      return;
    }
    if (!this.connections.admitWebsocket(socket)) {
      this.rejectUpgrade(socket, 503);
      return;
    }
    // http-proxy-3 joins the target's path itself, from req.url.
    req.url = this.withoutPrefix(route, path);
    (req as RoutedRequest)[ROUTE] = route;

    // http-proxy-3 pipes the target's socket into the client's right after relaying the 101, and
    // that 'pipe' event is the first moment a 'data' listener is safe: added earlier, it would
    // start the client socket flowing before the pipe to the target exists, and frames would be
    // lost.
    let upgraded = false;
    socket.once('pipe', () => {
      upgraded = true;
      socket.on('data', () => {
        route.lastActivity = Date.now();
      });
    });

    let failed = false;
    const options = { ...this.websocketOptions, target: target.wsTarget, agent: this.agentFor(target) };
    this.websockets.ws(req, socket, head, options, (error) => {
      // Both the request and, later, the upstream socket report here; answer only the first.
      if (failed) return;
      failed = true;
      this.stats.upstreamErrors++;
      this.log.warn(`proxy error: ${errorCode(error)} for ${scrubUrl(req.url ?? '/')}`);
      // After the 101 the socket carries websocket frames, so an HTTP status line would corrupt it.
      if (upgraded) socket.destroy();
      else this.rejectUpgrade(socket, 503);
    });
  };

  /**
   * Drops every connection the proxy holds: pooled and in-flight upstream sockets, and both ends of
   * every websocket. Requests still in flight fail as they would if their server died. Idempotent.
   * The public listener is not the proxy's; whoever created it closes it.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.httpAgent.destroy();
    this.httpsAgent?.destroy();
    for (const socket of this.upgradeSockets) socket.destroy();
    this.upgradeSockets.clear();
  }

  private match(req: IncomingMessage, key: string): Route | undefined {
    if (!this.hostRouting) return this.routes.match(key);
    const host = req.headers.host;
    // Without a Host (HTTP/1.0) only the default route can apply.
    if (host === undefined || host === '') return this.routes.get('/');
    return this.routes.match(`${hostKey(host)}${key}`);
  }

  /** `path` as forwarded under `route`: whole, or without the route's own segments. */
  private withoutPrefix(route: Route, path: string): string {
    if (this.includePrefix) return path;
    // A host-routing key starts with the host, which is not part of the path.
    const hostSegments = this.hostRouting && route.prefix !== '/' ? 1 : 0;
    return stripSegments(path, segmentCount(route.prefix) - hostSegments);
  }

  /** The route's parsed target, cached while the route's target string stays the same. */
  private targetFor(route: Route): ForwardTarget | undefined {
    const cached = this.targets.get(route);
    if (cached !== undefined && cached.source === route.target) return cached;
    try {
      const target = parseForwardTarget(route.target);
      this.targets.set(route, target);
      return target;
    } catch {
      this.log.error(`invalid target for route ${route.prefix}`);
      return undefined;
    }
  }

  /** The guard's verdict on a routed request; a guard that fails refuses rather than forwards. */
  private askGuard(req: IncomingMessage, route: Route): GuardVerdict {
    if (this.guard === undefined) return FORWARD;
    try {
      return this.guard(req, route);
    } catch (error) {
      this.log.error(`route guard failed for ${scrubUrl(req.url ?? '/')}: ${error instanceof Error ? error.message : String(error)}`);
      return { forward: false, status: 500, message: GUARD_FAILED_MESSAGE };
    }
  }

  private agentFor(target: ForwardTarget): HttpAgent {
    if (!target.secure) return this.httpAgent;
    this.httpsAgent ??= new HttpsAgent(this.httpsAgentOptions);
    return this.httpsAgent;
  }

  private answerError(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
    this.stats.countResponse(status);
    this.errors.respond(req, res, status, message);
  }

  private rejectUpgrade(socket: Duplex, status: number): void {
    this.stats.countResponse(status);
    rejectUpgrade(socket, status);
  }

  /**
   * Counts a websocket and ties its two sockets' lives together. http-proxy-3 only half-closes the
   * other side when one side closes, and the public listener allows half-open sockets, so a client
   * that never closes its side would keep both its socket and its file descriptor forever.
   */
  private watchWebsocket(upstreamRequest: ClientRequest, req: IncomingMessage, socket: Socket): void {
    socket.setKeepAlive(true, WEBSOCKET_KEEPALIVE_MS);
    const timeout = this.forwarding.proxyTimeout;
    if (timeout > 0) {
      // A target that accepts the connection but never answers the upgrade gets a 503, not a hang;
      // http-proxy-3 clears the socket's timeout once upgraded.
      upstreamRequest.setTimeout(timeout, () => {
        const error = new Error('the target did not answer in time') as NodeJS.ErrnoException;
        error.code = 'ETIMEDOUT';
        upstreamRequest.destroy(error);
      });
    }
    // A client that gives up while the target has not answered the handshake yet (it closes, or
    // only half-closes: the listener allows half-open sockets) must not leave that request open.
    const abandon = (): void => {
      upstreamRequest.destroy();
      socket.destroy();
    };
    if (socket.destroyed || socket.readableEnded) {
      abandon();
      return;
    }
    socket.once('end', abandon);
    socket.once('close', abandon);
    const handshakeDone = (): void => {
      socket.removeListener('end', abandon);
      socket.removeListener('close', abandon);
    };
    // These listeners run before http-proxy-3's own, which write the answer's headers to the client.
    const route = (req as RoutedRequest)[ROUTE];
    const vetCookies = (response: IncomingMessage): void => {
      if (route !== undefined && this.setCookiePolicy !== undefined) vetSetCookieHeader(response.headers, route, this.setCookiePolicy);
    };
    upstreamRequest.once('response', (response: IncomingMessage) => {
      handshakeDone();
      vetCookies(response);
      this.stats.countResponse(response.statusCode ?? 0);
    });
    upstreamRequest.once('upgrade', (response: IncomingMessage, upstream: Socket) => {
      handshakeDone();
      vetCookies(response);
      this.stats.countResponse(101);
      this.stats.websocketsOpened++;
      this.stats.activeWebsockets++;
      upstream.once('close', () => {
        this.stats.activeWebsockets--;
        if (socket.destroyed) return;
        // Let the client have what the target sent last, but not forever.
        socket.end();
        const linger = setTimeout(() => socket.destroy(), WEBSOCKET_LINGER_MS);
        linger.unref();
        socket.once('close', () => clearTimeout(linger));
      });
      socket.once('close', () => upstream.destroy());
    });
  }

  private trackUpgradeSocket(socket: Duplex): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.upgradeSockets.add(socket);
    socket.once('close', () => this.upgradeSockets.delete(socket));
  }
}
