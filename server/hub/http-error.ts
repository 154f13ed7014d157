/**
 * The hub's one error type, and the final handlers that answer HTML to browsers and JSON to API
 * clients (`{"status": N, "message": "…"}`, JupyterHub's error body).
 */
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logging/logger.js';
import { scrubUrl } from '../logging/logger.js';
import { wantsJson } from '../proxy/error-answer.js';
import { errorPage } from './pages/templates.js';
import type { HubUrls } from './urls.js';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function notFound(_req: Request, _res: Response, next: NextFunction): void {
  next(new HttpError(404, 'Not Found'));
}

export function errorHandler(log: Logger, urls: HubUrls) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const status = statusOf(error);
    // Deliberate errors explain themselves; anything unexpected is logged, not shown (no stack traces out).
    const message =
      status >= 500 && !(error instanceof HttpError) ? 'Internal server error. The hub log has the details.' : messageOf(error);
    if (status >= 500 && !(error instanceof HttpError)) {
      log.error(`${req.method} ${scrubUrl(req.originalUrl)} failed`, { error: (error as Error)?.stack ?? String(error) });
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status);
    if (wantsJson(req.originalUrl, req.headers.accept)) {
      res.json({ status, message });
    } else {
      res.type('html').send(errorPage(urls, status, message));
    }
  };
}

function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  // express's own body parser errors carry a client status (400 bad JSON, 413 too large).
  const status = (error as { status?: unknown })?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
}

function messageOf(error: unknown): string {
  if (error instanceof HttpError) return error.message;
  const type = (error as { type?: unknown })?.type;
  if (type === 'entity.parse.failed') return 'Invalid JSON in body of request';
  if (type === 'entity.too.large') return 'Request body is too large';
  return (error as Error)?.message ?? 'Bad request';
}
