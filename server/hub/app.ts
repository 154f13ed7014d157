/**
 * The hub's express app: pages, REST API, static files, and the final 404 and error handlers.
 * It is served twice: in-process behind the proxy on the public listener, and on a loopback
 * listener where single-user servers reach the API (JUPYTERHUB_API_URL).
 */
import { join } from 'node:path';
import type { RequestListener } from 'node:http';
import express from 'express';
import { installRoot } from '../package-info.js';
import { withFastLane } from './api/fast-lane.js';
import { apiRouter, apiRoutes } from './api/index.js';
import { healthCheck } from './api/hub.js';
import type { HubContext } from './context.js';
import { beginRequest } from './every-request.js';
import { errorHandler, HttpError, notFound } from './http-error.js';
import { pagesRouter } from './pages/routes.js';
import { metricsHandler } from './metrics.js';

/** The app, with the API's hot reads answered ahead of express (api/fast-lane.ts). */
export function createHubApp(ctx: HubContext): RequestListener {
  const { urls, log } = ctx;
  const routes = apiRoutes(ctx);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', false);

  app.use((req, res, next) => {
    beginRequest(ctx, req, res, req.path, req.originalUrl);
    next();
  });

  app.get(urls.hub('health'), healthCheck);
  app.get(urls.hub('metrics'), metricsHandler(ctx));
  app.use(urls.hub('static'), express.static(join(installRoot, 'assets', 'static'), { index: false, fallthrough: false, maxAge: '1h' }));
  app.use(urls.api(), apiRouter(ctx, routes));
  app.use(urls.hub(), pagesRouter(ctx));

  // Anything outside the hub's prefix that reaches the hub (no proxy route matched) is a hub path:
  // `/` → `/hub/`, `/user/alice/…` → `/hub/user/alice/…` (which explains a stopped server).
  app.use((req, res, next) => {
    const hubPath = urls.hub().slice(0, -1);
    if (req.path === hubPath) {
      res.redirect(301, urls.hub());
    } else if (!req.path.startsWith(urls.hub()) && req.originalUrl.startsWith(urls.base)) {
      const rest = req.originalUrl.slice(urls.base.length).replace(/^\/+/, '');
      if (req.method === 'GET' || req.method === 'HEAD') res.redirect(302, urls.hub(rest));
      else if (rest.startsWith('user/')) res.redirect(307, urls.hub(rest));
      else next(new HttpError(405, 'Method not allowed'));
    } else {
      next();
    }
  });
  app.use(notFound);
  app.use(errorHandler(log, urls));
  return withFastLane(ctx, routes, app);
}
