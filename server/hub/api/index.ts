/**
 * The hub's REST API under `<base>hub/api`, JupyterHub 3.0 compatible, plus a few Lectern
 * extensions under `/hub/api/lectern/`. Every request is authenticated here (token, or cookie
 * from the hub's own pages); each handler checks its scopes. The route list is data
 * (`apiRoutes`), checked against the OpenAPI description in `openapi.yaml`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Router } from 'express';
import { parse as parseYaml } from 'yaml';
import { installRoot } from '../../package-info.js';
import type { HubContext } from '../context.js';
import { setIdentity } from '../identity.js';
import { metricsHandler } from '../metrics.js';
import { oauthRouter } from '../oauth.js';
import { activityRoutes } from './activity.js';
import { requireIdentity } from './authorize.js';
import { classRoutes } from './classes.js';
import { doctorRoutes } from './doctor.js';
import { exportRoutes } from './export.js';
import { eventRoutes } from './events.js';
import { groupRoutes } from './groups.js';
import { hubRoutes } from './hub.js';
import { joinRoutes } from './join.js';
import { announcementRoutes } from './announcement.js';
import { handoutRoutes, isHandoutUpload } from './handouts.js';
import { joinUrlRoutes } from './join-urls.js';
import { ModelAccess, serviceModel, userModel } from './models.js';
import { passwordRoutes } from './passwords.js';
import { rosterRoutes } from './roster.js';
import { route, mountRoutes, type ApiRoute } from './route.js';
import { serverRoutes } from './servers.js';
import { settingsRoutes } from './settings.js';
import { tokenRoutes } from './tokens.js';
import { userRoutes } from './users.js';
import { describeScopes } from '../../rbac/scopes.js';

const MAX_BODY = '1mb';
/** The API's description, served at GET /hub/api/openapi.yaml (the desktop app ships it: electron-builder.yml). */
export const OPENAPI_FILE = join(installRoot, 'server', 'hub', 'api', 'openapi.yaml');

/** Every API route. Building the list reads nothing from `ctx`: handlers use it when called. */
export function apiRoutes(ctx: HubContext): ApiRoute[] {
  let openapi: unknown;
  return [
    ...hubRoutes(ctx),

    route('get', '/user', (_req, res) => {
      const identity = requireIdentity(res);
      const scopes = describeScopes(identity.scopes);
      const sessionId = identity.token?.sessionId ?? null;
      if (identity.user) {
        const access = new ModelAccess(identity);
        res.json({ ...userModel(ctx, access, identity.user), session_id: sessionId === null ? null : String(sessionId), scopes });
      } else {
        const service = ctx.identities.services().find((candidate) => candidate.name === identity.name);
        const model = service ? serviceModel(ctx, null, service) : { kind: 'service', name: identity.name, admin: true };
        // JupyterHub builds this one from its database row, which leaves these three empty strings.
        res.json({ ...model, command: '', info: '', display: '', session_id: null, scopes });
      }
    }),

    ...userRoutes(ctx),
    ...passwordRoutes(ctx),
    ...serverRoutes(ctx),
    ...tokenRoutes(ctx),
    ...activityRoutes(ctx),
    ...groupRoutes(ctx),
    ...rosterRoutes(ctx),
    ...classRoutes(ctx),
    ...doctorRoutes(ctx),
    ...settingsRoutes(ctx),
    ...exportRoutes(ctx),
    ...eventRoutes(ctx),
    ...joinUrlRoutes(ctx),
    ...announcementRoutes(ctx),
    ...handoutRoutes(ctx),
    ...joinRoutes(ctx),

    route('get', '/metrics', metricsHandler(ctx)),

    route('get', '/openapi.json', (_req, res) => {
      openapi ??= parseYaml(readFileSync(OPENAPI_FILE, 'utf8'));
      res.json(openapi);
    }),
  ];
}

/** The API's express router, serving `routes` (the list `apiRoutes` gives). */
export function apiRouter(ctx: HubContext, routes: readonly ApiRoute[]): Router {
  const router = express.Router();
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
    setIdentity(res, ctx.identities.callerOfApi(req));
    next();
  });
  // As JupyterHub: any API path answers OPTIONS with an empty 200.
  router.options('/{*path}', (_req, res) => {
    res.status(200).end();
  });
  // JupyterHub parses the body as JSON whatever its Content-Type (curl's default form type included).
  // A handout's file is its bytes, streamed to disk by its handler.
  router.use(express.json({ type: (req) => !isHandoutUpload(req), limit: MAX_BODY, strict: false }));
  mountRoutes(router, routes);
  return router;
}
