/**
 * The public listener a Proxy serves on, with the limits that keep slow or hostile clients from
 * holding connections forever: a deadline for the request headers, one for the whole request, an
 * idle timeout (CHP's `--timeout`), a keep-alive timeout and a cap on header size. Its connections
 * count against the proxy's caps below the file-descriptor limit (connection-guard.ts).
 */

import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { ListenerRole } from './connection-guard.js';
import type { Proxy } from './proxy.js';

export interface PublicListenerOptions {
  /** Serve TLS with these options (key, cert, …); plain HTTP without. */
  tls?: HttpsServerOptions | undefined;
  /**
   * CHP's `--timeout`: milliseconds a client's connection may stay idle while one of its requests
   * is in flight, after which it is dropped without an answer, as CHP does (0: no limit; the
   * default). Websockets are not affected.
   */
  timeout?: number | undefined;
  /** Milliseconds an idle keep-alive connection is kept open (CHP's default: 5000). */
  keepAliveTimeout?: number | undefined;
  /** Milliseconds a client has to send all of a request's headers (default 20 s; slowloris). */
  headersTimeout?: number | undefined;
  /** Milliseconds a client has to send a whole request, body included (default 300 s, Node's). */
  requestTimeout?: number | undefined;
  /** Largest request header block in bytes (default 16 KiB, Node's); larger gets a 431. */
  maxHeaderSize?: number | undefined;
  /** What it carries, for the connection caps (default: the hub's address). */
  role?: ListenerRole;
}

export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
export const DEFAULT_HEADERS_TIMEOUT_MS = 20_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;
export const DEFAULT_MAX_HEADER_SIZE = 16 * 1024;
/** How often Node checks connections against the header and request deadlines (its default is 30 s). */
const CONNECTIONS_CHECK_INTERVAL_MS = 2_000;

/** A server wired to `proxy` ('request' and 'upgrade'), not yet listening. */
export function createPublicListener(proxy: Proxy, options: PublicListenerOptions = {}): Server {
  const limits = {
    keepAlive: true,
    keepAliveTimeout: options.keepAliveTimeout ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    headersTimeout: options.headersTimeout ?? DEFAULT_HEADERS_TIMEOUT_MS,
    requestTimeout: options.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT_MS,
    maxHeaderSize: options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE,
    connectionsCheckingInterval: CONNECTIONS_CHECK_INTERVAL_MS,
  };
  if (limits.requestTimeout > 0 && limits.headersTimeout > limits.requestTimeout) {
    throw new RangeError('The headers timeout cannot be longer than the request timeout.');
  }
  const server: Server = options.tls ? createHttpsServer({ ...options.tls, ...limits }) : createHttpServer(limits);
  // The socket idle timeout while a request is in flight; Node uses keepAliveTimeout between requests.
  server.timeout = options.timeout ?? 0;
  server.on('request', proxy.handleRequest);
  server.on('upgrade', proxy.handleUpgrade);
  proxy.connections.attach(server, options.role ?? 'hub');
  return server;
}
