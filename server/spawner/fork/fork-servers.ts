/**
 * Which servers are forked (fork-server.ts), and from which fork server: one per Jupyter
 * environment, launch mode and import-time environment, started when the first server needs it and
 * kept while the hub runs. Where forking cannot be used, servers start the normal way, and the log
 * says why, once per reason.
 */
import type { Logger } from '../../logging/logger.js';
import type { LaunchPlan } from '../discovery.js';
import type { SandboxKind } from '../sandbox/launcher.js';
import { ForkServer, type ForkServerSpec } from './fork-server.js';

/**
 * Why servers of `plan` cannot be forked in `sandbox` here, or null when they can: on Linux, for a
 * plan Lectern made (not a configured `spawner.command`, which runs as it is), unsandboxed or in
 * bubblewrap, whose namespaces a fork can join. Seatbelt (macOS) applies to a process at its
 * start only, and Windows has no fork.
 */
export function whyNotForked(plan: LaunchPlan, sandbox: SandboxKind | null, platform: NodeJS.Platform = process.platform): string | null {
  if (platform !== 'linux') return 'forking servers is done on Linux only';
  if (!plan.fork || !plan.environment) return 'spawner.command is run as configured';
  if (sandbox !== null && sandbox !== 'bubblewrap') return `a fork cannot enter a ${sandbox} sandbox`;
  return null;
}

export class ForkServers {
  private readonly servers = new Map<string, Promise<ForkServer | null>>();
  private readonly told = new Set<string>();

  constructor(private readonly log: Logger) {}

  /**
   * The fork server for `spec`, started at the first call: null when it cannot be used (said in the
   * log), and then servers start the normal way. One that ended is started again.
   */
  async get(spec: ForkServerSpec): Promise<ForkServer | null> {
    const key = JSON.stringify(spec);
    const pending = this.servers.get(key);
    if (pending) {
      const server = await pending;
      if (!server?.hasEnded) return server;
      if (this.servers.get(key) === pending) this.servers.delete(key);
      return this.get(spec);
    }
    const started = ForkServer.start(spec, this.log).catch((error: Error) => {
      this.notForked(`the fork server for ${spec.python} failed: ${error.message}`);
      return null;
    });
    this.servers.set(key, started);
    return started;
  }

  /** Says, once per reason, that servers start the normal way. */
  notForked(why: string): void {
    if (this.told.has(why)) return;
    this.told.add(why);
    this.log.warn(`students' servers start the normal way, not forked: ${why}`);
  }

  /** Ends every fork server. The servers they forked run on (the hub stops those itself). */
  async close(): Promise<void> {
    const servers = await Promise.all(this.servers.values());
    this.servers.clear();
    for (const server of servers) server?.close();
  }
}
