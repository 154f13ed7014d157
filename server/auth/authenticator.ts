/**
 * The Authenticator contract, as JupyterHub's: `authenticate()` is final — it normalises the name,
 * asks the one hook, `checkCredentials()`, and never tells an unknown name from a wrong password
 * (same answer, same work). Implementations fill only the hook.
 */
import type { UserRepository } from '../store/users.js';
import type { PasswordHasher } from './passwords.js';
import { normalizeUsername } from './usernames.js';

const MAX_INPUT_LENGTH = 1024;

export abstract class Authenticator {
  /** The normalised username if the credentials are good, else null. */
  async authenticate(rawName: string, password: string): Promise<string | null> {
    const name = normalizeUsername(rawName.slice(0, MAX_INPUT_LENGTH));
    return (await this.checkCredentials(name, password.slice(0, MAX_INPUT_LENGTH))) ? name : null;
  }

  /** True if `password` is right for `name`. Must take as long for an unknown name as for a known one. */
  protected abstract checkCredentials(name: string, password: string): Promise<boolean>;
}

/** Accounts with passwords set by the teacher, checked against their bcrypt hashes. */
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
