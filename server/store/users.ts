/** Accounts: who may log in, and who is an admin. Passwords are stored only as bcrypt hashes. */
import type { Database } from './database.js';

export interface UserRecord {
  id: number;
  name: string;
  admin: boolean;
  passwordHash: string | null;
  created: string;
  lastActivity: string | null;
  /** The name to show (a student's full name), when it differs from the login name. */
  displayName: string | null;
  /** The next login must choose a new password (after a teacher's reset). */
  mustChangePassword: boolean;
  /** False while a join-code sign-up waits for the teacher's approval: such an account cannot log in. */
  approved: boolean;
}

/** What a new account is made of; the flags default to an ordinary, approved account. */
export interface NewUser {
  name: string;
  admin: boolean;
  passwordHash: string | null;
  displayName?: string | null;
  mustChangePassword?: boolean;
  approved?: boolean;
}

interface UserRow {
  id: number;
  name: string;
  admin: number;
  password_hash: string | null;
  created: string;
  last_activity: string | null;
  display_name: string | null;
  must_change_password: number;
  approved: number;
}

const toUser = (row: UserRow): UserRecord => ({
  id: row.id,
  name: row.name,
  admin: row.admin === 1,
  passwordHash: row.password_hash,
  created: row.created,
  lastActivity: row.last_activity,
  displayName: row.display_name,
  mustChangePassword: row.must_change_password === 1,
  approved: row.approved === 1,
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

  /** Join-code sign-ups the teacher has not approved yet. */
  countAwaitingApproval(): number {
    return this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM users WHERE approved = 0')?.n ?? 0;
  }

  create(user: NewUser): UserRecord {
    const created = new Date().toISOString();
    const record = {
      name: user.name,
      admin: user.admin,
      passwordHash: user.passwordHash,
      displayName: user.displayName ?? null,
      mustChangePassword: user.mustChangePassword ?? false,
      approved: user.approved ?? true,
    };
    const { lastInsertRowid } = this.db.run(
      'INSERT INTO users (name, admin, password_hash, created, display_name, must_change_password, approved) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [record.name, record.admin ? 1 : 0, record.passwordHash, created, record.displayName, record.mustChangePassword ? 1 : 0, record.approved ? 1 : 0],
    );
    return { id: lastInsertRowid, ...record, created, lastActivity: null };
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

  /** Sets the password; `mustChange` marks it temporary (a teacher's reset), to be replaced at the next login. */
  setPasswordHash(id: number, passwordHash: string, mustChange = false): void {
    this.db.run('UPDATE users SET password_hash = ?, must_change_password = ? WHERE id = ?', [passwordHash, mustChange ? 1 : 0, id]);
  }

  setDisplayName(id: number, displayName: string | null): void {
    this.db.run('UPDATE users SET display_name = ? WHERE id = ?', [displayName, id]);
  }

  setApproved(id: number, approved: boolean): void {
    this.db.run('UPDATE users SET approved = ? WHERE id = ?', [approved ? 1 : 0, id]);
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
