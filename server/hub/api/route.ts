/**
 * API routes as data: a method, a path in OpenAPI's form (`/users/{name}`) and its handlers. The
 * OpenAPI description is checked against this list (a route without a description fails a test),
 * and express gets the same routes from it. A few hot reads are also `JsonRead`s, which the fast
 * lane (fast-lane.ts) answers ahead of express.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler, Router } from 'express';
import { identityOf, type Identity } from '../identity.js';

export type ApiMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * The path parameters API routes use. A handler reads only those its own path declares, so they
 * are typed as present; `server_name` is absent on the default server's routes, which share handlers.
 */
export interface ApiParams {
  name: string;
  token_id: string;
  server_name?: string;
  handout_id: string;
}

export type ApiHandler = RequestHandler<ApiParams>;

/** What a `JsonRead` may read of its request: express's `req` has all of it, and so does the fast lane's. */
export interface ReadRequest {
  params: ApiParams;
  /** As express's default ("simple") query parser gives it: `node:querystring`. */
  query: Readonly<Record<string, unknown>>;
  headers: IncomingHttpHeaders;
  /** The request's URL as it reached the hub's app (path and query). */
  originalUrl: string;
  protocol: string;
}

/**
 * A GET answered with a JSON text (200) made from the caller and the request alone. It throws to
 * refuse, as any handler does. It may not read a body, set headers or keep the request: that is
 * what lets the fast lane answer it without express.
 */
export type JsonRead = (caller: Identity | undefined, req: ReadRequest) => string;

export interface ApiRoute {
  method: ApiMethod;
  /** Under `/hub/api`, in OpenAPI's template form: `/users/{name}/servers/{server_name}`. */
  path: string;
  handlers: ApiHandler[];
  /** Set on a hot read: what `handlers` answer, as a function the fast lane calls too. */
  read?: JsonRead;
}

export function route(method: ApiMethod, path: string, ...handlers: ApiHandler[]): ApiRoute {
  return { method, path, handlers };
}

/** A hot read: express answers it as `res.json` would, and the fast lane from the same function. */
export function read(path: string, answer: JsonRead): ApiRoute {
  const handler: ApiHandler = (req, res) => {
    res.set('Content-Type', 'application/json').send(answer(identityOf(res), req));
  };
  return { method: 'get', path, handlers: [handler], read: answer };
}

/** Registers `routes` on `router`, turning `{param}` into express's `:param`. */
export function mountRoutes(router: Router, routes: readonly ApiRoute[]): void {
  for (const { method, path, handlers } of routes) {
    router[method](path.replace(/\{(\w+)\}/g, ':$1'), ...(handlers as unknown as RequestHandler[]));
  }
}
