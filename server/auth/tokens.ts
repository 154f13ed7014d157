/**
 * Issuing and resolving API tokens. A token is shown once, when issued; the store keeps its hash
 * and a 4-character prefix to find candidates without scanning every row.
 */
import type { NewToken, TokenRecord, TokenRepository } from '../store/tokens.js';
import { hashSecret, newSecret, sameHash } from './secrets.js';

const PREFIX_LENGTH = 4;

export function issueToken(tokens: TokenRepository, spec: NewToken): { token: string; record: TokenRecord } {
  const token = newSecret();
  const record = tokens.create(spec, token.slice(0, PREFIX_LENGTH), hashSecret(token));
  return { token, record };
}

/** The live (unexpired) token record for `token`, if any. */
export function resolveToken(tokens: TokenRepository, token: string): TokenRecord | undefined {
  if (token.length < PREFIX_LENGTH) return undefined;
  const hash = hashSecret(token);
  return tokens.findByPrefix(token.slice(0, PREFIX_LENGTH)).find((record) => sameHash(record.hash, hash));
}

/** The token in an `Authorization: token …` or `Authorization: bearer …` header, as JupyterHub reads it. */
export function tokenFromAuthorizationHeader(header: string | undefined): string | undefined {
  const match = header ? /^(?:token|bearer)\s+(\S+)$/i.exec(header.trim()) : null;
  return match?.[1];
}
