/**
 * API routes as data: a method, a path in OpenAPI's form (`/users/{name}`) and its handlers. The
 * OpenAPI description is checked against this list (a route without a description fails a test),
 * and express gets the same routes from it.
 */
import type { RequestHandler, Router } from 'express';

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

export interface ApiRoute {
  method: ApiMethod;
  /** Under `/hub/api`, in OpenAPI's template form: `/users/{name}/servers/{server_name}`. */
  path: string;
  handlers: ApiHandler[];
}

export function route(method: ApiMethod, path: string, ...handlers: ApiHandler[]): ApiRoute {
  return { method, path, handlers };
}

/** Registers `routes` on `router`, turning `{param}` into express's `:param`. */
export function mountRoutes(router: Router, routes: readonly ApiRoute[]): void {
  for (const { method, path, handlers } of routes) {
    router[method](path.replace(/\{(\w+)\}/g, ':$1'), ...(handlers as unknown as RequestHandler[]));
  }
}
