/**
 * Random secrets and how they are kept. Session ids and API tokens carry 256 bits of randomness,
 * so an unsalted SHA-256 is enough to store them (nothing to brute-force); passwords are different
 * and go through bcrypt (see passwords.ts).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new random secret as 64 hex characters (32 bytes). */
export function newSecret(): string {
  return randomBytes(32).toString('hex');
}

/** How a secret is stored: never the secret itself. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares two hex hashes without leaking, through timing, how much of them matched. */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}
