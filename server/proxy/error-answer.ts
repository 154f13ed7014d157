/**
 * The proxy's own error answers (no route, bad path, server not running). Every one goes through
 * `sendErrorAnswer`, so browsers always get a page with a way home and API clients always get
 * JSON they can parse, whichever failure it was.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { escapeHtml } from '../html/html.js';

/** Renders the HTML body of an error page; the hub passes one so proxy errors look like its own. */
export type ErrorPageRenderer = (status: number, message: string, req: IncomingMessage) => string;

export interface ErrorAnswerOptions {
  renderErrorPage?: ErrorPageRenderer | undefined;
  /** Where the built-in page's "Go to your home page" link points. */
  homeUrl: string;
  /** Called if `renderErrorPage` throws; the built-in page is sent instead. */
  onRenderError?: ((error: unknown) => void) | undefined;
}

/** Answers `status` with `message` as JSON or HTML, whichever the client is after. */
export function sendErrorAnswer(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  message: string,
  options: ErrorAnswerOptions,
): void {
  if (res.headersSent || res.writableEnded || res.destroyed) return;
  let body: string;
  let contentType: string;
  let builtInPage = false;
  if (wantsJson(req.url ?? '/', req.headers.accept)) {
    body = JSON.stringify({ status, message });
    contentType = 'application/json';
  } else {
    contentType = 'text/html; charset=utf-8';
    body = '';
    if (options.renderErrorPage !== undefined) {
      try {
        body = options.renderErrorPage(status, message, req);
      } catch (error) {
        options.onRenderError?.(error);
        builtInPage = true;
      }
    } else {
      builtInPage = true;
    }
    if (builtInPage) body = builtInErrorPage(status, message, options.homeUrl);
  }
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  // An error is about this moment (a server that is starting will soon answer): never cache it.
  res.setHeader('Cache-Control', 'no-store');
  // The built-in page has no scripts or external resources, so it can forbid all of them.
  if (builtInPage) res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * Answers a websocket upgrade that will not be proxied, then closes the socket. There is no
 * ServerResponse on an upgrade, so the status line is written by hand; no body, because
 * websocket clients only look at the status.
 */
export function rejectUpgrade(socket: Duplex, status: number): void {
  const answer =
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'Connection: close\r\n' +
    'Content-Length: 0\r\n' +
    '\r\n';
  // Destroy once the answer is flushed (or failed): the public server allows half-open sockets,
  // so `end()` alone would leave this one open until the client closes its side.
  if (socket.writable) socket.end(answer, () => socket.destroy());
  else socket.destroy();
}

/**
 * API clients get JSON: a path with an `api` segment (`/hub/api/…`, `/user/x/api/kernels`), or an
 * Accept header that prefers application/json to text/html. Preference is by q-value, then by how
 * specifically each is named, then by order, as content negotiation usually ranks it: JupyterLab's
 * `application/json, text/plain, *\/*` prefers JSON, a browser's `text/html,…,*\/*;q=0.8` prefers
 * HTML, and a bare `*\/*` or no Accept at all gets HTML.
 */
export function wantsJson(url: string, accept: string | undefined): boolean {
  if (pathHasApiSegment(url)) return true;
  if (accept === undefined || accept === '') return false;
  const json = acceptRank(accept, 'application', 'json');
  const html = acceptRank(accept, 'text', 'html');
  if (json.quality !== html.quality) return json.quality > html.quality;
  if (json.specificity !== html.specificity) return json.specificity > html.specificity;
  return json.position < html.position;
}

function pathHasApiSegment(url: string): boolean {
  const cut = url.search(/[?#]/);
  const path = cut === -1 ? url : url.slice(0, cut);
  return path.split('/').includes('api');
}

/** How an Accept header ranks one media type; from the most specific range that matches it. */
export interface AcceptRank {
  /** The q-value, 0 if no range matches. */
  quality: number;
  /** 2 for `type/subtype`, 1 for `type/*`, 0 for `*\/*`, -1 if no range matches. */
  specificity: number;
  /** Index of the matching range in the header. */
  position: number;
}

export function acceptRank(accept: string, type: string, subtype: string): AcceptRank {
  const rank: AcceptRank = { quality: 0, specificity: -1, position: Number.POSITIVE_INFINITY };
  accept.split(',').forEach((part, position) => {
    const [range = '', ...params] = part.split(';');
    const [rangeType = '', rangeSubtype = ''] = range.trim().toLowerCase().split('/');
    let specificity: number;
    if (rangeType === type && rangeSubtype === subtype) specificity = 2;
    else if (rangeType === type && rangeSubtype === '*') specificity = 1;
    else if (rangeType === '*' && rangeSubtype === '*') specificity = 0;
    else return;
    if (specificity <= rank.specificity) return;
    let quality = 1;
    for (const param of params) {
      const [name = '', value = ''] = param.split('=');
      if (name.trim().toLowerCase() !== 'q') continue;
      const q = Number(value.trim());
      quality = Number.isFinite(q) ? Math.min(Math.max(q, 0), 1) : 0;
    }
    rank.quality = quality;
    rank.specificity = specificity;
    rank.position = position;
  });
  return rank;
}

/** A page that works with nothing else running: inline styles only, readable on a phone. */
export function builtInErrorPage(status: number, message: string, homeUrl: string): string {
  const title = escapeHtml(`${status} ${STATUS_CODES[status] ?? 'Error'}`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
  body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: #f6f7f9; color: #1d2330; }
  main { box-sizing: border-box; max-width: 36rem; margin: 12vh auto 0; padding: 1.5rem; }
  h1 { font-size: 1.6rem; margin: 0 0 1rem; }
  p { font-size: 1.1rem; line-height: 1.5; margin: 0 0 1.5rem; }
  a { display: inline-block; padding: 0.75rem 1.25rem; border-radius: 0.5rem; background: #1f5fbf; color: #fff; text-decoration: none; font-size: 1.05rem; }
  a:focus, a:hover { background: #174a94; }
</style>
</head>
<body>
<main>
<h1>${title}</h1>
<p>${escapeHtml(message)}</p>
<a href="${escapeHtml(homeUrl)}">Go to your home page</a>
</main>
</body>
</html>
`;
}
