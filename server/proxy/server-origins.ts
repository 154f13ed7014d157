/**
 * An origin of its own for each student's server: a listener on a port of its own, served by the
 * same proxy as the hub's public listener. Browsers keep pages of different origins apart, so a
 * student's page open in the teacher's browser cannot read the hub's pages or call its API with the
 * teacher's login (the hub refuses requests from other origins: see hub/same-origin.ts). A classroom
 * LAN has no wildcard DNS for JupyterHub's subdomains; a port per server works on any address.
 *
 * The two kinds of listener answer different paths:
 * - a server's port serves that server's prefix only (`/user/ann/`); anything else — the hub's pages,
 *   another server — is redirected to the hub's port when a browser asks for a page, else refused;
 * - the hub's port sends a browser that asks for a server's page to the server's own origin. A
 *   request with an API token (`Authorization`) is still forwarded there, as JupyterHub's clients
 *   call `/user/NAME/api/…` at the hub's address: a page of another origin cannot send one.
 *
 * The address in each redirect is the one the browser used (its `Host`), with the other port: a
 * student who joined at `http://192.168.1.20:8000/` reaches her server at `http://192.168.1.20:8003/`.
 */
import type { IncomingMessage, RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logging/logger.js';
import type { GuardVerdict, Proxy } from './proxy.js';
import { createPublicListener, type PublicListenerOptions } from './public-listener.js';
import { normalizePrefix, type Route } from './route-table.js';

const ELSEWHERE_MESSAGE = 'This address serves one student’s server only.';
const AT_ITS_OWN_ADDRESS_MESSAGE = 'A student’s server is open at an address of its own, not at the hub’s.';
/** A Host header as browsers send it: a name or an IPv4 address, or an IPv6 one in brackets, then maybe a port. */
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d+)?$/;

export interface ServerOriginsOptions {
  proxy: Proxy;
  /** The address the listeners bind, as the hub's public listener. */
  ip: string;
  tls: PublicListenerOptions['tls'];
  /** The hub's public port (known once its listener is bound). */
  hubPort: () => number;
  log: Logger;
}

export class ServerOrigins {
  /** The server route prefix each port serves, and its listener. */
  private readonly listeners = new Map<number, { prefix: string; server: Server }>();
  private readonly portOfPrefix = new Map<string, number>();
  private readonly scheme: string;

  constructor(private readonly options: ServerOriginsOptions) {
    this.scheme = options.tls ? 'https' : 'http';
  }

  /**
   * Opens the origin of the server at route `prefix` on `port` (0: any free port) and resolves with
   * the port it got. Rejects (EADDRINUSE, EACCES…) when the port cannot be had. A server whose
   * origin is open already keeps it.
   */
  async open(prefix: string, port: number): Promise<number> {
    const key = normalizePrefix(prefix);
    const existing = this.portOfPrefix.get(key);
    if (existing !== undefined) return existing;
    const server = createPublicListener(this.options.proxy, { tls: this.options.tls, role: 'server' });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.options.ip, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = (server.address() as AddressInfo).port;
    this.listeners.set(bound, { prefix: key, server });
    this.portOfPrefix.set(key, bound);
    this.options.log.debug(`opened the origin of ${key} on port ${bound}`);
    return bound;
  }

  /** Closes the origin of the server at route `prefix` (its account is gone or renamed). */
  async close(prefix: string): Promise<void> {
    const key = normalizePrefix(prefix);
    const port = this.portOfPrefix.get(key);
    if (port === undefined) return;
    this.portOfPrefix.delete(key);
    const entry = this.listeners.get(port);
    this.listeners.delete(port);
    if (entry) await closeListener(entry.server);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.portOfPrefix.keys()].map((prefix) => this.close(prefix)));
  }

  /** The port of the origin of the server at route `prefix`, while it is open. */
  portOf(prefix: string): number | undefined {
    return this.portOfPrefix.get(normalizePrefix(prefix));
  }

  /**
   * The proxy guard's first say on a routed request: undefined to let the other guards decide, or
   * the redirect or refusal that keeps each origin to its own paths (see the file comment).
   */
  readonly guard = (req: IncomingMessage, route: Route): GuardVerdict | undefined => {
    const own = this.listeners.get(req.socket.localPort ?? 0);
    if (own !== undefined) return own.prefix === route.prefix ? undefined : this.toHub(req);
    const port = route.data.user === undefined ? undefined : this.portOfPrefix.get(route.prefix);
    if (port === undefined || req.headers.authorization !== undefined) return undefined;
    const location = this.urlAt(req, port);
    if (location === undefined) return { forward: false, status: 400, message: 'The Host header of this request is not valid.' };
    const page = (req.method === 'GET' || req.method === 'HEAD') && req.headers.upgrade === undefined;
    return page ? { forward: false, status: 302, message: AT_ITS_OWN_ADDRESS_MESSAGE, location } : { forward: false, status: 403, message: AT_ITS_OWN_ADDRESS_MESSAGE };
  };

  /** Wraps the hub's app: requests no route took reach it only on the hub's own port. */
  fallback(app: RequestListener): RequestListener {
    return (req, res) => {
      if (!this.listeners.has(req.socket.localPort ?? 0)) {
        app(req, res);
        return;
      }
      const verdict = this.toHub(req);
      res.writeHead(verdict.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...(verdict.location ? { Location: verdict.location } : {}) });
      res.end(verdict.location ? '' : `${verdict.message}\n`);
    };
  }

  /** A server's port was asked for something else: a page goes to the hub, the rest is refused. */
  private toHub(req: IncomingMessage): GuardVerdict & { forward: false } {
    const page = (req.method === 'GET' || req.method === 'HEAD') && req.headers.upgrade === undefined;
    const location = page ? this.urlAt(req, this.options.hubPort()) : undefined;
    return location ? { forward: false, status: 302, message: ELSEWHERE_MESSAGE, location } : { forward: false, status: 404, message: ELSEWHERE_MESSAGE };
  }

  /** The request's URL at the same host (as the browser named it) on `port`, or undefined for a malformed Host. */
  private urlAt(req: IncomingMessage, port: number): string | undefined {
    const host = HOST.exec(req.headers.host ?? '')?.[1];
    if (host === undefined) return undefined;
    return `${this.scheme}://${host}:${port}${req.url ?? '/'}`;
  }
}

function closeListener(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

