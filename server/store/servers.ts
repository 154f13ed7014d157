/**
 * Single-user server records: one row per (user, server name), kept while the server runs so a
 * restarted hub knows what was running. `state` is the spawner's own persisted state.
 */
import type { Database } from './database.js';

export interface ServerRecord {
  userId: number;
  name: string;
  userOptions: Record<string, unknown>;
  url: string | null;
  state: Record<string, unknown>;
  started: string | null;
  lastActivity: string | null;
  /** The public port of the server's own origin, kept across starts; null until it first has one. */
  originPort: number | null;
}

interface ServerRow {
  user_id: number;
  name: string;
  user_options: string;
  url: string | null;
  state: string;
  started: string | null;
  last_activity: string | null;
  origin_port: number | null;
}

const toServer = (row: ServerRow): ServerRecord => ({
  userId: row.user_id,
  name: row.name,
  userOptions: JSON.parse(row.user_options) as Record<string, unknown>,
  url: row.url,
  state: JSON.parse(row.state) as Record<string, unknown>,
  started: row.started,
  lastActivity: row.last_activity,
  originPort: row.origin_port,
});

export class ServerRepository {
  constructor(private readonly db: Database) {}

  find(userId: number, name: string): ServerRecord | undefined {
    const row = this.db.get<ServerRow>('SELECT * FROM servers WHERE user_id = ? AND name = ?', [userId, name]);
    return row && toServer(row);
  }

  /** Every server a user has a record of (named servers persist until removed), default first. */
  listForUser(userId: number): ServerRecord[] {
    return this.db.all<ServerRow>('SELECT * FROM servers WHERE user_id = ? ORDER BY name', [userId]).map(toServer);
  }

  /** Creates the record if needed, with the options the server is (re)started with. */
  saveOptions(userId: number, name: string, userOptions: Record<string, unknown>): void {
    this.db.run(
      `INSERT INTO servers (user_id, name, user_options) VALUES (?, ?, ?)
       ON CONFLICT(user_id, name) DO UPDATE SET user_options = excluded.user_options`,
      [userId, name, JSON.stringify(userOptions)],
    );
  }

  delete(userId: number, name: string): void {
    this.db.run('DELETE FROM servers WHERE user_id = ? AND name = ?', [userId, name]);
  }

  /** Servers that were running (or starting) when last recorded. */
  listActive(): ServerRecord[] {
    return this.db.all<ServerRow>('SELECT * FROM servers WHERE url IS NOT NULL OR started IS NOT NULL').map(toServer);
  }

  /** Records a server as started at `url` with the spawner's state. */
  saveRunning(userId: number, name: string, url: string, state: Record<string, unknown>, started: string): void {
    this.db.run(
      `INSERT INTO servers (user_id, name, url, state, started) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(user_id, name) DO UPDATE SET url = excluded.url, state = excluded.state, started = excluded.started`,
      [userId, name, url, JSON.stringify(state), started],
    );
  }

  /** Keeps the row (and its last activity) but forgets the process. */
  saveStopped(userId: number, name: string): void {
    this.db.run(`UPDATE servers SET url = NULL, state = '{}', started = NULL WHERE user_id = ? AND name = ?`, [
      userId,
      name,
    ]);
  }

  /** Every server's origin port, with the server's user and name. */
  listOriginPorts(): { userId: number; name: string; port: number }[] {
    return this.db
      .all<{ user_id: number; name: string; origin_port: number }>('SELECT user_id, name, origin_port FROM servers WHERE origin_port IS NOT NULL')
      .map((row) => ({ userId: row.user_id, name: row.name, port: row.origin_port }));
  }

  /** Gives the server (whose record exists) its origin port, or takes it away (null). */
  saveOriginPort(userId: number, name: string, port: number | null): void {
    this.db.run('UPDATE servers SET origin_port = ? WHERE user_id = ? AND name = ?', [port, userId, name]);
  }

  touch(userId: number, name: string, when: string): void {
    this.db.run(
      `UPDATE servers SET last_activity = ? WHERE user_id = ? AND name = ? AND (last_activity IS NULL OR last_activity < ?)`,
      [when, userId, name, when],
    );
  }
}
