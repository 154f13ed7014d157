/**
 * Keeps the hub reachable when connections would run the process out of file descriptors. Every
 * public connection costs a descriptor, a proxied one a second for its upstream socket; at the
 * process's limit (`ulimit -n`, 256 on some machines) the kernel refuses every new connection, the
 * teacher's included. So, sized from that limit:
 *
 * - a reserve of descriptors is never spent on connections (the database, logs, starting servers);
 * - the rest is shared by all public connections, two descriptors each (`connections`);
 * - students' servers may use all but a share of those (`forServers`): the rest is kept for the
 *   hub's own pages and API. A student server's own origin (its port) accepts no connection beyond
 *   that, and on the hub's address a request for a student's server gets a 503 (and its
 *   connection closed) once that many are open;
 * - websockets, which stay open as long as a notebook does, may take at most three quarters of the
 *   servers' connections, so saving a file still gets through; beyond that a handshake gets a 503;
 * - one client address may hold at most an eighth of the connections (at least 16), so one browser
 *   or script cannot take them all. Loopback is exempt: it is the teacher's own app, or a reverse
 *   proxy on this machine that carries every student's connections;
 * - a connection beyond a cap first makes room by closing idle keep-alive connections (a browser
 *   opens a new one when it needs one); only if none was idle is it refused.
 *
 * Students' servers are processes of their own, with descriptors of their own: none of theirs
 * count here. A warning is logged when connections near their cap, naming the limit and how to
 * raise it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../logging/logger.js';

export interface ConnectionLimits {
  /** The process's open-file limit these were sized from (Infinity: none known). */
  descriptors: number;
  /** Public connections open at once, websockets included. */
  connections: number;
  /** Of those, how many may carry students' servers' traffic. */
  forServers: number;
  /** Websockets open at once. */
  websockets: number;
  /** Connections one client address (not loopback) may hold at once. */
  perClient: number;
}

/** What a public listener carries: the hub's address (pages, API, and servers in "shared" mode), or one student server's own origin. */
export type ListenerRole = 'hub' | 'server';

/** The process's soft limit on open files: Infinity where there is none (Windows) or it cannot be read. */
export function fileDescriptorLimit(): number {
  if (process.platform === 'win32') return Infinity;
  try {
    // Linux: "Max open files            1024                 1048576              files"
    const line = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (line) return parseLimit(line[1]);
  } catch {
    // Not Linux: ask a shell, which inherits this process's limits.
  }
  const shell = spawnSync('/bin/sh', ['-c', 'ulimit -Sn'], { encoding: 'utf8', timeout: 5000 });
  return shell.status === 0 ? parseLimit(shell.stdout.trim()) : Infinity;
}

function parseLimit(text: string | undefined): number {
  const value = Number(text);
  return Number.isInteger(value) && value > 0 ? value : Infinity;
}

/** The caps for a process allowed `descriptors` open files. */
export function connectionLimits(descriptors: number): ConnectionLimits {
  if (!Number.isFinite(descriptors)) {
    return { descriptors, connections: Infinity, forServers: Infinity, websockets: Infinity, perClient: Infinity };
  }
  const reserve = Math.max(32, Math.floor(descriptors / 8));
  const connections = Math.max(16, Math.floor((descriptors - reserve) / 2));
  const forServers = connections - Math.max(8, Math.floor(connections / 4));
  return {
    descriptors,
    connections,
    forServers,
    websockets: Math.floor((forServers * 3) / 4),
    perClient: Math.max(16, Math.floor(connections / 8)),
  };
}

/** Whether `address` (as a socket reports it) is this machine's loopback. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  return plain === '::1' || plain.startsWith('127.');
}

/** Connections at this share of their cap get a warning in the log. */
const WARN_AT = 0.9;

export class ConnectionGuard {
  private readonly servers = new Set<Server>();
  /** The public connections open now. */
  private readonly sockets = new Set<Socket>();
  private websockets = 0;
  private readonly perClient = new Map<string, number>();
  private warned = false;

  constructor(
    readonly limits: ConnectionLimits,
    private readonly log: Logger,
  ) {}

  /** Counts `server`'s connections against the caps from now on. */
  attach(server: Server, role: ListenerRole): void {
    this.servers.add(server);
    server.once('close', () => this.servers.delete(server));
    const cap = role === 'hub' ? this.limits.connections : this.limits.forServers;
    // Before the HTTP parser sees the connection: a refused one costs nothing more.
    server.prependListener('connection', (socket: Socket) => this.admit(socket, cap));
  }

  /**
   * Whether a request for a student's server may go through on the hub's address now. When not,
   * the caller answers 503 and closes the connection, which makes room.
   */
  mayForward(): boolean {
    if (this.sockets.size <= this.limits.forServers) return true;
    this.warnOnce(`${this.sockets.size} connections are open: requests for students' servers get a 503 until some close`);
    return false;
  }

  /** Whether a websocket may open on `socket` (an admitted connection); counts it until it closes. */
  admitWebsocket(socket: Duplex): boolean {
    if (this.websockets >= this.limits.websockets) {
      this.warnOnce(`${this.websockets} websockets are open, the most this process can hold: new ones get a 503`);
      return false;
    }
    this.websockets++;
    socket.once('close', () => this.websockets--);
    return true;
  }

  private admit(socket: Socket, cap: number): void {
    const client = isLoopback(socket.remoteAddress) ? undefined : (socket.remoteAddress ?? '');
    if (client !== undefined && (this.perClient.get(client) ?? 0) >= this.limits.perClient) {
      this.log.debug(`refused a connection from ${client}: it already holds ${this.limits.perClient}`);
      socket.destroy();
      return;
    }
    if (this.sockets.size >= cap && this.openAfterClosingIdle() >= cap) {
      this.warnOnce(`${this.sockets.size} connections are open, the most this process can hold: new ones are refused`);
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    if (client !== undefined) this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
    if (this.sockets.size >= this.limits.forServers * WARN_AT) {
      this.warnOnce(`${this.sockets.size} of the ${this.limits.connections} connections this process can hold are open`);
    }
    socket.once('close', () => {
      this.sockets.delete(socket);
      if (client !== undefined) {
        const left = (this.perClient.get(client) ?? 1) - 1;
        if (left === 0) this.perClient.delete(client);
        else this.perClient.set(client, left);
      }
      if (this.warned && this.sockets.size < this.limits.forServers / 2) {
        this.warned = false;
        this.log.info(`connections are back down to ${this.sockets.size}`);
      }
    });
  }

  /**
   * Closes every listener's idle keep-alive connections and counts those left. Their descriptors
   * are closed at once; their 'close' events, which take them out of `sockets`, come later.
   */
  private openAfterClosingIdle(): number {
    for (const server of this.servers) server.closeIdleConnections();
    let open = 0;
    for (const socket of this.sockets) if (!socket.destroyed) open++;
    return open;
  }

  private warnOnce(what: string): void {
    if (this.warned) return;
    this.warned = true;
    this.log.warn(
      `${what} (this process may open ${this.limits.descriptors} files, and keeps some for the hub's own pages). ` +
        'To serve more at once, raise the limit before starting Lectern: `ulimit -n 4096`, or LimitNOFILE= in a systemd unit.',
    );
  }
}
