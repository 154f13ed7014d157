/**
 * What the hub does for every request it answers, whichever way it is answered (express, or the
 * API's fast lane): note the hub's activity, set the headers every answer carries, forget a planted
 * second login cookie, and log the answer once it is sent (level by status, no query strings).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clearSessionCookiesFor, hasTossedSessionCookie } from '../auth/sessions.js';
import { scrubUrl } from '../logging/logger.js';
import { JUPYTERHUB_VERSION } from './api/version.js';
import type { HubContext } from './context.js';

const PAGE_CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";
const API_CSP = "default-src 'none'; frame-ancestors 'none'";
/** A Host header's host name or bracketed IPv6 address, without the port. */
const HOST_NAME = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d+)?$/;

/**
 * Where the hub's forms may lead. A login, a login link or an OAuth confirmation ends at a student's
 * server, and browsers hold every redirect after a form to `form-action`: with a port per server
 * (network.serverOrigins: ports), that is any port of the host the browser used.
 */
function formAction(req: IncomingMessage, scheme: string, serverPorts: boolean): string {
  const host = serverPorts ? HOST_NAME.exec(req.headers.host ?? '')?.[1] : undefined;
  return host ? `form-action 'self' ${scheme}://${host}:*` : "form-action 'self'";
}

/** `path` is the request's path (without its query), `url` its URL as it reached the hub (for the log). */
export function beginRequest(ctx: HubContext, req: IncomingMessage, res: ServerResponse, path: string, url: string): void {
  const { urls, log } = ctx;
  const started = process.hrtime.bigint();
  ctx.hubActivity.last = Date.now();
  const api = path.startsWith(urls.api());
  res.setHeader('X-JupyterHub-Version', JUPYTERHUB_VERSION);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'same-origin');
  // A window a student's page opens (or that opens the hub) gets no handle on the hub's pages.
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader(
    'Content-Security-Policy',
    api ? API_CSP : `${PAGE_CSP}; ${formAction(req, ctx.secure ? 'https' : 'http', ctx.config.network.serverOrigins === 'ports')}`,
  );
  // A second login cookie was planted (by a page of the same host, under another path): this
  // request is logged out (see findSession), and the browser is told to forget both.
  if (hasTossedSessionCookie(req)) {
    clearSessionCookiesFor(res, path, ctx.secure);
    log.warn(`a request to ${scrubUrl(url)} carried two login cookies: treated as logged out, both cleared`);
  }
  res.on('finish', () => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const line = `${res.statusCode} ${req.method} ${scrubUrl(url)} ${ms.toFixed(1)}ms`;
    if (res.statusCode >= 500) log.error(line);
    else if (res.statusCode >= 400) log.warn(line);
    else log.debug(line);
  });
}
