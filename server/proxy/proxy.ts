/**
 * The in-process proxy: every request on the public listener comes here first. A request whose
 * path matches a route is forwarded to that route's single-user server; anything else goes to the
 * `fallback` handler (the hub's express app) without another TCP hop.
 *
 * Forwarding follows configurable-http-proxy: the full path and query are forwarded (no prefix
 * stripping), the client's Host is kept, X-Forwarded-For/-Port/-Proto are appended, a route's
 * `lastActivity` moves on responses that finish below 300 and on every websocket frame a client
 * sends, and any failure to reach a target is a 503 with a one-line log, never a stack trace.
 * http-proxy-3 does the piping; this file decides where requests go and what errors look like.
 */

import { Agent as HttpAgent, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Duplex } from 'node:stream';
import { createProxyServer, type ProxyServer } from 'http-proxy-3';
import { type Logger, scrubUrl } from '../logging/logger.js';
import { type ErrorAnswerOptions, type ErrorPageRenderer, rejectUpgrade, sendErrorAnswer } from './error-answer.js';
import { type Route, RouteTable } from './route-table.js';

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
}

export const SERVER_NOT_RUNNING_MESSAGE = 'Your server is not running. It may be starting, or it may have stopped.';
const NO_ROUTE_MESSAGE = 'There is nothing at this address.';
const BAD_PATH_MESSAGE = 'This address is not valid: it contains a malformed %-escape.';
const BAD_TARGET_MESSAGE = 'This server has an invalid address. Ask your teacher to restart it.';

/**
 * The key a request is routed by: the pathname as WHATWG URL parsing leaves it (dot segments
 * resolved, backslashes turned into slashes), percent-decoded. http-proxy-3 forwards the same
 * normalised path, so the route that is chosen and the path the target sees always agree.
 * `undefined` if the path cannot be decoded.
 */
export function routingPath(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url, 'http://lectern.invalid').pathname);
  } catch {
    return undefined;
  }
}

function errorCode(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && code !== '' ? code : error.message;
}

export class Proxy {
  readonly routes: RouteTable;
  private readonly log: Logger;
  private readonly fallback: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  private readonly errorAnswers: ErrorAnswerOptions;
  private readonly forwarder: ProxyServer;
  // One pool per scheme, shared by every route: keep-alive saves a TCP handshake per request to
  // the single-user servers, and closing the pools is how close() ends idle upstream connections.
  private readonly httpAgent = new HttpAgent({ keepAlive: true });
  private httpsAgent: HttpsAgent | undefined;
  /** Client and upstream sockets of upgraded (or upgrading) connections, which no agent owns. */
  private readonly upgradeSockets = new Set<Duplex>();
  private closed = false;

  constructor(options: ProxyOptions) {
    this.log = options.log;
    this.routes = options.routes ?? new RouteTable();
    this.fallback = options.fallback;
    this.errorAnswers = {
      renderErrorPage: options.renderErrorPage,
      homeUrl: options.homeUrl ?? '/hub/home',
      onRenderError: (error) =>
        this.log.error(`error page renderer failed: ${error instanceof Error ? error.message : String(error)}`),
    };
    this.forwarder = createProxyServer({ xfwd: true });

    // http-proxy-3 rethrows an 'error' event that only its own default listener hears. Failures of
    // forwarding reach the per-request callbacks below; what arrives here is an upgrade client
    // socket's own error, which handleUpgrade already handles on the socket.
    this.forwarder.on('error', () => undefined);

    // Once the target's headers are in, a target that dies mid-body does not error the request:
    // its response just closes early, and http-proxy-3's pipe would leave the client waiting
    // forever. Cut the client off too, so it sees the truncation.
    this.forwarder.on('proxyRes', (proxyRes, req, res) => {
      proxyRes.once('close', () => {
        if (proxyRes.complete || res.destroyed || res.writableFinished) return;
        this.log.warn(`proxy error: response cut short for ${scrubUrl(req.url ?? '/')}`);
        res.destroy();
      });
    });

    this.forwarder.on('open', (upstream) => this.trackUpgradeSocket(upstream));
  }

  /** The public listener's 'request' handler. */
  readonly handleRequest: RequestListener = (req, res) => {
    const path = routingPath(req.url ?? '/');
    if (path === undefined) {
      this.sendError(req, res, 400, BAD_PATH_MESSAGE);
      return;
    }
    const route = this.routes.match(path);
    if (route === undefined) {
      if (this.fallback !== undefined) this.fallback(req, res);
      else this.sendError(req, res, 404, NO_ROUTE_MESSAGE);
      return;
    }
    const target = this.targetUrl(route);
    if (target === undefined) {
      this.sendError(req, res, 500, BAD_TARGET_MESSAGE);
      return;
    }
    res.once('finish', () => {
      // CHP's rule: redirects and errors are not activity, so a server nobody uses can be culled
      // even while a browser tab keeps polling it and getting 3xx/4xx.
      if (res.statusCode < 300) route.lastActivity = Date.now();
    });
    this.forwarder.web(req, res, { target, agent: this.agentFor(target) }, (error) => {
      if (res.destroyed) {
        // The client left first (http-proxy-3 reports its request's errors here too): nobody to
        // answer, and nothing wrong with the target.
        this.log.debug(`client went away: ${errorCode(error)} for ${scrubUrl(req.url ?? '/')}`);
        return;
      }
      this.log.warn(`proxy error: ${errorCode(error)} for ${scrubUrl(req.url ?? '/')}`);
      if (res.headersSent) res.destroy();
      else this.sendError(req, res, 503, SERVER_NOT_RUNNING_MESSAGE);
    });
  };

  /** The public listener's 'upgrade' handler: websockets to routed servers, nothing else. */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // Node removes its own error listener from a socket once it is handed over on 'upgrade'; an
    // error without one (a client resetting the connection) would crash the whole process.
    socket.on('error', (error) => {
      this.log.debug(`websocket client error: ${errorCode(error)} for ${scrubUrl(req.url ?? '/')}`);
    });
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.trackUpgradeSocket(socket);

    const path = routingPath(req.url ?? '/');
    if (path === undefined) {
      rejectUpgrade(socket, 400);
      return;
    }
    const route = this.routes.match(path);
    if (route === undefined) {
      rejectUpgrade(socket, 404);
      return;
    }
    const target = this.targetUrl(route);
    if (target === undefined) {
      rejectUpgrade(socket, 500);
      return;
    }

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
    this.forwarder.ws(req, socket, head, { target, agent: this.agentFor(target) }, (error) => {
      // Both the request and, later, the upstream socket report here; answer only the first.
      if (failed) return;
      failed = true;
      this.log.warn(`proxy error: ${errorCode(error)} for ${scrubUrl(req.url ?? '/')}`);
      // After the 101 the socket carries websocket frames, so an HTTP status line would corrupt it.
      if (upgraded) socket.destroy();
      else rejectUpgrade(socket, 503);
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

  private trackUpgradeSocket(socket: Duplex): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.upgradeSockets.add(socket);
    socket.once('close', () => this.upgradeSockets.delete(socket));
  }

  /**
   * The route's target as http-proxy-3 wants it. Route targets may say ws:/wss:, but http-proxy-3
   * picks the http or https module for plain requests by `protocol === "https:"`, so a wss: target
   * would be spoken to in clear text; map them to their http equivalents. `undefined` only if
   * someone replaced `route.target` after RouteTable validated it.
   */
  private targetUrl(route: Route): URL | undefined {
    let url: URL;
    try {
      url = new URL(route.target);
    } catch {
      this.log.error(`invalid target for route ${route.prefix}`);
      return undefined;
    }
    if (url.protocol === 'ws:') url.protocol = 'http:';
    else if (url.protocol === 'wss:') url.protocol = 'https:';
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      this.log.error(`invalid target for route ${route.prefix}`);
      return undefined;
    }
    return url;
  }

  private agentFor(target: URL): HttpAgent {
    if (target.protocol !== 'https:') return this.httpAgent;
    this.httpsAgent ??= new HttpsAgent({ keepAlive: true });
    return this.httpsAgent;
  }

  private sendError(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
    sendErrorAnswer(req, res, status, message, this.errorAnswers);
  }
}
