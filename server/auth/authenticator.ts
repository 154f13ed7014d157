/**
 * The Authenticator contract, as JupyterHub's: `authenticate()` is final — it normalises the name,
 * refuses passwords bcrypt cannot check whole, asks the one hook, `checkCredentials()`, and never
 * tells an unknown name from a wrong password (same answer, same work). Implementations fill only
 * the hook.
 */
import type { LecternConfig } from '../config/schema.js';
import type { Database } from '../store/database.js';
import type { UserRepository } from '../store/users.js';
import { MAX_PASSWORD_BYTES, passwordProblem, type PasswordHasher } from './passwords.js';
import { normalizeUsername } from './usernames.js';

const MAX_INPUT_LENGTH = 1024;

export const PASSWORD_TOO_LONG = `Passwords are at most ${MAX_PASSWORD_BYTES} bytes long (fewer characters for accented letters or emoji): check what you typed.`;

/**
 * The outcome of a password check. `problem` is null for a wrong name or password — the caller says
 * so in words that do not tell which — or says what the user must do differently.
 */
export type Authentication = { ok: true; name: string } | { ok: false; problem: string | null };

/** The account name a login form's username field stands for: the one place login names are normalised. */
export function loginName(raw: string): string {
  return normalizeUsername(raw.slice(0, MAX_INPUT_LENGTH));
}

export abstract class Authenticator {
  /** Whose credentials these are, if they are right. Final: implementations fill `checkCredentials()`. */
  async authenticate(rawName: string, password: string): Promise<Authentication> {
    const name = loginName(rawName);
    // bcrypt reads 72 bytes: a longer password is refused, never checked truncated. The same answer
    // (and no hashing) for every name, so it says nothing about which names exist.
    if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return { ok: false, problem: PASSWORD_TOO_LONG };
    const checked = await this.checkCredentials(name, password);
    if (checked === true) return { ok: true, name };
    return { ok: false, problem: checked === false ? null : checked.problem };
  }

  /**
   * True if `password` is right for `name` (already normalised, the password at most 72 bytes).
   * Must take as long for an unknown name as for a known one. `{problem}` refuses with a message
   * the user can act on; only for a name that exists, as it may say so.
   */
  protected abstract checkCredentials(name: string, password: string): Promise<boolean | { problem: string }>;
}

/** Accounts with passwords set by the teacher (or at sign-up), checked against their bcrypt hashes. */
export class PasswordAuthenticator extends Authenticator {
  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
  ) {
    super();
  }

  protected override checkCredentials(name: string, password: string): Promise<boolean> {
    return this.hasher.verify(password, this.users.find(name)?.passwordHash);
  }
}

/**
 * As JupyterHub's FirstUseAuthenticator with `create_users = False`: the teacher lists the
 * accounts without passwords, and the first password a listed student types becomes theirs. A name
 * not listed is refused like a wrong password; it costs one bcrypt, as a listed name does.
 */
export class FirstUseAuthenticator extends Authenticator {
  constructor(
    /** `auth` is the hub's live configuration: a shorter or longer minimum set on the settings page applies at once. */
    private readonly deps: { db: Database; users: UserRepository; hasher: PasswordHasher; auth: Pick<LecternConfig['auth'], 'minPasswordLength'> },
  ) {
    super();
  }

  protected override async checkCredentials(name: string, password: string): Promise<boolean | { problem: string }> {
    const { users, hasher, db } = this.deps;
    const user = users.find(name);
    if (!user || user.passwordHash) return hasher.verify(password, user?.passwordHash);
    const problem = passwordProblem(password, this.deps.auth.minPasswordLength);
    if (problem) return { problem: `This is your first login: the password you type now becomes yours. ${problem}` };
    const hash = await hasher.hash(password);
    // Two first logins at once: the first to finish sets the password, the other must match it.
    const now = users.findById(user.id);
    if (!now) return false;
    if (now.passwordHash) return hasher.verify(password, now.passwordHash);
    users.setPasswordHash(user.id, hash);
    await db.commit();
    return true;
  }
}

/** The authenticator `auth.loginMode` calls for. Join-code sign-ups log in with ordinary passwords. */
export function createAuthenticator(
  config: LecternConfig,
  deps: { db: Database; users: UserRepository; hasher: PasswordHasher },
): Authenticator {
  return config.auth.loginMode === 'first-use'
    ? new FirstUseAuthenticator({ ...deps, auth: config.auth })
    : new PasswordAuthenticator(deps.users, deps.hasher);
}
