/**
 * The hub's OAuth2 provider: the authorization-code flow each single-user server uses to learn who
 * the browser is (JupyterHub 3.0 wire protocol, reference §2).
 *
 *   browser → /hub/api/oauth2/authorize?client_id&redirect_uri&response_type=code&state
 *     → (login if needed) → 302 redirect_uri?code=…&state=…
 *   server → POST /hub/api/oauth2/token (client_id, client_secret = its API token, code, redirect_uri)
 *     → {"access_token", "token_type": "Bearer", "expires_in", "scope"}
 *
 * A student's own server is authorised without a question; opening someone else's (an admin
 * opening a student's) asks for confirmation first, as JupyterHub does.
 */
import { randomBytes } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { hashSecret, sameHash } from '../auth/secrets.js';
import { issueToken } from '../auth/tokens.js';
import { describeScopes, expandScopes, hasScope, identifyScopes, intersectScopes } from '../rbac/scopes.js';
import type { OAuthClientRecord, OAuthClientRepository } from '../store/oauth-clients.js';
import type { TokenRepository } from '../store/tokens.js';
import type { UserRecord, UserRepository } from '../store/users.js';
import type { Database } from '../store/database.js';
import { HttpError } from './http-error.js';
import { type Identity, type IdentityResolver } from './identity.js';
import { oauthConfirmPage } from './pages/templates.js';
import { fromOtherSite } from '../net/same-origin.js';
import type { HubUrls } from './urls.js';

const CODE_LIFETIME_MS = 300_000;

interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  userId: number;
  sessionId: number | null;
  scopes: string[];
  expires: number;
}

export interface OAuthDeps {
  db: Database;
  users: UserRepository;
  tokens: TokenRepository;
  clients: OAuthClientRepository;
  identities: IdentityResolver;
  urls: HubUrls;
  secure: boolean;
  tokenLifetimeSeconds: number;
}

export function oauthRouter(deps: OAuthDeps): Router {
  const router = express.Router();
  const codes = new Map<string, AuthorizationCode>();

  const authorize = async (req: Request, res: Response): Promise<void> => {
    const identity = deps.identities.fromCookie(req);
    if (!identity?.user) {
      res.redirect(302, deps.urls.login(req.originalUrl));
      return;
    }
    if (identity.user.mustChangePassword) {
      // As every hub page does after a teacher's reset: the student's own password first, then on.
      res.redirect(302, `${deps.urls.hub('change-password')}?next=${encodeURIComponent(req.originalUrl)}`);
      return;
    }
    const clientId = String(req.query.client_id ?? '');
    const redirectUri = String(req.query.redirect_uri ?? '');
    const client = deps.clients.find(clientId);
    if (!client) throw new HttpError(400, `Unknown OAuth client: ${clientId}`);
    if (redirectUri !== client.redirectUri) throw new HttpError(400, 'The redirect_uri does not match this OAuth client.');
    const responseType = req.query.response_type;
    if (responseType !== 'code') {
      const description = responseType ? 'Only response_type=code is supported.' : 'Missing response_type parameter.';
      const error = responseType ? 'unsupported_response_type' : 'invalid_request';
      res.redirect(302, withQuery(redirectUri, { error, error_description: description, state: req.query.state }));
      return;
    }
    const owner = client.userId != null ? deps.users.findById(client.userId) : undefined;
    const serverPath = serverOf(client, owner);
    if (!owner || !hasScope(identity.scopes, 'access:servers', { user: owner.name, server: serverPath }, identity.groupsOf)) {
      throw new HttpError(403, `You do not have permission to access ${client.description}.`);
    }
    const own = owner.id === identity.user.id;
    if (!own && req.method === 'GET') {
      res.type('html').send(oauthConfirmPage(deps.urls, { viewer: identity.name, description: client.description }));
      return;
    }
    if (!own && fromOtherSite(req, deps.secure)) {
      throw new HttpError(403, 'Authorization form must be sent from the authorization page.');
    }
    const code = randomBytes(24).toString('base64url');
    codes.set(code, {
      clientId,
      redirectUri,
      userId: identity.user.id,
      sessionId: identity.session?.id ?? null,
      scopes: grantedScopes(identity, client),
      expires: Date.now() + CODE_LIFETIME_MS,
    });
    res.redirect(302, withQuery(redirectUri, { code, state: req.query.state }));
  };

  router.get('/authorize', authorize);
  router.post('/authorize', express.urlencoded({ extended: false, limit: '16kb' }), authorize);

  router.post('/token', express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    const form = (req.body ?? {}) as Record<string, unknown>;
    const client = deps.clients.find(String(form.client_id ?? ''));
    if (!client || !sameHash(client.secretHash, hashSecret(String(form.client_secret ?? '')))) {
      res.status(401).set('WWW-Authenticate', 'Bearer error="invalid_client"').json({ error: 'invalid_client' });
      return;
    }
    if (form.grant_type !== 'authorization_code') {
      res.status(400).json({ error: 'unsupported_grant_type' });
      return;
    }
    const code = codes.get(String(form.code ?? ''));
    codes.delete(String(form.code ?? ''));
    if (!code || code.expires < Date.now() || code.clientId !== client.identifier) {
      res.status(400).json({ error: 'invalid_grant' });
      return;
    }
    if (form.redirect_uri !== code.redirectUri) {
      res.status(400).json({ error: 'invalid_grant', error_description: 'Mismatching redirect URI.' });
      return;
    }
    const { token } = deps.db.transaction(() =>
      issueToken(deps.tokens, {
        kind: 'oauth',
        userId: code.userId,
        scopes: code.scopes,
        note: `OAuth token for ${client.description}`,
        oauthClientId: client.identifier,
        sessionId: code.sessionId,
        expiresAt: new Date(Date.now() + deps.tokenLifetimeSeconds * 1000).toISOString(),
      }),
    );
    await deps.db.commit();
    res.json({
      access_token: token,
      token_type: 'Bearer',
      expires_in: deps.tokenLifetimeSeconds,
      scope: code.scopes.join(' '),
    });
  });

  // Expired codes would otherwise pile up if servers never redeem them.
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [code, grant] of codes) if (grant.expires < now) codes.delete(code);
  }, CODE_LIFETIME_MS);
  sweep.unref();
  return router;
}

/** `alice/` for alice's default server: the form `!server=` filters use. */
function serverOf(client: OAuthClientRecord, owner: UserRecord | undefined): string {
  const prefix = `jupyterhub-user-${encodeURIComponent(owner?.name ?? '')}`;
  const serverName = client.identifier.startsWith(`${prefix}-`) ? decodeURIComponent(client.identifier.slice(prefix.length + 1)) : '';
  return `${owner?.name ?? ''}/${serverName}`;
}

/**
 * No `scope` parameter is sent by single-user servers, so they get JupyterHub's default: the
 * client's allowed (access) scopes plus the identify scopes, resolved for the person logging in
 * and kept within what they hold.
 */
function grantedScopes(identity: Identity, client: OAuthClientRecord): string[] {
  const requested = expandScopes([...identifyScopes(), ...client.allowedScopes], {
    kind: 'user',
    name: identity.name,
    groups: [],
  });
  return describeScopes(intersectScopes(requested, identity.scopes, identity.groupsOf));
}

function withQuery(url: string, params: Record<string, unknown>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (typeof value === 'string') query.set(name, value);
  return `${url}${url.includes('?') ? '&' : '?'}${query.toString()}`;
}
