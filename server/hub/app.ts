/**
 * The hub's express app: pages, REST API, static files, and the final 404 and error handlers.
 * It is served twice: in-process behind the proxy on the public listener, and on a loopback
 * listener where single-user servers reach the API (JUPYTERHUB_API_URL).
 */
import { join } from 'node:path';
import express, { type Express, type Request } from 'express';
import { clearSessionCookiesFor, hasTossedSessionCookie } from '../auth/sessions.js';
import { scrubUrl } from '../logging/logger.js';
import { installRoot } from '../package-info.js';
import { apiRouter } from './api/index.js';
import { healthCheck } from './api/hub.js';
import { JUPYTERHUB_VERSION } from './api/version.js';
import type { HubContext } from './context.js';
import { errorHandler, HttpError, notFound } from './http-error.js';
import { pagesRouter } from './pages/routes.js';
import { metricsHandler } from './metrics.js';

const PAGE_CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";
const API_CSP = "default-src 'none'; frame-ancestors 'none'";
/** A Host header's host name or bracketed IPv6 address, without the port. */
const HOST_NAME = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d+)?$/;

/**
 * Where the hub's forms may lead. A login, a login link or an OAuth confirmation ends at a student's
 * server, and browsers hold every redirect after a form to `form-action`: with a port per server
 * (network.serverOrigins: ports), that is any port of the host the browser used.
 */
function formAction(req: Request, scheme: string, serverPorts: boolean): string {
  const host = serverPorts ? HOST_NAME.exec(req.headers.host ?? '')?.[1] : undefined;
  return host ? `form-action 'self' ${scheme}://${host}:*` : "form-action 'self'";
}

export function createHubApp(ctx: HubContext): Express {
  const { urls, log } = ctx;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', false);

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    ctx.hubActivity.last = Date.now();
    const api = req.path.startsWith(urls.api());
    res.set({
      'X-JupyterHub-Version': JUPYTERHUB_VERSION,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
      // A window a student's page opens (or that opens the hub) gets no handle on the hub's pages.
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Content-Security-Policy': api ? API_CSP : `${PAGE_CSP}; ${formAction(req, ctx.secure ? 'https' : 'http', ctx.config.network.serverOrigins === 'ports')}`,
    });
    // A second login cookie was planted (by a page of the same host, under another path): this
    // request is logged out (see findSession), and the browser is told to forget both.
    if (hasTossedSessionCookie(req)) {
      clearSessionCookiesFor(res, req.path, ctx.secure);
      log.warn(`a request to ${scrubUrl(req.originalUrl)} carried two login cookies: treated as logged out, both cleared`);
    }
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const line = `${res.statusCode} ${req.method} ${scrubUrl(req.originalUrl)} ${ms.toFixed(1)}ms`;
      if (res.statusCode >= 500) log.error(line);
      else if (res.statusCode >= 400) log.warn(line);
      else log.debug(line);
    });
    next();
  });

  app.get(urls.hub('health'), healthCheck);
  app.get(urls.hub('metrics'), metricsHandler(ctx));
  app.use(urls.hub('static'), express.static(join(installRoot, 'assets', 'static'), { index: false, fallthrough: false, maxAge: '1h' }));
  app.use(urls.api(), apiRouter(ctx));
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
  return app;
}
