/**
 * The idle culler: stops servers nobody has used for `culler.idleTimeout`, so a laptop's memory goes
 * to the students who are working. A server counts as used when the proxy forwarded a request or a
 * websocket message to it, or when it reported activity itself; a server whose kernel is busy (a
 * long computation running unattended) is never stopped, however long it has been quiet.
 */
import { request } from 'node:http';
import type { Logger } from '../logging/logger.js';

/** What the culler needs to know about one running server. */
export interface RunningServer {
  user: string;
  name: string;
  /** Latest sign of use, epoch ms. */
  lastActivity: number;
  /** Where its API answers (`http://127.0.0.1:PORT/user/alice/`) and the token it accepts. */
  apiBase: string;
  token: string;
}

export interface IdleCullerOptions {
  idleTimeoutMs: number;
  everyMs: number;
  /** The servers now running. */
  running: () => RunningServer[];
  stop: (user: string, name: string) => Promise<void>;
  log: Logger;
  /** Injected for tests. */
  clock?: () => number;
  /** Injected for tests: whether a server has a busy kernel. */
  hasBusyKernel?: (server: RunningServer) => Promise<boolean>;
}

/** The servers idle for longer than `idleTimeoutMs` at `now`. */
export function idleServers(servers: readonly RunningServer[], now: number, idleTimeoutMs: number): RunningServer[] {
  return servers.filter((server) => now - server.lastActivity > idleTimeoutMs);
}

export class IdleCuller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<string[]> | undefined;

  constructor(private readonly options: IdleCullerOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.cullOnce(), this.options.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass: stops the idle servers without a busy kernel; resolves with their `user/name`. */
  cullOnce(): Promise<string[]> {
    // One pass at a time: a slow stop must not let the next tick stop the same server again.
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<string[]> {
    const now = (this.options.clock ?? Date.now)();
    const busy = this.options.hasBusyKernel ?? hasBusyKernel;
    const culled: string[] = [];
    for (const server of idleServers(this.options.running(), now, this.options.idleTimeoutMs)) {
      if (await busy(server)) {
        this.options.log.debug(`not stopping ${server.user}'s idle server: a kernel is busy`);
        continue;
      }
      const minutes = Math.round((now - server.lastActivity) / 60_000);
      this.options.log.info(`stopping ${server.user}'s server: idle for ${minutes} minutes`);
      await this.options.stop(server.user, server.name);
      culled.push(`${server.user}/${server.name}`);
    }
    return culled;
  }
}

/** Asks a Jupyter server whether any of its kernels is busy. An unreadable answer counts as not busy. */
export function hasBusyKernel(server: RunningServer): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${server.apiBase}api/kernels`, { headers: { Authorization: `token ${server.token}` }, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          const kernels = JSON.parse(body) as { execution_state?: string }[];
          resolve(Array.isArray(kernels) && kernels.some((kernel) => kernel.execution_state === 'busy'));
        } catch {
          resolve(false);
        }
      });
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
