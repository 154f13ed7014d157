/**
 * Login throttling: slows password guessing without ever locking anyone out for good.
 *
 * Two limits, as OWASP and the reference (security-and-reliability.md §4) advise, instead of
 * NativeAuthenticator's per-username lockout that lets one student lock the teacher out:
 *
 * - Per (name, address): the first few failures are free; after that each attempt must wait a delay
 *   that doubles with every further failure, capped at `maxDelayMs`, so the wait is never permanent.
 *   A success resets the key, and a key left alone for `forgetAfterMs` is forgotten.
 * - Overall: once `hubLimit` failures from other machines happened within `hubWindowMs`, across all
 *   keys, further attempts from other machines are refused until the oldest of them leave the window.
 *   Loopback attempts are neither counted nor refused by this limit: the teacher can always log in
 *   on their own machine.
 *
 * An attempt counts as a failure when it begins, not when its password check ends, so a burst of
 * parallel guesses cannot slip past the limit while bcrypt is busy; a success takes it back.
 * Pure logic with an injected clock: it decides, the caller answers.
 */

export interface ThrottleOptions {
  /** Failures per key before delays begin. */
  freeFailures?: number;
  /** The first delay; each further failure doubles it. */
  baseDelayMs?: number;
  /** The longest a key ever has to wait. */
  maxDelayMs?: number;
  /** A key with no attempt for this long starts afresh. */
  forgetAfterMs?: number;
  /** Failures from other machines within `hubWindowMs` at which they are refused. */
  hubLimit?: number;
  hubWindowMs?: number;
  /** Keys remembered at most; the quietest are forgotten first. */
  maxKeys?: number;
  /** Epoch milliseconds. */
  clock?: () => number;
}

/** An attempt let through, to report back with `succeeded()` if its credentials were right. */
export interface Attempt {
  readonly key: string;
  readonly at: number;
  readonly counted: boolean;
}

export type ThrottleDecision =
  | { allowed: true; attempt: Attempt }
  /** `scope` says which limit refused: this name from this address, or the whole hub. */
  | { allowed: false; retryAfterSeconds: number; scope: 'key' | 'hub' };

interface KeyState {
  failures: number;
  last: number;
}

const DEFAULTS = {
  freeFailures: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
  forgetAfterMs: 15 * 60_000,
  hubLimit: 100,
  hubWindowMs: 60_000,
  maxKeys: 10_000,
} as const;

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 addresses: this machine itself. */
export function isLoopback(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

export class LoginThrottle {
  private readonly options: Required<Omit<ThrottleOptions, 'clock'>>;
  private readonly clock: () => number;
  /** In order of last attempt, oldest first (re-inserted on every attempt). */
  private readonly keys = new Map<string, KeyState>();
  /** Times of recent counted failures from other machines, oldest first. */
  private readonly hubFailures: number[] = [];

  constructor(options: ThrottleOptions = {}) {
    const { clock, ...rest } = options;
    this.options = { ...DEFAULTS, ...rest };
    this.clock = clock ?? Date.now;
  }

  /**
   * Whether `name` may try a password from `address` now. When allowed, the attempt is counted as
   * a failure until `succeeded()` says otherwise.
   */
  attempt(name: string, address: string): ThrottleDecision {
    const now = this.clock();
    const counted = !isLoopback(address);
    if (counted) {
      const wait = this.hubWait(now);
      if (wait > 0) return { allowed: false, retryAfterSeconds: toSeconds(wait), scope: 'hub' };
    }
    const key = `${address}\n${name}`;
    const state = this.live(key, now);
    const wait = state ? state.last + this.delayAfter(state.failures) - now : 0;
    if (wait > 0) return { allowed: false, retryAfterSeconds: toSeconds(wait), scope: 'key' };

    this.keys.delete(key);
    this.keys.set(key, { failures: (state?.failures ?? 0) + 1, last: now });
    this.forgetQuietKeys(now);
    if (counted) this.hubFailures.push(now);
    return { allowed: true, attempt: { key, at: now, counted } };
  }

  /** The attempt's credentials were right: its key starts afresh, and it was no failure. */
  succeeded(attempt: Attempt): void {
    this.keys.delete(attempt.key);
    if (!attempt.counted) return;
    const index = this.hubFailures.lastIndexOf(attempt.at);
    if (index !== -1) this.hubFailures.splice(index, 1);
  }

  /** How long after its `failures`-th failure a key must wait before its next attempt. */
  private delayAfter(failures: number): number {
    const { freeFailures, baseDelayMs, maxDelayMs } = this.options;
    if (failures < freeFailures) return 0;
    // Capped before the power can grow large: 2^(failures - freeFailures) doubles past the cap quickly.
    const doublings = Math.min(failures - freeFailures, 30);
    return Math.min(maxDelayMs, baseDelayMs * 2 ** doublings);
  }

  private live(key: string, now: number): KeyState | undefined {
    const state = this.keys.get(key);
    if (state && now - state.last >= this.options.forgetAfterMs) {
      this.keys.delete(key);
      return undefined;
    }
    return state;
  }

  /** Milliseconds until the hub-wide failure rate is back under its limit; 0 when it is. */
  private hubWait(now: number): number {
    const { hubLimit, hubWindowMs } = this.options;
    while (this.hubFailures.length > 0 && (this.hubFailures[0] as number) <= now - hubWindowMs) this.hubFailures.shift();
    const excess = this.hubFailures.length - hubLimit;
    if (excess < 0) return 0;
    // The next attempt is allowed once `excess + 1` of the oldest failures have left the window.
    return (this.hubFailures[excess] as number) + hubWindowMs - now;
  }

  private forgetQuietKeys(now: number): void {
    for (const [key, state] of this.keys) {
      if (this.keys.size <= this.options.maxKeys && now - state.last < this.options.forgetAfterMs) break;
      this.keys.delete(key);
    }
  }
}

function toSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
