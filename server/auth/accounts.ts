/**
 * Creating an account, with the same rules whether the request comes through the REST API or
 * from `lectern users add` while the hub is not running.
 */
import type { Database } from '../store/database.js';
import type { UserRecord, UserRepository } from '../store/users.js';
import { type PasswordHasher, passwordProblem } from './passwords.js';
import { normalizeUsername, usernameProblem } from './usernames.js';

export class AccountError extends Error {
  override readonly name = 'AccountError';
  constructor(
    message: string,
    readonly reason: 'invalid' | 'exists',
  ) {
    super(message);
  }
}

export interface NewAccount {
  name: string;
  admin: boolean;
  /** Null creates an account that cannot log in until a password is set. */
  password: string | null;
  /** The name to show, when it differs from the login name. */
  displayName?: string | null;
  /** False for a join-code sign-up awaiting the teacher's approval. Default true. */
  approved?: boolean;
}

/** Validates, hashes and stores a new account, and waits until it is on disk. */
export async function createAccount(
  deps: { db: Database; users: UserRepository; hasher: PasswordHasher; minPasswordLength: number },
  account: NewAccount,
): Promise<UserRecord> {
  const name = normalizeUsername(account.name);
  const nameProblem = usernameProblem(name);
  if (nameProblem) throw new AccountError(nameProblem, 'invalid');
  if (account.password !== null) {
    const problem = passwordProblem(account.password, deps.minPasswordLength);
    if (problem) throw new AccountError(problem, 'invalid');
  }
  const exists = () => {
    if (deps.users.find(name)) throw new AccountError(`User ${name} already exists`, 'exists');
  };
  exists();
  const passwordHash = account.password === null ? null : await deps.hasher.hash(account.password);
  // Again: another request may have taken the name while the password was hashed.
  exists();
  const user = deps.users.create({
    name,
    admin: account.admin,
    passwordHash,
    displayName: account.displayName ?? null,
    approved: account.approved ?? true,
  });
  await deps.db.commit();
  return user;
}
