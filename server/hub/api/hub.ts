/**
 * The hub itself: `/info`, `/services`, `/proxy` (the route table) and `/shutdown`.
 */
import type { Response } from 'express';
import { z } from 'zod';
import { lecternVersion } from '../../package-info.js';
import { scopeFilter } from '../../rbac/scopes.js';
import type { HubContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { requireIdentity, requireListScope, requireScope } from './authorize.js';
import { ModelAccess, serviceModel } from './models.js';
import { pageBody, readPage } from './pagination.js';
import { route, type ApiRoute } from './route.js';
import { parseBody } from './validation.js';
import { JUPYTERHUB_VERSION } from './version.js';

/** `GET /hub/health` and `/hub/api/health`: 200 with an empty body while the hub runs, as JupyterHub. */
export function healthCheck(_req: unknown, res: Response): void {
  res.status(200).type('html').end();
}

const proxyPatchBody = z.strictObject({ api_url: z.string().optional(), auth_token: z.string().optional() });
const shutdownBody = z.strictObject({ proxy: z.boolean().optional(), servers: z.boolean().optional() });

export function hubRoutes(ctx: HubContext): ApiRoute[] {
  const access = (res: Response) => new ModelAccess(requireIdentity(res));

  return [
    route('get', '/', (_req, res) => {
      // The single-user server checks the hub with this unauthenticated request.
      res.json({ version: JUPYTERHUB_VERSION });
    }),

    route('get', '/health', healthCheck),

    route('get', '/info', (_req, res) => {
      requireScope(res, ['read:hub']);
      res.json({
        version: JUPYTERHUB_VERSION,
        // The hub runs on Node.js, not Python: these say so rather than invent a Python.
        python: `Node.js ${process.version}`,
        sys_executable: process.execPath,
        spawner: { class: 'lectern.LocalProcessSpawner', version: lecternVersion },
        authenticator: { class: `lectern.${ctx.authenticator.constructor.name}`, version: lecternVersion },
      });
    }),

    route('get', '/services', (_req, res) => {
      const identity = requireListScope(res, 'list:services');
      const listable = scopeFilter(identity.scopes, 'list:services');
      const viewer = access(res);
      const models: Record<string, unknown> = {};
      for (const service of ctx.identities.services()) {
        const model = listable({ service: service.name }) && serviceModel(ctx, viewer, service);
        if (model) models[service.name] = model;
      }
      res.json(models);
    }),

    route('get', '/services/{name}', (req, res) => {
      requireScope(res, ['read:services', 'read:services:name', 'read:roles:services'], { service: req.params.name });
      const service = ctx.identities.services().find((candidate) => candidate.name === req.params.name);
      if (!service) throw new HttpError(404, `No such service: ${req.params.name}`);
      res.json(serviceModel(ctx, access(res), service));
    }),

    route('get', '/proxy', (req, res) => {
      requireScope(res, ['proxy']);
      const page = readPage(req);
      const routes = [
        // The hub has no route of its own (the proxy hands it every unrouted request in-process);
        // JupyterHub clients expect to see one, so it is shown where the hub also listens.
        { routespec: ctx.urls.base, target: ctx.hubUrl(), data: { hub: true, last_activity: new Date(ctx.hubActivity.last).toISOString() } },
        ...ctx.routes.list().map((entry) => ({
          routespec: entry.prefix.endsWith('/') ? entry.prefix : `${entry.prefix}/`,
          target: entry.target,
          data: { ...entry.data, last_activity: new Date(entry.lastActivity).toISOString() },
        })),
      ].sort((a, b) => (a.routespec < b.routespec ? -1 : a.routespec > b.routespec ? 1 : 0));
      // Routes are keyed by routespec, in the paginated form too (JupyterHub's shape).
      const items = Object.fromEntries(routes.slice(page.offset, page.offset + page.limit).map((item) => [item.routespec, item]));
      res.json(page.wrapped ? pageBody(req, page, items, routes.length) : items);
    }),

    route('post', '/proxy', (_req, res) => {
      requireScope(res, ['proxy']);
      const { added, removed } = ctx.servers.syncRoutes();
      if (added || removed) ctx.log.info('proxy routes resynced', { added, removed });
      res.status(200).end();
    }),

    route('patch', '/proxy', (req, res) => {
      requireScope(res, ['proxy']);
      const body = parseBody(proxyPatchBody, req.body ?? {});
      if (body.api_url !== undefined || body.auth_token !== undefined) {
        throw new HttpError(400, "Lectern's proxy runs inside the hub: it has no separate API to repoint.");
      }
      ctx.servers.syncRoutes();
      res.status(200).end();
    }),

    route('post', '/shutdown', (req, res) => {
      requireScope(res, ['shutdown']);
      parseBody(shutdownBody, req.body ?? {});
      res.status(202).json({ message: 'Shutting down Hub' });
      // Answer first; every student server is stopped on the way out.
      res.on('finish', () => ctx.requestShutdown());
    }),
  ];
}
