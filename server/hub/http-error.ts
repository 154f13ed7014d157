/**
 * The hub's one error path. Routes throw: an `HttpError` for a refusal of their own, or the domain
 * error a part of the hub raised (an account that exists, a server still stopping, a full
 * machine…). `httpErrorOf` is the one mapping from those to HTTP answers; the final handler answers
 * HTML to browsers and JSON to API clients (`{"status": N, "message": "…"}`, JupyterHub's error
 * body, with any details beside), and logs anything unexpected with its whole stack, showing the
 * caller only that it failed.
 */
import type { NextFunction, Request, Response } from 'express';
import { AccountError } from '../auth/accounts.js';
import { FixedJoinCodeError } from '../auth/join-codes.js';
import { RosterRejectedError } from '../auth/roster-import.js';
import { RosterError } from '../auth/roster.js';
import { HandoutError } from '../handouts/handouts.js';
import type { Logger } from '../logging/logger.js';
import { scrubUrl } from '../logging/logger.js';
import { wantsJson } from '../proxy/error-answer.js';
import { ServerBusyError } from '../servers/server-manager.js';
import { CapacityError, SpawnError } from '../spawner/spawner.js';
import { UnknownAddressError } from './join-addresses.js';
import { SettingsError } from './live-settings.js';
import { errorPage } from './pages/templates.js';
import type { HubUrls } from './urls.js';

/** How long a client is told to wait before starting a server again on a full machine. */
const RETRY_AFTER_FULL_S = 30;

export interface HttpErrorOptions {
  /** More for an API client to act on, sent beside `status` and `message` (a roster's rows, a setting's problems). */
  details?: Record<string, unknown>;
  /** Headers of the answer (`Retry-After`). */
  headers?: Record<string, string>;
}

export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly details: Record<string, unknown>;
  readonly headers: Record<string, string>;
  constructor(
    readonly status: number,
    message: string,
    options: HttpErrorOptions = {},
  ) {
    super(message);
    this.details = options.details ?? {};
    this.headers = options.headers ?? {};
  }
}

/**
 * The answer for an error a route let through: the HttpError it is, the one a domain error maps to,
 * or undefined for an unexpected error (a bug: a 500 that says only that).
 */
export function httpErrorOf(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  if (error instanceof AccountError) return new HttpError(error.reason === 'exists' ? 409 : 400, error.message);
  if (error instanceof RosterRejectedError) return new HttpError(400, error.message, { details: { ...error.preview } });
  if (error instanceof SettingsError) return new HttpError(400, error.message, { details: { problems: error.problems } });
  if (error instanceof RosterError || error instanceof FixedJoinCodeError || error instanceof UnknownAddressError || error instanceof ServerBusyError) {
    return new HttpError(400, error.message);
  }
  if (error instanceof HandoutError) return new HttpError(error.status, error.message);
  // JupyterHub's 429 for a full machine, with a hint when to try again.
  if (error instanceof CapacityError) return new HttpError(429, error.message, { headers: { 'Retry-After': String(RETRY_AFTER_FULL_S) } });
  // A server that failed to start says what went wrong: it is the teacher's machine, not a bug.
  if (error instanceof SpawnError) return new HttpError(500, error.message);
  // express's body parser: 400 for bad JSON, 413 for a body too large.
  const status = (error as { status?: unknown })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const type = (error as { type?: unknown }).type;
    const message = type === 'entity.parse.failed' ? 'Invalid JSON in body of request' : type === 'entity.too.large' ? 'Request body is too large' : ((error as Error).message ?? 'Bad request');
    return new HttpError(status, message);
  }
  return undefined;
}

export function notFound(_req: Request, _res: Response, next: NextFunction): void {
  next(new HttpError(404, 'Not Found'));
}

export function errorHandler(log: Logger, urls: HubUrls) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const known = httpErrorOf(error);
    // A bug: logged whole, with its stack; the caller learns only that it failed (no stack traces out).
    if (!known) log.error(`${req.method} ${scrubUrl(req.originalUrl)} failed`, { error: error instanceof Error ? error : String(error) });
    const answer = known ?? new HttpError(500, 'Internal server error. The hub log has the details.');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(answer.status).set(answer.headers);
    if (wantsJson(req.originalUrl, req.headers.accept)) {
      res.json({ status: answer.status, message: answer.message, ...answer.details });
    } else {
      res.type('html').send(errorPage(urls, answer.status, answer.message));
    }
  };
}
