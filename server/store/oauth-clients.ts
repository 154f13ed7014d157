/**
 * OAuth clients: one per single-user server, registered at spawn, removed at stop. Its secret is
 * the server's API token (JupyterHub's contract: `client_secret` = `JUPYTERHUB_API_TOKEN`), stored hashed.
 * Deleting a client deletes the access tokens issued to it.
 */
import type { Database } from './database.js';

export interface OAuthClientRecord {
  identifier: string;
  secretHash: string;
  redirectUri: string;
  description: string;
  allowedScopes: string[];
  userId: number | null;
}

export class OAuthClientRepository {
  constructor(private readonly db: Database) {}

  upsert(client: OAuthClientRecord): void {
    this.db.run(
      `INSERT INTO oauth_clients (identifier, secret_hash, redirect_uri, description, allowed_scopes, user_id)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(identifier) DO UPDATE SET secret_hash = excluded.secret_hash, redirect_uri = excluded.redirect_uri,
         description = excluded.description, allowed_scopes = excluded.allowed_scopes, user_id = excluded.user_id`,
      [
        client.identifier,
        client.secretHash,
        client.redirectUri,
        client.description,
        JSON.stringify(client.allowedScopes),
        client.userId,
      ],
    );
  }

  find(identifier: string): OAuthClientRecord | undefined {
    const row = this.db.get<{
      identifier: string;
      secret_hash: string;
      redirect_uri: string;
      description: string;
      allowed_scopes: string;
      user_id: number | null;
    }>('SELECT * FROM oauth_clients WHERE identifier = ?', [identifier]);
    return (
      row && {
        identifier: row.identifier,
        secretHash: row.secret_hash,
        redirectUri: row.redirect_uri,
        description: row.description,
        allowedScopes: JSON.parse(row.allowed_scopes) as string[],
        userId: row.user_id,
      }
    );
  }

  delete(identifier: string): void {
    this.db.run('DELETE FROM oauth_clients WHERE identifier = ?', [identifier]);
  }
}
