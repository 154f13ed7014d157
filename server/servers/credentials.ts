/**
 * A server's credentials, as JupyterHub issues them: an API token with the `server` role (it may
 * report activity and check its users' logins, nothing more) and, for jupyterhub-singleuser, which
 * logs browsers in with OAuth, an OAuth client whose secret is that token. Both are revoked when the
 * server stops. While it runs, the token is also kept in a file only the hub reads, so a hub that
 * restarts can prove a server it finds is the one it started.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { hashSecret } from '../auth/secrets.js';
import { issueToken, resolveToken } from '../auth/tokens.js';
import { accessScopesFor, serverOAuthClientAllowedScopes, serverTokenScopes } from '../rbac/roles.js';
import type { LaunchMode } from '../spawner/discovery.js';
import type { Database } from '../store/database.js';
import type { OAuthClientRepository } from '../store/oauth-clients.js';
import type { ServerRepository } from '../store/servers.js';
import type { TokenRecord, TokenRepository } from '../store/tokens.js';
import type { UserRecord } from '../store/users.js';

export interface ServerCredentialsDeps {
  db: Database;
  tokens: TokenRepository;
  oauthClients: OAuthClientRepository;
  servers: ServerRepository;
}

export class ServerCredentials {
  constructor(private readonly deps: ServerCredentialsDeps) {}

  /**
   * Records a start of `user`'s server `name` (with its `userOptions`, JupyterHub's user_options)
   * and issues its token, and its OAuth client in singleuser mode. Not committed: the caller commits
   * once the server is ready.
   */
  issue(user: UserRecord, name: string, prefix: string, userOptions: Record<string, unknown>, mode: LaunchMode): { token: string; tokenId: number } {
    const { db, tokens, oauthClients, servers } = this.deps;
    return db.transaction(() => {
      servers.saveOptions(user.id, name, userOptions);
      const { token, record } = issueToken(tokens, { kind: 'server', userId: user.id, scopes: serverTokenScopes(), note: serverTokenNote(prefix) });
      if (mode === 'singleuser') {
        oauthClients.upsert({
          identifier: clientId(user.name, name),
          secretHash: hashSecret(token),
          redirectUri: `${prefix}oauth_callback`,
          description: `Server at ${prefix}`,
          allowedScopes: serverOAuthClientAllowedScopes(user.name, name),
          userId: user.id,
        });
      }
      return { token, tokenId: record.id };
    });
  }

  /** The token's record, if `token` is still a live credential. */
  resolve(token: string): TokenRecord | undefined {
    return resolveToken(this.deps.tokens, token);
  }

  /**
   * Revokes a server's credentials and records it stopped: its token (`tokenId`, or every token
   * issued for `prefix` when the hub no longer knows which), and its OAuth client with that
   * client's access tokens. Not committed.
   */
  revoke(user: UserRecord, name: string, revoked: { tokenId: number } | { prefix: string }): void {
    const { db, tokens, oauthClients, servers } = this.deps;
    db.transaction(() => {
      if ('tokenId' in revoked) tokens.delete(revoked.tokenId);
      else tokens.deleteServerTokens(user.id, serverTokenNote(revoked.prefix));
      oauthClients.delete(clientId(user.name, name));
      servers.saveStopped(user.id, name);
    });
  }
}

/** The OAuth client id JupyterHub gives a server; also the single-user server's cookie name. */
export function clientId(user: string, serverName: string): string {
  return `jupyterhub-user-${encodeURIComponent(user)}${serverName ? `-${encodeURIComponent(serverName)}` : ''}`;
}

/** The note on a server's API token, as JupyterHub writes it; also how a leftover token is found. */
function serverTokenNote(prefix: string): string {
  return `Server at ${prefix}`;
}

/** Kept 0600 in a hub-owned folder that no server's sandbox contains, never in the database. */
export async function saveServerToken(file: string, token: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, token, { mode: 0o600 });
}

export function readServerToken(file: string): Promise<string> {
  return readFile(file, 'utf8').catch(() => '');
}

export function removeServerToken(file: string): Promise<void> {
  return rm(file, { force: true });
}

/** Where a server reaches the hub, and what JupyterHub tells it about itself. */
export interface HubEnvironmentPlace {
  user: string;
  serverName: string;
  /** `/user/alice/`. */
  prefix: string;
  token: string;
  /** The hub API on loopback, e.g. `http://127.0.0.1:8081/hub/api`. */
  apiUrl: string;
  baseUrl: string;
  rootDir: string;
  defaultUrl: string;
}

/** The JupyterHub 3.0 environment contract of a single-user server (JUPYTERHUB_*), minus its own URL. */
export function jupyterhubEnvironment(place: HubEnvironmentPlace): Record<string, string> {
  const { user, serverName, prefix, token, apiUrl } = place;
  const accessScopes = JSON.stringify(accessScopesFor(user, serverName));
  const env: Record<string, string> = {
    JUPYTERHUB_API_TOKEN: token,
    JPY_API_TOKEN: token,
    JUPYTERHUB_CLIENT_ID: clientId(user, serverName),
    JUPYTERHUB_API_URL: apiUrl,
    JUPYTERHUB_ACTIVITY_URL: `${apiUrl}/users/${encodeURIComponent(user)}/activity`,
    JUPYTERHUB_BASE_URL: place.baseUrl,
    JUPYTERHUB_SERVICE_PREFIX: prefix,
    JUPYTERHUB_USER: user,
    JUPYTERHUB_SERVER_NAME: serverName,
    JUPYTERHUB_HOST: '',
    JUPYTERHUB_OAUTH_CALLBACK_URL: `${prefix}oauth_callback`,
    JUPYTERHUB_OAUTH_ACCESS_SCOPES: accessScopes,
    JUPYTERHUB_OAUTH_SCOPES: accessScopes,
    JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES: '[]',
    JUPYTERHUB_ROOT_DIR: place.rootDir,
  };
  if (place.defaultUrl) env.JUPYTERHUB_DEFAULT_URL = place.defaultUrl;
  return env;
}
