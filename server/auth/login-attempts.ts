/**
 * A login attempt from start to finish, the same for the login page and for API clients that log
 * in with a password: throttled first (while throttled, the password is not even checked), then
 * checked by the authenticator, then the account's state (a sign-up awaiting approval).
 *
 * Every way a name can fail — unknown, wrong password, throttled, password too long — gets an
 * answer that does not depend on whether the name exists.
 */
import type { Logger } from '../logging/logger.js';
import type { UserRecord, UserRepository } from '../store/users.js';
import { loginName, type Authenticator } from './authenticator.js';
import { accountNameFor } from './login-names.js';
import type { Attempt, LoginThrottle } from './throttle.js';

/** What the login page says for a wrong name or password (the API says JupyterHub's words). */
export const WRONG_CREDENTIALS =
  'Invalid username or password. Check both and try again; if you have forgotten your password, ask your teacher to reset it.';
export const AWAITING_APPROVAL = 'Your account is waiting for your teacher to let you in. Log in again once they have.';

export type LoginOutcome =
  | { kind: 'ok'; user: UserRecord }
  /** The password was right, but the account is a sign-up the teacher has not approved yet. */
  | { kind: 'awaiting-approval'; user: UserRecord }
  /** `problem` says what to do differently (a password too long); null for a wrong name or password. */
  | { kind: 'refused'; problem: string | null }
  | Throttled;

export interface Throttled {
  kind: 'throttled';
  message: string;
  retryAfterSeconds: number;
}

export type Admission = { kind: 'admitted'; attempt: Attempt } | Throttled;

export class LoginAttempts {
  /** Whether the hub-wide limit refused the last attempt from another machine (it is logged once per episode). */
  private hubThrottled = false;

  constructor(
    private readonly deps: { authenticator: Authenticator; users: UserRepository; throttle: LoginThrottle; log: Logger },
  ) {}

  async logIn(username: string, password: string, address: string): Promise<LoginOutcome> {
    const name = accountNameFor(loginName(username), this.deps.users);
    const admission = this.admit(name, address);
    if (admission.kind === 'throttled') return admission;
    const result = await this.deps.authenticator.authenticate(name, password);
    const user = result.ok ? this.deps.users.find(result.name) : undefined;
    if (!user) {
      // Never the typed name: students type passwords into the name field.
      this.deps.log.info(`failed login from ${address}`);
      return { kind: 'refused', problem: result.ok ? null : result.problem };
    }
    this.succeeded(admission.attempt);
    return user.approved ? { kind: 'ok', user } : { kind: 'awaiting-approval', user };
  }

  /**
   * Lets an attempt at a secret typed on a form (a password, the class join code) through, or
   * refuses it while `subject` from `address` is throttled. Until `succeeded()`, it counts as failed.
   */
  admit(subject: string, address: string): Admission {
    const decision = this.deps.throttle.attempt(subject, address);
    if (decision.allowed) {
      if (decision.attempt.counted) this.hubThrottled = false;
      return { kind: 'admitted', attempt: decision.attempt };
    }
    const wait = `Wait ${decision.retryAfterSeconds} second${decision.retryAfterSeconds === 1 ? '' : 's'}, then try again.`;
    if (decision.scope === 'key') {
      return { kind: 'throttled', retryAfterSeconds: decision.retryAfterSeconds, message: `Too many failed attempts. ${wait}` };
    }
    if (!this.hubThrottled) {
      this.hubThrottled = true;
      this.deps.log.warn('too many failed logins across the hub: logins from other machines are refused for a while (logins on this machine still work)');
    }
    return {
      kind: 'throttled',
      retryAfterSeconds: decision.retryAfterSeconds,
      message: `Too many failed logins on this hub right now. ${wait} If it keeps happening, tell your teacher.`,
    };
  }

  /** The attempt's secret was right: it no longer counts against its name and address. */
  succeeded(attempt: Attempt): void {
    this.deps.throttle.succeeded(attempt);
  }
}
