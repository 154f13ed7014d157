/**
 * Changing a password, and what a change ends, in one place for the teacher's API, `lectern users
 * reset-password` (with or without a running hub) and the student's own change-password page.
 *
 * A password someone else may know is the reason for most changes, so a change revokes the other
 * ways in that the old password opened: login sessions (and, by cascade, the OAuth tokens the
 * student's servers were given in them, which logs the browser out of their notebooks too) and
 * unused login links (a printed card shows the old password beside its QR code). A teacher's
 * change also revokes the student's own API tokens. The tokens of the student's running servers
 * always stay: without them a server can no longer reach the hub, and the notebook the student has
 * open would break.
 *
 * Each change is one transaction, on disk before the caller answers.
 */
import type { Database } from '../store/database.js';
import type { LoginLinkRepository } from '../store/login-links.js';
import type { SessionRepository } from '../store/sessions.js';
import type { TokenRepository } from '../store/tokens.js';
import type { UserRecord, UserRepository } from '../store/users.js';
import { generatePassword, type PasswordHasher } from './passwords.js';

export interface PasswordStore {
  db: Database;
  users: UserRepository;
  sessions: SessionRepository;
  tokens: TokenRepository;
  loginLinks: LoginLinkRepository;
  hasher: PasswordHasher;
}

/**
 * A teacher sets `user`'s password. `mustChange` makes it temporary: the student is sent to the
 * change-password page until they choose their own. The caller has checked it with `passwordProblem`.
 */
export async function setPassword(store: PasswordStore, user: UserRecord, password: string, mustChange: boolean): Promise<void> {
  const hash = await store.hasher.hash(password);
  store.db.transaction(() => {
    store.users.setPasswordHash(user.id, hash, mustChange);
    store.sessions.deleteAllOf(user.id);
    store.tokens.deletePersonalTokensOf(user.id);
    store.loginLinks.deleteAllOf(user.id);
  });
  await store.db.commit();
}

/**
 * A teacher resets `user`'s password to a new generated one (three words and a number, easy to
 * read out or copy from a screen), and gets it back to show once: it is stored only as a hash.
 */
export async function resetPassword(store: PasswordStore, user: UserRecord, mustChange: boolean, minLength: number): Promise<string> {
  const password = generatePassword(minLength);
  await setPassword(store, user, password, mustChange);
  return password;
}

/**
 * The user chose a new password while logged in with `sessionId`: that session stays, every other
 * one ends, and a temporary password's must-change mark goes. Their own API tokens stay: they made
 * them on purpose, and can revoke them themselves. The caller has checked both passwords.
 */
export async function changeOwnPassword(store: PasswordStore, user: UserRecord, newPassword: string, sessionId: number): Promise<void> {
  const hash = await store.hasher.hash(newPassword);
  store.db.transaction(() => {
    store.users.setPasswordHash(user.id, hash, false);
    store.sessions.deleteOthersOf(user.id, sessionId);
    store.loginLinks.deleteAllOf(user.id);
  });
  await store.db.commit();
}
