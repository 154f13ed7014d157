/**
 * Who answers the proxy's own errors (404 no route, 503 target down, 400/500 bad address or
 * target), in configurable-http-proxy's order of preference:
 *
 * 1. an error target (`--error-target`, JupyterHub's `/hub/error`): GET `<target>/<code>?url=<the
 *    request's URL>`, relayed with the proxy's status and only its Content-Type and
 *    Content-Encoding, or the bare reason phrase if the error target cannot be reached;
 * 2. an error directory (`--error-path`): `<dir>/<code>.html`, else `<dir>/error.html`;
 * 3. otherwise Lectern's own page (or JSON for API clients), see `error-answer.ts`.
 *
 * Websockets never get here: they are answered with a bare status line on the socket. (CHP once
 * fetched the error target for websockets too and leaked those connections.)
 */

import { readFile } from 'node:fs/promises';
import http, { type Agent, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { type Logger, scrubUrl } from '../logging/logger.js';
import { type ErrorAnswerOptions, sendErrorAnswer } from './error-answer.js';
import { type ForwardTarget, parseForwardTarget } from './forward-target.js';

/** How long an error target gets to answer before the plain reason phrase is sent instead. */
const ERROR_TARGET_TIMEOUT_MS = 10_000;

export interface ErrorResponderOptions {
  log: Logger;
  /** Base URL of an error server; a `/` is added if missing, as CHP does. */
  errorTarget?: string | undefined;
  /** Directory of `<code>.html` / `error.html` pages. */
  errorPath?: string | undefined;
  /** Lectern's own pages, used when neither of the above is set. */
  answers: ErrorAnswerOptions;
  /** The keep-alive pool for a target's scheme (shared with forwarding). */
  agentFor: (target: ForwardTarget) => Agent;
}

export class ErrorResponder {
  private readonly log: Logger;
  private readonly errorTarget: ForwardTarget | undefined;
  private readonly errorPath: string | undefined;
  private readonly answers: ErrorAnswerOptions;
  private readonly agentFor: (target: ForwardTarget) => Agent;

  constructor(options: ErrorResponderOptions) {
    if (options.errorTarget !== undefined && options.errorPath !== undefined) {
      throw new TypeError('Cannot specify both error-target and error-path. Pick one.');
    }
    this.log = options.log;
    this.errorPath = options.errorPath;
    this.answers = options.answers;
    this.agentFor = options.agentFor;
    if (options.errorTarget !== undefined) {
      const base = options.errorTarget.endsWith('/') ? options.errorTarget : `${options.errorTarget}/`;
      try {
        this.errorTarget = parseForwardTarget(base);
      } catch {
        throw new TypeError(`Invalid error target ${JSON.stringify(options.errorTarget)}: expected an absolute http: or https: URL`);
      }
    }
  }

  /** Answers `status` for `req`; `message` is what Lectern's own page says. Never throws. */
  respond(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
    if (res.headersSent || res.destroyed) return;
    if (this.errorTarget !== undefined) this.fromErrorTarget(this.errorTarget, req, res, status);
    else if (this.errorPath !== undefined) void this.fromErrorPath(this.errorPath, res, status);
    else sendErrorAnswer(req, res, status, message, this.answers);
  }

  private fromErrorTarget(target: ForwardTarget, req: IncomingMessage, res: ServerResponse, status: number): void {
    const url = new URL(target.source);
    url.pathname += String(status);
    url.searchParams.set('url', req.url ?? '/');
    const errorRequest = (target.secure ? https : http).request({
      hostname: target.hostname,
      port: target.port,
      socketPath: target.socketPath,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      // No client headers: the error server learns the failed URL from the query only.
      headers: { host: target.hostHeader },
      agent: this.agentFor(target),
      timeout: ERROR_TARGET_TIMEOUT_MS,
    });
    // A client that leaves must not leave the error request behind (CHP#557's leak).
    const abandon = (): void => {
      if (!res.writableFinished) errorRequest.destroy();
    };
    res.once('close', abandon);
    errorRequest.once('timeout', () => errorRequest.destroy(new Error('error target timed out')));
    errorRequest.once('error', (error) => {
      if (res.destroyed) return;
      this.log.warn(`error target failed: ${(error as NodeJS.ErrnoException).code ?? error.message} for ${scrubUrl(req.url ?? '/')}`);
      plainAnswer(res, status);
    });
    errorRequest.once('response', (page) => {
      if (res.headersSent || res.destroyed) {
        page.resume();
        return;
      }
      for (const name of ['content-type', 'content-encoding']) {
        const value = page.headers[name];
        if (value !== undefined) res.setHeader(name, value);
      }
      res.writeHead(status);
      page.pipe(res);
      page.once('close', () => {
        if (!page.complete) res.destroy();
      });
    });
    errorRequest.end();
  }

  private async fromErrorPath(dir: string, res: ServerResponse, status: number): Promise<void> {
    let page: Buffer | undefined;
    for (const name of [`${status}.html`, 'error.html']) {
      try {
        page = await readFile(join(dir, name));
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.log.error(`cannot read error page ${name}: ${(error as Error).message}`);
        }
      }
    }
    if (res.headersSent || res.destroyed) return;
    if (page === undefined) {
      plainAnswer(res, status);
      return;
    }
    res.writeHead(status, { 'Content-Type': 'text/html' });
    res.end(page);
  }
}

/** CHP's last resort: the status and its reason phrase as the body, no Content-Type. */
function plainAnswer(res: ServerResponse, status: number): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status);
  res.end(STATUS_CODES[status] ?? '');
}
