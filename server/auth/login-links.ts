/**
 * One-time login links: the QR code on a printed login card. A link is as good as a password until
 * it is used, so its secret has 256 random bits, is stored only hashed, works once and expires. A
 * reprinted card leaves the cards already handed out working, unless the teacher revokes them (a
 * lost card); a new password revokes them all, as they go with the old one.
 *
 * A card also carries a card code (`K7P2-QXM4`): a second, separate one-time login a student types
 * at whatever address the projector shows, for when the QR code's address no longer answers (the
 * laptop got another address from the school's network). It is short enough to type on a phone,
 * about 2^39 possibilities, and guessing at codes is throttled as logins are.
 */
import { randomBytes } from 'node:crypto';
import { normalizeJoinCode } from '../config/join-code.js';
import { readableCode } from './join-codes.js';
import type { LoginLinkRecord, LoginLinkRepository } from '../store/login-links.js';
import { hashSecret } from './secrets.js';

/** A week: cards printed on Friday still work on Monday. */
export const DEFAULT_LINK_HOURS = 168;
/** A term's worth is too long for something that logs in without a password. */
export const MAX_LINK_HOURS = 30 * 24;
/** 32 bytes in base64url, without padding. */
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** A card code once normalised: eight characters of the readable alphabet. */
const CODE_LENGTH = 4;
const CODE_PATTERN = /^[2-9A-Z]{8}$/;

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

/**
 * A new card code for `userId`, expiring with the card's link (`issueLoginLink` first, which may
 * revoke the earlier ones). Returns the code as printed; it is stored only hashed.
 */
export function issueCardCode(links: LoginLinkRepository, userId: number, expiresAt: Date): string {
  const code = readableCode(CODE_LENGTH);
  links.create(userId, hashSecret(normalizeJoinCode(code)), expiresAt.toISOString());
  return code;
}

/** Uses the card code a student typed (any case, spaces or dashes), once; undefined as a link would be. */
export function redeemCardCode(links: LoginLinkRepository, typed: string, now: Date): LoginLinkRecord | undefined {
  const code = normalizeJoinCode(typed);
  return CODE_PATTERN.test(code) ? links.use(hashSecret(code), now) : undefined;
}

/** Uses the link with this secret, once; undefined when it is unknown, used, expired or revoked. */
export function redeemLoginLink(links: LoginLinkRepository, secret: string, now: Date): LoginLinkRecord | undefined {
  return SECRET_PATTERN.test(secret) ? links.use(hashSecret(secret), now) : undefined;
}
