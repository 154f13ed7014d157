/**
 * The class join code: what students type at /hub/join to create their own account when
 * `auth.loginMode` is "join-code". The teacher reads it off the projector, so a generated code is
 * short and uses only characters that cannot be mistaken for one another (no 0/O, 1/I/L, U/V).
 * It lives in the settings table, so it survives restarts until the teacher rotates it; a code
 * fixed in the config (`auth.joinCode`) is used as it is and cannot be rotated.
 */
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { normalizeJoinCode } from '../config/join-code.js';
import type { Database } from '../store/database.js';
import type { SettingsRepository } from '../store/settings.js';

const ALPHABET = '23456789ABCDEFGHJKMNPQRSTWXYZ';
const GROUP = 3;
const SETTING = 'joinCode';

/** A fresh code such as `K7P-2QX`: two groups of three, about 2^29 possibilities (guessing is throttled). */
export function generateJoinCode(random: (max: number) => number = randomInt): string {
  return readableCode(GROUP, random);
}

/** Two dash-separated groups of `length` characters nobody mixes up, such as `K7P2-QXM4`. */
export function readableCode(length: number, random: (max: number) => number = randomInt): string {
  const char = () => ALPHABET[random(ALPHABET.length)] as string;
  const group = () => Array.from({ length }, char).join('');
  return `${group()}-${group()}`;
}

export class FixedJoinCodeError extends Error {
  override readonly name = 'FixedJoinCodeError';
  constructor() {
    super('The join code is fixed by auth.joinCode in the config file: change it there (or set it to null to let Lectern choose and rotate one), then restart Lectern.');
  }
}

export class JoinCodes {
  private constructor(
    private readonly deps: { db: Database; settings: SettingsRepository; fixed: string | null },
    private code: string,
  ) {}

  /** The hub's join code: the configured one, else the stored one, else a new one (stored at once). */
  static async open(deps: { db: Database; settings: SettingsRepository; fixed: string | null }): Promise<JoinCodes> {
    if (deps.fixed !== null) return new JoinCodes(deps, deps.fixed);
    const stored = deps.settings.get<string>(SETTING);
    if (stored !== undefined) return new JoinCodes(deps, stored);
    const codes = new JoinCodes(deps, generateJoinCode());
    deps.settings.set(SETTING, codes.code);
    await deps.db.commit();
    return codes;
  }

  /** True when the code comes from the config file and cannot be rotated. */
  get fixed(): boolean {
    return this.deps.fixed !== null;
  }

  /** The code as the teacher shows it. */
  current(): string {
    return this.code;
  }

  /** Whether a student typed the code; constant-time, so the answer's timing says nothing about it. */
  matches(typed: string): boolean {
    const digest = (code: string) => createHash('sha256').update(normalizeJoinCode(code)).digest();
    return timingSafeEqual(digest(typed), digest(this.code));
  }

  /** Replaces a generated code with a new one, on disk before it returns; the old code stops working. */
  async rotate(): Promise<string> {
    if (this.fixed) throw new FixedJoinCodeError();
    let next = generateJoinCode();
    while (next === this.code) next = generateJoinCode();
    this.deps.settings.set(SETTING, next);
    await this.deps.db.commit();
    this.code = next;
    return next;
  }
}
