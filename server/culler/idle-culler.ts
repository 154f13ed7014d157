/**
 * The idle culler: stops servers nobody has used for `culler.idleTimeout`, so a laptop's memory goes
 * to the students who are working. A server counts as used when the proxy forwarded a request or a
 * websocket message to it, when it reported activity itself, or when one of its kernels last did
 * something (a cell's end counts, so the idle clock starts when the kernel finished, not when the
 * cell was sent). A server is never stopped while any kernel might be running: only kernels the
 * server reports `idle` (or `dead`) count as idle. `busy`, `starting` (how Notebook 6 reports a
 * kernel nobody has connected to, even while it runs a cell), any other state, and a server whose
 * kernels cannot be read all keep the server running.
 */
import { askServer } from '../net/ask-server.js';
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

/** What a server's kernels say: running something (or unknown), or quiet since `lastActivity`. */
export type KernelCheck = { working: true; why: string } | { working: false; lastActivity: number | null };

export interface IdleCullerOptions {
  idleTimeoutMs: number;
  everyMs: number;
  /** The servers now running. */
  running: () => RunningServer[];
  stop: (user: string, name: string) => Promise<void>;
  /** Records a sign of use the culler found (a working or recently finished kernel), epoch ms. */
  noteActivity: (user: string, name: string, at: number) => void;
  log: Logger;
  /** Injected for tests. */
  clock?: () => number;
  /** Injected for tests: what a server's kernels say. */
  checkKernels?: (server: RunningServer) => Promise<KernelCheck>;
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

  /** One pass: stops the idle servers whose kernels are all idle; resolves with their `user/name`. */
  cullOnce(): Promise<string[]> {
    // One pass at a time: a slow stop must not let the next tick stop the same server again.
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<string[]> {
    const { idleTimeoutMs, log, noteActivity } = this.options;
    const now = (this.options.clock ?? Date.now)();
    const check = this.options.checkKernels ?? checkKernels;
    const culled: string[] = [];
    // Every idle-looking server is asked at once: one that does not answer must not hold up the rest.
    await Promise.all(
      idleServers(this.options.running(), now, idleTimeoutMs).map(async (server) => {
        const kernels = await check(server);
        if (kernels.working) {
          // Its idle clock starts again now; the next question comes a whole timeout later.
          noteActivity(server.user, server.name, now);
          log.info(`not stopping ${server.user}'s server, quiet for ${minutes(now - server.lastActivity)}: ${kernels.why}`);
          return;
        }
        const idleSince = Math.max(server.lastActivity, kernels.lastActivity ?? 0);
        if (now - idleSince <= idleTimeoutMs) {
          noteActivity(server.user, server.name, idleSince);
          return;
        }
        log.info(`stopping ${server.user}'s server: idle for ${minutes(now - idleSince)}`, { idleSince: new Date(idleSince).toISOString() });
        await this.options.stop(server.user, server.name);
        culled.push(`${server.user}/${server.name}`);
      }),
    );
    return culled;
  }
}

function minutes(ms: number): string {
  const rounded = Math.round(ms / 60_000);
  return rounded === 1 ? '1 minute' : `${rounded} minutes`;
}

/** Kernel states that cannot be running a student's code. Anything else might be. */
const QUIET_STATES = new Set(['idle', 'dead']);

/**
 * Asks a Jupyter server for its kernels (`GET api/kernels`). Working when any kernel is in a state
 * other than idle or dead, or when the answer cannot be had or read; otherwise quiet since the
 * latest kernel's `last_activity`.
 */
export async function checkKernels(server: RunningServer): Promise<KernelCheck> {
  const unknown = (why: string): KernelCheck => ({ working: true, why: `its kernels could not be checked (${why})` });
  const answer = await askServer(`${server.apiBase}api/kernels`, { token: server.token, timeoutMs: 10_000, readBody: true });
  if (answer === null) return unknown('no answer');
  if (answer.status !== 200) return unknown(`HTTP ${answer.status}`);
  let kernels: unknown;
  try {
    kernels = JSON.parse(answer.body);
  } catch {
    return unknown('not JSON');
  }
  return readKernels(kernels) ?? unknown('an unexpected answer');
}

/** A kernel list's verdict, or undefined when it is not a list of kernels. */
export function readKernels(kernels: unknown): KernelCheck | undefined {
  if (!Array.isArray(kernels)) return undefined;
  let lastActivity: number | null = null;
  for (const kernel of kernels as { execution_state?: unknown; last_activity?: unknown }[]) {
    const state = typeof kernel?.execution_state === 'string' ? kernel.execution_state : 'unknown';
    if (!QUIET_STATES.has(state)) return { working: true, why: `a kernel is ${state}` };
    const at = typeof kernel.last_activity === 'string' ? Date.parse(kernel.last_activity) : NaN;
    if (!Number.isNaN(at)) lastActivity = Math.max(lastActivity ?? 0, at);
  }
  return { working: false, lastActivity };
}
