/**
 * Which port each student's server has its own origin on (proxy/server-origins.ts): the one it had
 * before, so bookmarks keep working, else the first free one of `network.serverPorts`. Ports are
 * kept with the server's record; every server that ever had one gets its origin back when the hub
 * starts, so a bookmark of a stopped server still leads somewhere (the hub, which starts it).
 */
import type { Logger } from '../logging/logger.js';
import type { ServerOrigins } from '../proxy/server-origins.js';
import type { Database } from '../store/database.js';
import { errorCode } from '../store/errors.js';
import type { ServerRepository } from '../store/servers.js';
import type { UserRecord, UserRepository } from '../store/users.js';
import { SpawnError } from '../spawner/spawner.js';

export interface OriginPortsDeps {
  origins: ServerOrigins;
  db: Database;
  servers: ServerRepository;
  users: UserRepository;
  /** The route prefix of a server (`/user/ann/`). */
  routeOf(user: string, serverName: string): string;
  /** `network.serverPorts`: `[first, last]`, or null to let the system choose. */
  range: [first: number, last: number] | null;
  /** The hub's own public port, never given to a server. */
  hubPort: () => number;
  log: Logger;
}

export class OriginPorts {
  constructor(private readonly deps: OriginPortsDeps) {}

  /** At hub start: every server that had an origin gets it back, where its port is still free. */
  async reopenAll(): Promise<void> {
    for (const { userId, name, port } of this.deps.servers.listOriginPorts()) {
      const user = this.deps.users.findById(userId);
      if (!user) continue;
      await this.deps.origins.open(this.deps.routeOf(user.name, name), port).catch((error: unknown) => {
        this.deps.log.warn(`port ${port} of ${user.name}'s server is taken (${errorCode(error) ?? String(error)}): it gets another at its next start`);
      });
    }
  }

  /** Before a server starts (its record exists): its origin, open, on the port it had if it can. */
  async open(user: UserRecord, serverName: string): Promise<void> {
    const prefix = this.deps.routeOf(user.name, serverName);
    if (this.deps.origins.portOf(prefix) !== undefined) return;
    const previous = this.deps.servers.find(user.id, serverName)?.originPort ?? null;
    if (previous !== null) {
      const reopened = await this.deps.origins.open(prefix, previous).catch(() => undefined);
      if (reopened !== undefined) return;
      this.deps.log.warn(`port ${previous} of ${user.name}'s server is taken: choosing another`);
    }
    const port = await this.openOnFreePort(prefix, previous);
    this.deps.servers.saveOriginPort(user.id, serverName, port);
    this.deps.db.markDirty();
  }

  /** Closes the origins of `user`'s servers (before the account is deleted or renamed). */
  async close(user: UserRecord, serverNames: readonly string[]): Promise<void> {
    for (const name of serverNames) await this.deps.origins.close(this.deps.routeOf(user.name, name));
  }

  private async openOnFreePort(prefix: string, previous: number | null): Promise<number> {
    const { range, origins } = this.deps;
    if (range === null) return origins.open(prefix, 0);
    const taken = new Set(this.deps.servers.listOriginPorts().map((entry) => entry.port));
    taken.add(this.deps.hubPort());
    if (previous !== null) taken.add(previous);
    for (let port = range[0]; port <= range[1]; port++) {
      if (taken.has(port)) continue;
      try {
        return await origins.open(prefix, port);
      } catch (error) {
        const code = errorCode(error);
        if (code !== 'EADDRINUSE' && code !== 'EACCES') throw error;
      }
    }
    throw new SpawnError(
      `Every port of network.serverPorts (${range[0]}-${range[1]}) is in use, so this server has no address to open at. ` +
        'Widen the range on the settings page or in the config file, then restart Lectern.',
    );
  }
}
