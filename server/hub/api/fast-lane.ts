/**
 * The fast lane: the API's hot reads (routes made with `read`: `GET /users`, `GET /users/{name}`)
 * answered ahead of express. Once their answers are cached, express's own work (its router, its
 * request and response objects) costs more than the reads: a bare express app with the hub's router
 * shape tops out near 5,100 req/s on the project's 2-core machine, 20× JupyterHub needs about 5,700
 * (bench/api-users.ts).
 *
 * It answers only what it can answer exactly as express would, and only with the read's 200: a GET
 * with no body and no conditional header, at a read's path spelled exactly as its route is (same
 * case, no trailing slash, a plain URL). Anything else, and every request the read refuses (a
 * missing scope, a user who does not exist, a bad argument), is handed to express untouched, which
 * answers it as it answers any request. What the lane did before handing over is not seen twice:
 * finding the caller only reads, and noting their activity moves it at most once every 30 s.
 * Everything the answer is made of comes from the same functions express uses: `beginRequest`
 * (headers, log), `callerOfApi` (authentication, activity) and the route's `read`.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { parse as parseQuery } from 'node:querystring';
import type { HubContext } from '../context.js';
import { beginRequest } from '../every-request.js';
import type { ApiParams, ApiRoute, JsonRead, ReadRequest } from './route.js';

/** Characters that make express parse a URL the slow way (parseurl's `fastparse`): such requests go to express. */
const UNUSUAL_URL = /[\t\n\f\r #\u00a0\ufeff]/;

interface Lane {
  /** The path's segments after the API's prefix; `{name}` segments are parameters. */
  segments: string[];
  read: JsonRead;
}

export function withFastLane(ctx: HubContext, routes: readonly ApiRoute[], app: RequestListener): RequestListener {
  const prefix = ctx.urls.api();
  const lanes: Lane[] = [];
  routes.forEach((route, index) => {
    const segments = route.path.slice(1).split('/');
    // Express answers with the first route that matches: a read behind another GET route it could share a path with stays express's.
    const shadowed = routes.slice(0, index).some((earlier) => earlier.method === 'get' && couldMatchSame(earlier.path.slice(1).split('/'), segments));
    if (route.read && !shadowed) lanes.push({ segments, read: route.read });
  });
  return (req, res) => {
    if (!answered(ctx, prefix, lanes, req, res)) app(req, res);
  };
}

function answered(ctx: HubContext, prefix: string, lanes: Lane[], req: IncomingMessage, res: ServerResponse): boolean {
  const url = req.url ?? '';
  const { headers } = req;
  if (req.method !== 'GET' || !url.startsWith(prefix) || UNUSUAL_URL.test(url)) return false;
  if (headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined) return false;
  // Express answers these with a 304 when it can: left to it.
  if (headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined) return false;
  const queryAt = url.indexOf('?');
  const path = queryAt < 0 ? url : url.slice(0, queryAt);
  const match = matchLane(lanes, path.slice(prefix.length).split('/'));
  if (!match) return false;

  const caller = ctx.identities.callerOfApi(req);
  const request: ReadRequest = {
    params: match.params,
    query: queryAt < 0 ? {} : parseQuery(url.slice(queryAt + 1)),
    headers,
    originalUrl: url,
    protocol: (req.socket as Partial<TLSSocket>).encrypted ? 'https' : 'http',
  };
  let body: string;
  try {
    body = match.read(caller, request);
  } catch {
    return false;
  }
  beginRequest(ctx, req, res, path, url);
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
  return true;
}

function matchLane(lanes: Lane[], segments: string[]): { read: JsonRead; params: ApiParams } | undefined {
  for (const lane of lanes) {
    if (lane.segments.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let matches = true;
    for (let i = 0; i < segments.length && matches; i++) {
      const expected = lane.segments[i] as string;
      const actual = segments[i] as string;
      if (expected.startsWith('{')) {
        const value = decoded(actual);
        if (value === undefined) matches = false;
        else params[expected.slice(1, -1)] = value;
      } else {
        matches = expected === actual;
      }
    }
    // Typed as present, as express's are: a read reads only the parameters its own path declares.
    if (matches) return { read: lane.read, params: params as unknown as ApiParams };
  }
  return undefined;
}

function couldMatchSame(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((segment, i) => segment === b[i] || segment.startsWith('{') || b[i]?.startsWith('{'));
}

/** A path parameter as express decodes it; undefined when empty or malformed (express answers those). */
function decoded(segment: string): string | undefined {
  if (segment === '') return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
