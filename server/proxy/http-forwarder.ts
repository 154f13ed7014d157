/**
 * Forwarding of plain HTTP requests: one `Exchange` per request, on Node's own client with
 * keep-alive pools, streaming both bodies with back-pressure.
 *
 * This replaces http-proxy-3 for web requests (it still carries websockets): on the request path
 * http-proxy-3 parses the URL again, copies the header object twice, pipes with a dozen closures
 * per request, and leaves a client hanging when the target stalls after its headers. Here the event
 * handlers are module-level functions shared by every request; each finds its exchange through a
 * symbol on the emitter it listens to, so a request allocates the exchange and the header list,
 * and Node's own objects, and nothing else.
 */

import {
  type Agent,
  type ClientRequest,
  type IncomingMessage,
  request as httpRequest,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type Logger, scrubUrl } from '../logging/logger.js';
import type { ForwardTarget } from './forward-target.js';
import { clientResponseHeaders, rewriteLocation, type RequestHeaderPolicy, upstreamRequestHeaders } from './forward-headers.js';
import type { ProxyStats } from './proxy-stats.js';
import type { Route } from './route-table.js';

export const SERVER_NOT_RUNNING_MESSAGE = 'Your server is not running. It may be starting, or it may have stopped.';
export const SERVER_TIMED_OUT_MESSAGE = 'Your server did not answer in time. It may be busy; try again in a moment.';

/** What exchanges share: the proxy's settings and services. */
export interface ForwardingContext {
  readonly log: Logger;
  readonly stats: ProxyStats;
  readonly headerPolicy: RequestHeaderPolicy;
  /** Idle time allowed to the target, before and after its headers; 0 for none. */
  readonly proxyTimeout: number;
  readonly autoRewrite: boolean;
  readonly protocolRewrite: string | undefined;
  /** Vets each Set-Cookie of a response (see `ProxyOptions.setCookiePolicy`). */
  readonly setCookiePolicy: ((route: Route, setCookie: string) => string | undefined) | undefined;
  agentFor(target: ForwardTarget): Agent;
  /** Answers one of the proxy's own errors (counted and rendered by the proxy). */
  answerError(req: IncomingMessage, res: ServerResponse, status: number, message: string): void;
}

const EXCHANGE = Symbol('lectern.exchange');
type Tagged = { [EXCHANGE]?: Exchange };

function exchangeOf(emitter: object): Exchange {
  return (emitter as Tagged)[EXCHANGE] as Exchange;
}

/** Methods a repeated request means the same thing for, so a reset on a reused connection may be retried. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** One proxied request and its response. */
export class Exchange {
  /** Set by `upstreamRequestHeaders`: whether a request body must be streamed on. */
  hasBody = false;
  upstream: ClientRequest | undefined;
  upstreamResponse: IncomingMessage | undefined;
  status = 0;
  private readonly headers: string[];
  private retried = false;
  private failed = false;
  private watchingClientDrain = false;

  constructor(
    private readonly context: ForwardingContext,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly route: Route,
    private readonly target: ForwardTarget,
    private readonly path: string,
  ) {
    this.headers = upstreamRequestHeaders(req, target, context.headerPolicy, this);
  }

  start(): void {
    (this.res as Tagged)[EXCHANGE] = this;
    this.res.on('close', onClientClose);
    this.send();
    if (this.hasBody) {
      (this.req as Tagged)[EXCHANGE] = this;
      this.req.on('data', onClientData);
      this.req.on('end', onClientEnd);
    }
  }

  /** Issues the upstream request (again, after a reset on a reused keep-alive connection). */
  send(): void {
    const target = this.target;
    const upstream = (target.secure ? httpsRequest : httpRequest)({
      hostname: target.hostname,
      port: target.port,
      socketPath: target.socketPath,
      method: this.req.method,
      path: this.path,
      headers: this.headers,
      agent: this.context.agentFor(target),
    });
    (upstream as Tagged)[EXCHANGE] = this;
    this.upstream = upstream;
    upstream.on('response', onUpstreamResponse);
    upstream.on('error', onUpstreamError);
    if (this.context.proxyTimeout > 0) {
      upstream.setTimeout(this.context.proxyTimeout);
      upstream.on('timeout', onUpstreamTimeout);
    }
    if (this.hasBody) upstream.on('drain', onUpstreamDrain);
    else upstream.end();
  }

  respond(upstreamResponse: IncomingMessage): void {
    const res = this.res;
    this.upstreamResponse = upstreamResponse;
    if (res.destroyed) {
      upstreamResponse.resume();
      return;
    }
    const status = upstreamResponse.statusCode ?? 502;
    this.status = status;
    const policy = this.context.setCookiePolicy;
    const headers = clientResponseHeaders(upstreamResponse.rawHeaders, policy && ((cookie) => policy(this.route, cookie)));
    if (this.context.autoRewrite || this.context.protocolRewrite !== undefined) this.rewriteLocation(headers, status);
    try {
      const reason = upstreamResponse.statusMessage;
      if (reason) res.writeHead(status, reason, headers);
      else res.writeHead(status, headers);
    } catch (error) {
      // A header Node's parser let through but its writer refuses: as bad as no answer at all.
      upstreamResponse.destroy();
      this.fail(error as Error);
      return;
    }
    this.context.stats.countResponse(status);
    (upstreamResponse as Tagged)[EXCHANGE] = this;
    upstreamResponse.on('data', onUpstreamData);
    upstreamResponse.on('end', onUpstreamEnd);
    upstreamResponse.on('close', onUpstreamClose);
  }

  /** The target could not be reached, reset the connection, timed out or sent a broken answer. */
  fail(error: Error): void {
    if (this.failed) return;
    const { req, res } = this;
    const code = errorCode(error);
    if (res.destroyed) {
      // The client left first (its leaving destroys the upstream request): nothing is wrong upstream.
      this.failed = true;
      this.context.log.debug(`client went away: ${code} for ${scrubUrl(req.url ?? '/')}`);
      return;
    }
    if (res.writableEnded) {
      // The answer is complete and the target stopped reading the rest of the body (it answered
      // early, a 413 say, and closed): nothing to report, and the client's answer must stay whole.
      this.failed = true;
      this.stopBody();
      this.context.log.debug(`target stopped reading the body: ${code} for ${scrubUrl(req.url ?? '/')}`);
      return;
    }
    if (this.canRetry(code)) {
      // The target closed an idle pooled connection just as it was reused (nodejs/node#47130):
      // the request never reached it, so sending it once more on a fresh connection is safe.
      this.retried = true;
      this.send();
      return;
    }
    this.failed = true;
    this.context.stats.upstreamErrors++;
    this.context.log.warn(`proxy error: ${code} for ${scrubUrl(req.url ?? '/')}`);
    this.stopBody();
    if (res.headersSent) res.destroy();
    else this.context.answerError(req, res, 503, code === 'ETIMEDOUT' ? SERVER_TIMED_OUT_MESSAGE : SERVER_NOT_RUNNING_MESSAGE);
  }

  /** Stops feeding a dead upstream request; the rest of the client's body is read and dropped. */
  stopBody(): void {
    if (!this.hasBody) return;
    this.req.removeListener('data', onClientData);
    this.req.removeListener('end', onClientEnd);
    this.req.resume();
  }

  private canRetry(code: string): boolean {
    return (
      !this.retried &&
      !this.hasBody &&
      this.upstreamResponse === undefined &&
      this.upstream?.reusedSocket === true &&
      (code === 'ECONNRESET' || code === 'EPIPE') &&
      IDEMPOTENT.has(this.req.method ?? '')
    );
  }

  /** Resumes the target's response when the client catches up; registered on first back-pressure only. */
  watchClientDrain(): void {
    if (this.watchingClientDrain) return;
    this.watchingClientDrain = true;
    this.res.on('drain', onClientDrain);
  }

  private rewriteLocation(headers: string[], status: number): void {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if ((headers[i] as string).toLowerCase() !== 'location') continue;
      const rewritten = rewriteLocation(
        headers[i + 1] as string,
        status,
        this.target,
        this.req.headers.host,
        this.context.autoRewrite,
        this.context.protocolRewrite,
      );
      if (rewritten !== undefined) headers[i + 1] = rewritten;
    }
  }
}

// The shared event handlers. `this` is the emitter, as Node calls listeners.

function onClientData(this: IncomingMessage, chunk: Buffer): void {
  const exchange = exchangeOf(this);
  // CHP counts every chunk of a request body as activity, whatever the answer turns out to be.
  exchange.route.lastActivity = Date.now();
  if (exchange.upstream?.write(chunk) === false) this.pause();
}

function onClientEnd(this: IncomingMessage): void {
  exchangeOf(this).upstream?.end();
}

function onUpstreamDrain(this: ClientRequest): void {
  const exchange = exchangeOf(this);
  if (exchange.upstream === this) exchange.req.resume();
}

function onClientClose(this: ServerResponse): void {
  if (this.writableFinished) return;
  // The client left before the answer was complete: let go of the target's connection too.
  const exchange = exchangeOf(this);
  exchange.upstream?.destroy();
}

function onUpstreamResponse(this: ClientRequest, upstreamResponse: IncomingMessage): void {
  const exchange = exchangeOf(this);
  if (exchange.upstream === this) exchange.respond(upstreamResponse);
  else upstreamResponse.resume();
}

function onUpstreamError(this: ClientRequest, error: Error): void {
  const exchange = exchangeOf(this);
  if (exchange.upstream === this) exchange.fail(error);
}

function onUpstreamTimeout(this: ClientRequest): void {
  const error = new Error('the target did not answer in time') as NodeJS.ErrnoException;
  error.code = 'ETIMEDOUT';
  // Before the target's headers this becomes a 503; after them the client's response is cut off,
  // so it sees a truncated answer instead of waiting forever (where CHP leaves it hanging).
  this.destroy(error);
}

function onUpstreamData(this: IncomingMessage, chunk: Buffer): void {
  const exchange = exchangeOf(this);
  if (exchange.res.write(chunk)) return;
  this.pause();
  exchange.watchClientDrain();
}

function onClientDrain(this: ServerResponse): void {
  exchangeOf(this).upstreamResponse?.resume();
}

function onUpstreamEnd(this: IncomingMessage): void {
  const exchange = exchangeOf(this);
  exchange.res.end();
  if (!exchange.req.complete && exchange.upstream) {
    // The target answered before taking the whole upload (a 413, say). The rest is of no use to
    // it, and the client's upload may be paused waiting for the target: read it and drop it, and
    // let go of a connection that can never be reused with a request half sent.
    exchange.stopBody();
    exchange.upstream.destroy();
  }
  // CHP's rule: redirects and errors are not activity, so a server nobody uses can be culled even
  // while a browser tab keeps polling it and getting 3xx/4xx.
  if (exchange.status < 300) exchange.route.lastActivity = Date.now();
}

function onUpstreamClose(this: IncomingMessage): void {
  if (this.complete) return;
  const exchange = exchangeOf(this);
  if (exchange.res.destroyed || exchange.res.writableEnded) return;
  // The target died mid-body: cut the client off too, so it sees the truncation.
  exchange.fail(new Error('response cut short'));
}

export function errorCode(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && code !== '' ? code : error.message;
}
