/**
 * configurable-http-proxy's REST API over a RouteTable, as a request listener: JupyterHub's
 * `ConfigurableHTTPProxy` (and anything else written for CHP) manages Lectern's routes with it.
 *
 *   GET    /api/routes[?inactive_since=<date>]   every route, or those idle since before <date>
 *   GET    /api/routes/<path>                     one route, 404 if absent
 *   POST   /api/routes/<path>  {"target": …, …}   add or replace; the whole object is the route's data
 *   DELETE /api/routes/<path>                     204, or 404 if absent
 *
 * As CHP: the token is read from `Authorization` with CHP's unanchored `token\s+(\S+)` (so
 * `token S`, `Bearer token S` pass; `Token S`, `Bearer S` do not) and a wrong one gets a 403 with
 * an empty body; other methods get 405 before any auth check; paths are percent-decoded, a leading
 * `/` added and one trailing `/` dropped; `last_activity` is ISO 8601 with milliseconds and `Z`.
 * Deliberately better than CHP: the token is checked before a POST body is read (CHP parses the
 * body first, so a bad body with a bad token is a 400), the body is capped, targets must be URLs
 * the proxy can forward to, and a malformed escape or a bare `DELETE /api/routes` gets a 400
 * instead of a request that never ends.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type RequestListener, type ServerResponse, STATUS_CODES } from 'node:http';
import { type Logger, scrubUrl } from '../logging/logger.js';
import { normalizePrefix, type Route, type RouteTable, validateTarget } from './route-table.js';

export interface RouteApiOptions {
  routes: RouteTable;
  /** The API token (CHP's `CONFIGPROXY_AUTH_TOKEN`); unset or empty leaves the API open, as CHP does. */
  authToken: string | undefined;
  log: Logger;
  /** With host routing a route's first segment is its host, which POST records as `host` (as CHP). */
  hostRouting?: boolean;
}

const ROUTES_PATH = /^\/api\/routes(\/.*)?$/;
const TOKEN_PATTERN = /token\s+(\S+)/;
/** Route data is a few short fields; anything near this is not a route. */
const MAX_BODY_BYTES = 1024 * 1024;

/** One route as CHP's API shows it: the stored data, its target, and `last_activity`. */
export function routeModel(route: Route): Record<string, unknown> {
  return { ...route.data, target: route.target, last_activity: new Date(route.lastActivity).toISOString() };
}

export function createRouteApi(options: RouteApiOptions): RequestListener {
  const { routes, log } = options;
  const token = options.authToken ? digest(options.authToken) : undefined;

  const authorized = (req: IncomingMessage): boolean => {
    if (token === undefined) return true;
    const match = TOKEN_PATTERN.exec(req.headers.authorization ?? '');
    return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), token);
  };

  return (req, res) => {
    res.once('finish', () => logResponse(log, req, res));
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'https://example.com').pathname;
    } catch {
      answer(res, 400, 'Invalid request URL');
      return;
    }
    const match = ROUTES_PATH.exec(pathname);
    if (match === null) {
      answer(res, 404);
      return;
    }
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'POST' && method !== 'DELETE') {
      answer(res, 405, 'Method not supported');
      return;
    }
    if (!authorized(req)) {
      log.debug('rejected an API request with a missing or wrong token');
      answer(res, 403, '');
      return;
    }
    let path: string | undefined;
    try {
      path = match[1] === undefined ? undefined : decodeURIComponent(match[1]);
    } catch {
      answer(res, 400, 'Invalid route path: malformed %-escape');
      return;
    }
    if (method === 'GET') getRoutes(req, res, path);
    else if (method === 'POST') void postRoute(req, res, path);
    else deleteRoute(res, path);
  };

  function getRoutes(req: IncomingMessage, res: ServerResponse, path: string | undefined): void {
    if (path !== undefined && path !== '/') {
      const route = routes.get(path);
      if (route === undefined) answer(res, 404, '');
      else json(res, 200, routeModel(route));
      return;
    }
    const query = new URL(req.url ?? '/', 'https://example.com').searchParams;
    const since = query.get('inactiveSince') || query.get('inactive_since');
    let cutoff: number | undefined;
    if (since) {
      cutoff = Date.parse(since);
      if (!Number.isFinite(cutoff)) {
        answer(res, 400, `Invalid datestamp '${since}' must be ISO8601.`);
        return;
      }
    }
    const table: Record<string, unknown> = {};
    for (const route of routes.list()) {
      if (cutoff === undefined || route.lastActivity < cutoff) table[route.prefix] = routeModel(route);
    }
    json(res, 200, table);
  }

  async function postRoute(req: IncomingMessage, res: ServerResponse, path: string | undefined): Promise<void> {
    let text: string;
    try {
      text = await readBody(req);
    } catch (error) {
      answer(res, (error as { status?: number }).status ?? 400, (error as Error).message);
      return;
    }
    let data: unknown;
    try {
      data = JSON.parse(text) || {};
    } catch (error) {
      answer(res, 400, `Body not valid JSON: ${String(error)}`);
      return;
    }
    const target = (data as { target?: unknown }).target;
    if (typeof target !== 'string') {
      log.warn('bad POST data: no target');
      answer(res, 400, "Must specify 'target' as string");
      return;
    }
    try {
      validateTarget(target);
    } catch (error) {
      answer(res, 400, (error as Error).message);
      return;
    }
    const key = normalizePrefix(path ?? '/');
    const stored = { ...(data as Record<string, unknown>) };
    if (options.hostRouting && key !== '/') stored.host = key.split('/')[1];
    routes.add(key, target, stored);
    log.info(`Route added ${key} -> ${scrubUrl(target)}`);
    answer(res, 201, '');
  }

  function deleteRoute(res: ServerResponse, path: string | undefined): void {
    if (path === undefined) {
      answer(res, 400, 'Say which route to delete: DELETE /api/routes/<path> (DELETE /api/routes/ is the root route)');
      return;
    }
    const key = normalizePrefix(path);
    if (!routes.delete(key)) {
      answer(res, 404, '');
      return;
    }
    log.info(`Route removed ${key}`);
    answer(res, 204, '');
  }
}

/** A plain-text answer as CHP gives them: no Content-Type; `undefined` means the reason phrase. */
function answer(res: ServerResponse, status: number, body?: string): void {
  if (res.headersSent) return;
  if (status === 413) res.setHeader('Connection', 'close');
  res.writeHead(status);
  res.end(body ?? STATUS_CODES[status] ?? '');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Stop reading; the answer closes the connection, so the rest is never parsed.
        req.removeAllListeners('data');
        req.pause();
        reject(Object.assign(new Error(`Body too large (over ${MAX_BODY_BYTES} bytes)`), { status: 413 }));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function logResponse(log: Logger, req: IncomingMessage, res: ServerResponse): void {
  const line = `${res.statusCode} ${req.method ?? ''} ${scrubUrl(req.url ?? '/')}`;
  if (res.statusCode < 400) log.info(line);
  else if (res.statusCode < 500) log.warn(line);
  else log.error(line);
}
