/**
 * One-time login links: the QR code on a printed login card. A link is as good as a password until
 * it is used, so its secret has 256 random bits, is stored only hashed, works once and expires. A
 * reprinted card leaves the cards already handed out working, unless the teacher revokes them (a
 * lost card); a new password revokes them all, as they go with the old one.
 */
import { randomBytes } from 'node:crypto';
import type { LoginLinkRecord, LoginLinkRepository } from '../store/login-links.js';
import { hashSecret } from './secrets.js';

/** A week: cards printed on Friday still work on Monday. */
export const DEFAULT_LINK_HOURS = 168;
/** A term's worth is too long for something that logs in without a password. */
export const MAX_LINK_HOURS = 30 * 24;
/** 32 bytes in base64url, without padding. */
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * A new link for `userId`, beside the earlier ones or, with `revokeEarlier`, replacing them. Returns
 * the secret, which is stored only hashed.
 */
export function issueLoginLink(links: LoginLinkRepository, userId: number, expiresAt: Date, revokeEarlier = false): string {
  if (revokeEarlier) links.deleteAllOf(userId);
  const secret = randomBytes(32).toString('base64url');
  links.create(userId, hashSecret(secret), expiresAt.toISOString());
  return secret;
}

/** Uses the link with this secret, once; undefined when it is unknown, used, expired or revoked. */
export function redeemLoginLink(links: LoginLinkRepository, secret: string): LoginLinkRecord | undefined {
  return SECRET_PATTERN.test(secret) ? links.use(hashSecret(secret)) : undefined;
}
