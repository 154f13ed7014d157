/**
 * `/hub/api/users/{name}/tokens…`: a user's API tokens. A new token is shown once, in the answer
 * that creates it; it may carry only scopes its owner holds.
 */
import type { Response } from 'express';
import { z } from 'zod';
import { AWAITING_APPROVAL } from '../../auth/login-attempts.js';
import { issueToken } from '../../auth/tokens.js';
import { roleScopes } from '../../rbac/roles.js';
import { assertKnownScopes, describeScopes, expandScopes, intersectScopes, scopeFilter } from '../../rbac/scopes.js';
import type { TokenRecord } from '../../store/tokens.js';
import type { UserRecord } from '../../store/users.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { identityOf, type Identity } from '../identity.js';
import { requireScope } from './authorize.js';
import { tokenModel } from './models.js';
import { route, type ApiRoute } from './route.js';
import { existingUser } from './users.js';
import { parseBody } from './validation.js';

/** A token may last at most a century; `null` (never expires) is the way to ask for longer. */
const MAX_EXPIRES_IN_SECONDS = 100 * 365 * 24 * 3600;

const createTokenBody = z.strictObject({
  note: z.string().optional(),
  expires_in: z
    .number()
    .positive()
    .max(MAX_EXPIRES_IN_SECONDS, `A token can last at most ${MAX_EXPIRES_IN_SECONDS} seconds (100 years); send null for one that never expires`)
    .nullable()
    .optional(),
  roles: z.array(z.string()).optional(),
  scopes: z.array(z.string()).optional(),
  // JupyterHub lets a client with no token ask for one with credentials.
  auth: z.strictObject({ username: z.string(), password: z.string() }).optional(),
});

export function tokenRoutes(ctx: HubContext): ApiRoute[] {
  const findToken = (user: UserRecord, id: string): TokenRecord => {
    const match = /^a(\d+)$/.exec(id);
    const record = match ? ctx.tokens.findById(Number(match[1])) : undefined;
    if (!record || record.userId !== user.id) throw new HttpError(404, `No such token ${id} for user ${user.name}`);
    return record;
  };

  return [
    route('get', '/users/{name}/tokens', (req, res) => {
      requireScope(res, ['read:tokens'], { user: req.params.name });
      const user = existingUser(ctx, req.params.name);
      res.json({ api_tokens: ctx.tokens.listForUser(user.id).map((record) => tokenModel(ctx, user, record)) });
    }),

    route('post', '/users/{name}/tokens', async (req, res) => {
      const body = parseBody(createTokenBody, req.body ?? {});
      const requester = identityOf(res) ?? (await authenticateWithPassword(ctx, res, body.auth));
      const name = req.params.name;
      const kind = requester.kind === 'service' ? 'Service' : 'User';
      const user = ctx.users.find(name);
      if (!user || !scopeFilter(requester.scopes, 'tokens', requester.groupsOf)({ user: name })) {
        throw new HttpError(403, `${kind} ${name} not found or no permissions to generate tokens`);
      }
      if (body.roles !== undefined && body.scopes !== undefined) {
        throw new HttpError(400, 'Can only assign one of scopes or roles');
      }
      const scopes = requestedScopes(ctx, body.roles, body.scopes);
      refuseScopesNotHeld(ctx, user, scopes);
      const note = body.note || `Requested via api${requester.user?.id === user.id ? '' : ` by ${requester.kind} ${requester.name}`}`;
      const { token, record } = ctx.db.transaction(() =>
        issueToken(ctx.tokens, {
          kind: 'api',
          userId: user.id,
          scopes,
          note,
          expiresAt: body.expires_in ? new Date(Date.now() + body.expires_in * 1000).toISOString() : null,
        }),
      );
      await ctx.db.commit();
      ctx.log.info(`${requester.kind} ${requester.name} created an API token for ${user.name}`);
      res.status(201).json({ ...tokenModel(ctx, user, record), token });
    }),

    route('get', '/users/{name}/tokens/{token_id}', (req, res) => {
      requireScope(res, ['read:tokens'], { user: req.params.name });
      const user = existingUser(ctx, req.params.name);
      res.json(tokenModel(ctx, user, findToken(user, req.params.token_id)));
    }),

    route('delete', '/users/{name}/tokens/{token_id}', async (req, res) => {
      requireScope(res, ['tokens'], { user: req.params.name });
      const user = existingUser(ctx, req.params.name);
      const record = findToken(user, req.params.token_id);
      ctx.db.transaction(() => {
        // An OAuth token stands for a login to a server: revoke all of that server's tokens.
        if (record.oauthClientId) ctx.tokens.deleteForClient(user.id, record.oauthClientId);
        else ctx.tokens.delete(record.id);
      });
      await ctx.db.commit();
      res.status(204).type('text/plain').end();
    }),
  ];
}

/** A client with no token logs in with a password: throttled, and refused, as the login page is. */
async function authenticateWithPassword(
  ctx: HubContext,
  res: Response,
  auth: { username: string; password: string } | undefined,
): Promise<Identity> {
  if (!auth) throw new HttpError(403, 'Missing or invalid credentials.');
  const outcome = await ctx.logins.logIn(auth.username, auth.password, res.req.socket.remoteAddress ?? '');
  if (outcome.kind === 'throttled') {
    res.set('Retry-After', String(outcome.retryAfterSeconds));
    throw new HttpError(429, outcome.message);
  }
  if (outcome.kind === 'awaiting-approval') throw new HttpError(403, AWAITING_APPROVAL);
  if (outcome.kind === 'refused') throw new HttpError(403, outcome.problem ?? 'Missing or invalid credentials.');
  return ctx.identities.forUser(outcome.user);
}

/** The raw scopes a new token gets: from `roles`, or `scopes`, or by default all its owner's (`inherit`). */
function requestedScopes(ctx: HubContext, roles: string[] | undefined, scopes: string[] | undefined): string[] {
  if (roles !== undefined) {
    const known = new Set(['user', 'admin', 'server', 'token', ...ctx.config.roles.map((role) => role.name)]);
    const unknown = roles.find((role) => !known.has(role));
    if (unknown) throw new HttpError(400, `Role ${unknown} does not exist`);
    return roleScopes(roles, ctx.config.roles);
  }
  if (scopes !== undefined) {
    try {
      assertKnownScopes(scopes);
    } catch (error) {
      throw new HttpError(400, (error as Error).message);
    }
    return scopes;
  }
  return ['inherit'];
}

function refuseScopesNotHeld(ctx: HubContext, user: UserRecord, scopes: string[]): void {
  if (scopes.includes('inherit')) return;
  const held = ctx.identities.userScopes(user);
  const owner = { kind: 'user' as const, name: user.name, groups: ctx.groups.groupsOf(user.id) };
  const requested = expandScopes(scopes, owner, held);
  const granted = intersectScopes(requested, held, ctx.identities.groupsOf);
  const missing = describeScopes([...requested].filter((scope) => !granted.has(scope)));
  if (missing.length > 0) {
    throw new HttpError(400, `Not assigning requested scopes ${missing.join(', ')} not held by User ${user.name}`);
  }
}
