/**
 * API tokens: a user's own tokens, the token each single-user server gets at spawn, and the OAuth
 * access tokens the hub issues to those servers. Stored as SHA-256 hashes with a 4-character
 * prefix for lookup, as JupyterHub does.
 */
import type { Database } from './database.js';

export type TokenKind = 'api' | 'server' | 'oauth';

export interface TokenRecord {
  id: number;
  kind: TokenKind;
  userId: number | null;
  scopes: string[];
  note: string;
  oauthClientId: string | null;
  sessionId: number | null;
  created: string;
  expiresAt: string | null;
  lastActivity: string | null;
  hash: string;
}

interface TokenRow {
  id: number;
  hash: string;
  kind: TokenKind;
  user_id: number | null;
  scopes: string;
  note: string;
  oauth_client_id: string | null;
  session_id: number | null;
  created: string;
  expires_at: string | null;
  last_activity: string | null;
}

const toToken = (row: TokenRow): TokenRecord => ({
  id: row.id,
  kind: row.kind,
  userId: row.user_id,
  scopes: JSON.parse(row.scopes) as string[],
  note: row.note,
  oauthClientId: row.oauth_client_id,
  sessionId: row.session_id,
  created: row.created,
  expiresAt: row.expires_at,
  lastActivity: row.last_activity,
  hash: row.hash,
});

export interface NewToken {
  kind: TokenKind;
  userId: number;
  scopes: string[];
  note: string;
  oauthClientId?: string | null;
  sessionId?: number | null;
  expiresAt?: string | null;
}

export class TokenRepository {
  constructor(private readonly db: Database) {}

  /** `prefix` is the first characters of the token, `hash` its hash: the token itself is never stored. */
  create(token: NewToken, prefix: string, hash: string): TokenRecord {
    const created = new Date().toISOString();
    const { lastInsertRowid } = this.db.run(
      `INSERT INTO api_tokens (hash, prefix, kind, user_id, scopes, note, oauth_client_id, session_id, created, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        hash,
        prefix,
        token.kind,
        token.userId,
        JSON.stringify(token.scopes),
        token.note,
        token.oauthClientId ?? null,
        token.sessionId ?? null,
        created,
        token.expiresAt ?? null,
      ],
    );
    return this.findById(lastInsertRowid) as TokenRecord;
  }

  findById(id: number): TokenRecord | undefined {
    const row = this.db.get<TokenRow>('SELECT * FROM api_tokens WHERE id = ?', [id]);
    return row && toToken(row);
  }

  /** Candidates sharing a prefix; the caller compares hashes in constant time. Expired tokens are skipped. */
  findByPrefix(prefix: string, now = new Date()): TokenRecord[] {
    return this.db
      .all<TokenRow>('SELECT * FROM api_tokens WHERE prefix = ? AND (expires_at IS NULL OR expires_at > ?)', [
        prefix,
        now.toISOString(),
      ])
      .map(toToken);
  }

  /** A user's live tokens, least recently used first (JupyterHub's order); expired ones are dropped. */
  listForUser(userId: number, now = new Date()): TokenRecord[] {
    this.db.run('DELETE FROM api_tokens WHERE user_id = ? AND expires_at IS NOT NULL AND expires_at <= ?', [
      userId,
      now.toISOString(),
    ]);
    return this.db
      .all<TokenRow>('SELECT * FROM api_tokens WHERE user_id = ? ORDER BY COALESCE(last_activity, created), id', [userId])
      .map(toToken);
  }

  delete(id: number): void {
    this.db.run('DELETE FROM api_tokens WHERE id = ?', [id]);
  }

  /** Revokes every token a user was issued through one OAuth client (all of a server's logins). */
  deleteForClient(userId: number, oauthClientId: string): void {
    this.db.run('DELETE FROM api_tokens WHERE user_id = ? AND oauth_client_id = ?', [userId, oauthClientId]);
  }

  /**
   * Revokes every token that acts as the user themself: their own API tokens and the OAuth tokens
   * their browsers were given. Their servers' tokens stay, or running servers would lose the hub.
   */
  deletePersonalTokensOf(userId: number): void {
    this.db.run(`DELETE FROM api_tokens WHERE user_id = ? AND kind != 'server'`, [userId]);
  }

  /** Revokes the token(s) a server was started with, found by the note they carry. */
  deleteServerTokens(userId: number, note: string): void {
    this.db.run(`DELETE FROM api_tokens WHERE kind = 'server' AND user_id = ? AND note = ?`, [userId, note]);
  }

  touch(id: number, when: string): void {
    this.db.run('UPDATE api_tokens SET last_activity = ? WHERE id = ?', [when, id]);
  }
}
