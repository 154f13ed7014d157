/** Browser login sessions. Only a hash of the cookie value is stored. */
import type { Database } from './database.js';

export interface SessionRecord {
  id: number;
  userId: number;
  /** When the login happened. */
  created: string;
  expiresAt: string;
}

interface SessionRow {
  id: number;
  user_id: number;
  created: string;
  expires_at: string;
}

const fromRow = (row: SessionRow): SessionRecord => ({ id: row.id, userId: row.user_id, created: row.created, expiresAt: row.expires_at });

export class SessionRepository {
  constructor(private readonly db: Database) {}

  create(userId: number, hash: string, expiresAt: string): SessionRecord {
    const created = new Date().toISOString();
    const { lastInsertRowid } = this.db.run('INSERT INTO sessions (user_id, hash, created, expires_at) VALUES (?, ?, ?, ?)', [
      userId,
      hash,
      created,
      expiresAt,
    ]);
    return { id: lastInsertRowid, userId, created, expiresAt };
  }

  /** The live session with this hash; expired sessions are treated as absent. */
  findByHash(hash: string, now = new Date()): SessionRecord | undefined {
    const row = this.db.get<SessionRow>('SELECT id, user_id, created, expires_at FROM sessions WHERE hash = ? AND expires_at > ?', [
      hash,
      now.toISOString(),
    ]);
    return row && fromRow(row);
  }

  /**
   * The live session with this id: for credentials derived from a login (a server's gate cookie)
   * that must die with it, whether it expired, was logged out or was ended by a password reset.
   */
  findLive(id: number, now = new Date()): SessionRecord | undefined {
    const row = this.db.get<SessionRow>('SELECT id, user_id, created, expires_at FROM sessions WHERE id = ? AND expires_at > ?', [
      id,
      now.toISOString(),
    ]);
    return row && fromRow(row);
  }

  /** Deleting a session also deletes the OAuth tokens issued in it (foreign key cascade). */
  delete(id: number): void {
    this.db.run('DELETE FROM sessions WHERE id = ?', [id]);
  }

  /** Ends every login of a user (password changed, account disabled). */
  deleteAllOf(userId: number): void {
    this.db.run('DELETE FROM sessions WHERE user_id = ?', [userId]);
  }

  /** Ends every login of a user but `keepId`: the one they just changed their password in. */
  deleteOthersOf(userId: number, keepId: number): void {
    this.db.run('DELETE FROM sessions WHERE user_id = ? AND id != ?', [userId, keepId]);
  }

  /** How many users have at least one live login session. */
  countSignedInUsers(now = new Date()): number {
    return this.db.get<{ n: number }>('SELECT COUNT(DISTINCT user_id) AS n FROM sessions WHERE expires_at > ?', [now.toISOString()])?.n ?? 0;
  }

  deleteExpired(now = new Date()): number {
    return this.db.run('DELETE FROM sessions WHERE expires_at <= ?', [now.toISOString()]).changes;
  }
}
