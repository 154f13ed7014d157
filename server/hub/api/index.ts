/**
 * The hub's REST API under `<base>hub/api`, JupyterHub 3.0 compatible. Every request is
 * authenticated here (token, or cookie from the hub's own pages); each handler checks its scopes.
 */
import express, { type Router } from 'express';
import type { HubContext } from '../context.js';
import { setIdentity } from '../identity.js';
import { oauthRouter } from '../oauth.js';
import { activityRouter } from './activity.js';
import { requireIdentity } from './authorize.js';
import { userModel } from './models.js';
import { serversRouter } from './servers.js';
import { usersRouter } from './users.js';

/** The version single-user servers check; they warn on a major.minor mismatch. */
export const JUPYTERHUB_VERSION = '3.0.0';
const MAX_BODY = '1mb';

export function apiRouter(ctx: HubContext): Router {
  const router = express.Router();

  // The single-user server checks the hub with an unauthenticated GET of the API root.
  router.get('/', (_req, res) => {
    res.json({ version: JUPYTERHUB_VERSION });
  });

  router.use(
    '/oauth2',
    oauthRouter({
      db: ctx.db,
      users: ctx.users,
      tokens: ctx.tokens,
      clients: ctx.oauthClients,
      identities: ctx.identities,
      urls: ctx.urls,
      secure: ctx.secure,
      tokenLifetimeSeconds: ctx.config.auth.sessionMaxAgeDays * 86_400,
    }),
  );

  router.use((req, res, next) => {
    setIdentity(res, ctx.identities.forApi(req));
    next();
  });
  // JupyterHub parses the body as JSON whatever its Content-Type (curl's default form type included).
  router.use(express.json({ type: () => true, limit: MAX_BODY, strict: false }));

  router.get('/user', (_req, res) => {
    const identity = requireIdentity(res);
    const scopes = [...identity.scopes].sort();
    const sessionId = identity.token?.sessionId ?? null;
    if (identity.user) {
      res.json({ ...userModel(ctx, identity.user), session_id: sessionId === null ? null : String(sessionId), scopes });
    } else {
      res.json({ kind: 'service', name: identity.name, admin: scopes.includes('admin:users'), roles: [], scopes });
    }
  });

  router.use(usersRouter(ctx));
  router.use(serversRouter(ctx));
  router.use(activityRouter(ctx));
  return router;
}
