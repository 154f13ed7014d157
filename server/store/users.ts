/** Accounts: who may log in, and who is an admin. Passwords are stored only as bcrypt hashes. */
import type { Database } from './database.js';

export interface UserRecord {
  id: number;
  name: string;
  admin: boolean;
  passwordHash: string | null;
  created: string;
  lastActivity: string | null;
}

interface UserRow {
  id: number;
  name: string;
  admin: number;
  password_hash: string | null;
  created: string;
  last_activity: string | null;
}

const toUser = (row: UserRow): UserRecord => ({
  id: row.id,
  name: row.name,
  admin: row.admin === 1,
  passwordHash: row.password_hash,
  created: row.created,
  lastActivity: row.last_activity,
});

export class UserRepository {
  constructor(private readonly db: Database) {}

  find(name: string): UserRecord | undefined {
    const row = this.db.get<UserRow>('SELECT * FROM users WHERE name = ?', [name]);
    return row && toUser(row);
  }

  findById(id: number): UserRecord | undefined {
    const row = this.db.get<UserRow>('SELECT * FROM users WHERE id = ?', [id]);
    return row && toUser(row);
  }

  /** Users in creation order, as JupyterHub lists them. */
  list(offset = 0, limit = -1): UserRecord[] {
    return this.db.all<UserRow>('SELECT * FROM users ORDER BY id LIMIT ? OFFSET ?', [limit, offset]).map(toUser);
  }

  count(): number {
    return this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM users')?.n ?? 0;
  }

  create(user: { name: string; admin: boolean; passwordHash: string | null }): UserRecord {
    const created = new Date().toISOString();
    const { lastInsertRowid } = this.db.run(
      'INSERT INTO users (name, admin, password_hash, created) VALUES (?, ?, ?, ?)',
      [user.name, user.admin ? 1 : 0, user.passwordHash, created],
    );
    return { id: lastInsertRowid, ...user, created, lastActivity: null };
  }

  rename(id: number, name: string): void {
    this.db.run('UPDATE users SET name = ? WHERE id = ?', [name, id]);
  }

  /** Deletes the account with its sessions, tokens, server records and memberships (cascade). */
  delete(id: number): void {
    this.db.run('DELETE FROM users WHERE id = ?', [id]);
  }

  setAdmin(id: number, admin: boolean): void {
    this.db.run('UPDATE users SET admin = ? WHERE id = ?', [admin ? 1 : 0, id]);
  }

  setPasswordHash(id: number, passwordHash: string): void {
    this.db.run('UPDATE users SET password_hash = ? WHERE id = ?', [passwordHash, id]);
  }

  /** Moves last_activity forward only: reports can arrive out of order. */
  touch(id: number, when: string): void {
    this.db.run('UPDATE users SET last_activity = ? WHERE id = ? AND (last_activity IS NULL OR last_activity < ?)', [
      when,
      id,
      when,
    ]);
  }
}
