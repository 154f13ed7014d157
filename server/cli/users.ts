/**
 * `lectern users add`, `lectern users list` and `lectern users reset-password`. With a hub running
 * on the data dir they use its REST API (the running hub owns the database); otherwise they take
 * the data-dir lock and open the database themselves.
 */
import { join } from 'node:path';
import { createAccount } from '../auth/accounts.js';
import { resetPassword } from '../auth/password-changes.js';
import { generatePassword, PasswordHasher } from '../auth/passwords.js';
import { normalizeUsername } from '../auth/usernames.js';
import type { LecternConfig } from '../config/schema.js';
import { Database } from '../store/database.js';
import { acquireLock, readLock, type LockInfo } from '../store/lock.js';
import { LoginLinkRepository } from '../store/login-links.js';
import { SessionRepository } from '../store/sessions.js';
import { TokenRepository } from '../store/tokens.js';
import { UserRepository, type UserRecord } from '../store/users.js';

interface UserRow {
  name: string;
  admin: boolean;
  server: string;
  lastActivity: string | null;
}

export async function addUser(config: LecternConfig, name: string, admin: boolean): Promise<number> {
  const supplied = process.stdin.isTTY ? '' : (await readStdin()).replace(/\r?\n$/, '');
  const password = supplied || generatePassword(config.auth.minPasswordLength);
  const running = await readLock(config.dataDir);
  let created: string;
  if (running?.apiUrl && running.token) {
    const body = await callHub(running, 'POST', `/users/${encodeURIComponent(name)}`, { admin, password });
    created = (body as { name: string }).name;
  } else {
    created = (await withOfflineStore(config, (db, users, hasher) =>
      createAccount({ db, users, hasher, minPasswordLength: config.auth.minPasswordLength }, { name, admin, password }),
    )).name;
  }
  console.log(`Created ${admin ? 'admin ' : ''}account ${created}.`);
  if (!supplied) console.log(`Password: ${password}\nIt is shown only this once.`);
  return 0;
}

export async function listUsers(config: LecternConfig): Promise<number> {
  const running = await readLock(config.dataDir);
  let rows: UserRow[];
  if (running?.apiUrl && running.token) {
    const models = (await callHub(running, 'GET', '/users')) as {
      name: string;
      admin: boolean;
      server: string | null;
      pending: string | null;
      last_activity: string | null;
    }[];
    rows = models.map((user) => ({
      name: user.name,
      admin: user.admin,
      server: user.server ? 'running' : (user.pending ?? 'stopped'),
      lastActivity: user.last_activity,
    }));
  } else {
    const users = await withOfflineStore(config, (_db, repo) => repo.list());
    rows = users.map((user: UserRecord) => ({
      name: user.name,
      admin: user.admin,
      server: 'stopped',
      lastActivity: user.lastActivity,
    }));
  }
  printTable(rows);
  return 0;
}

/**
 * Gives NAME a new temporary password and prints it once; NAME chooses their own after logging in
 * with it. Without a running hub this is also how a teacher locked out of every admin account gets
 * back in.
 */
export async function resetUserPassword(config: LecternConfig, rawName: string): Promise<number> {
  const name = normalizeUsername(rawName);
  const running = await readLock(config.dataDir);
  let password: string;
  if (running?.apiUrl && running.token) {
    const body = await callHub(running, 'POST', `/lectern/users/${encodeURIComponent(name)}/password-reset`, { mustChange: true });
    password = (body as { password: string }).password;
  } else {
    password = await withOfflineStore(config, (db, users, hasher) => {
      const user = users.find(name);
      if (!user) throw new CliError(`No such user: ${name}. See the accounts with: lectern users list`);
      const store = { db, users, hasher, sessions: new SessionRepository(db), tokens: new TokenRepository(db), loginLinks: new LoginLinkRepository(db) };
      return resetPassword(store, user, true, config.auth.minPasswordLength);
    });
  }
  console.log(`New password for ${name}: ${password}`);
  console.log(`It is shown only this once. After logging in with it, ${name} chooses their own password.`);
  return 0;
}

function printTable(rows: UserRow[]): void {
  if (rows.length === 0) {
    console.log('No accounts yet. Create one with: lectern users add NAME');
    return;
  }
  const table = [
    ['NAME', 'ADMIN', 'SERVER', 'LAST ACTIVE'],
    ...rows.map((row) => [row.name, row.admin ? 'yes' : '', row.server, row.lastActivity ?? 'never']),
  ];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => (row[column] ?? '').length)));
  for (const row of table) console.log(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
}

/** Opens the database while holding the data-dir lock, so a hub cannot start on it meanwhile. */
export async function withOfflineStore<T>(
  config: LecternConfig,
  work: (db: Database, users: UserRepository, hasher: PasswordHasher) => Promise<T> | T,
): Promise<T> {
  const lock = await acquireLock(config.dataDir, { pid: process.pid, startedAt: new Date().toISOString() });
  const hasher = new PasswordHasher();
  try {
    const db = await Database.open(join(config.dataDir, 'lectern.sqlite'));
    try {
      return await work(db, new UserRepository(db), hasher);
    } finally {
      await db.close();
    }
  } finally {
    await hasher.close();
    await lock.release();
  }
}

export async function callHub(hub: LockInfo, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${hub.apiUrl}${path}`, {
    method,
    headers: { Authorization: `token ${hub.token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch(() => {
    throw new CliError(`The hub that holds ${hub.apiUrl} (pid ${hub.pid}) is not answering. Is it still starting?`);
  });
  const text = await response.text();
  // JSON as the API answers; a file (`lectern export`) as its text.
  const json = /[/+]json\b/.test(response.headers.get('content-type') ?? '');
  const parsed: unknown = !text ? null : json ? JSON.parse(text) : text;
  if (!response.ok) {
    const message = (parsed as { message?: string } | null)?.message ?? response.statusText;
    throw new CliError(message);
  }
  return parsed;
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => (data += chunk));
    process.stdin.on('end', () => resolve(data));
    process.stdin.on('error', reject);
  });
}

export class CliError extends Error {
  override readonly name = 'CliError';
}
