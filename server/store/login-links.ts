/**
 * One-time login links (the QR codes on printed login cards). Only a hash of the link's secret is
 * stored; a link works once, until it expires, and can be revoked.
 */
import type { Database } from './database.js';

export interface LoginLinkRecord {
  id: number;
  userId: number;
  created: string;
  expiresAt: string;
  usedAt: string | null;
}

interface LoginLinkRow {
  id: number;
  user_id: number;
  created: string;
  expires_at: string;
  used_at: string | null;
}

const toLink = (row: LoginLinkRow): LoginLinkRecord => ({
  id: row.id,
  userId: row.user_id,
  created: row.created,
  expiresAt: row.expires_at,
  usedAt: row.used_at,
});

export class LoginLinkRepository {
  constructor(private readonly db: Database) {}

  create(userId: number, hash: string, expiresAt: string): LoginLinkRecord {
    const created = new Date().toISOString();
    const { lastInsertRowid } = this.db.run('INSERT INTO login_links (user_id, hash, created, expires_at) VALUES (?, ?, ?, ?)', [
      userId,
      hash,
      created,
      expiresAt,
    ]);
    return { id: lastInsertRowid, userId, created, expiresAt, usedAt: null };
  }

  /**
   * Marks the unused, unexpired link with this hash as used and returns it; undefined when there
   * is no such link. Check and use are one statement, so a link cannot be used twice.
   */
  use(hash: string, now = new Date()): LoginLinkRecord | undefined {
    const when = now.toISOString();
    const { changes } = this.db.run('UPDATE login_links SET used_at = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ?', [when, hash, when]);
    if (changes === 0) return undefined;
    const row = this.db.get<LoginLinkRow>('SELECT id, user_id, created, expires_at, used_at FROM login_links WHERE hash = ?', [hash]);
    return row && toLink(row);
  }

  /** The user's links that can still be used. */
  listUsable(userId: number, now = new Date()): LoginLinkRecord[] {
    return this.db
      .all<LoginLinkRow>(
        'SELECT id, user_id, created, expires_at, used_at FROM login_links WHERE user_id = ? AND used_at IS NULL AND expires_at > ? ORDER BY id',
        [userId, now.toISOString()],
      )
      .map(toLink);
  }

  /** Revokes every link of a user (a new card was printed, the password was reset). Returns how many. */
  deleteAllOf(userId: number): number {
    return this.db.run('DELETE FROM login_links WHERE user_id = ?', [userId]).changes;
  }

  deleteExpiredOrUsed(now = new Date()): number {
    return this.db.run('DELETE FROM login_links WHERE used_at IS NOT NULL OR expires_at <= ?', [now.toISOString()]).changes;
  }
}
