/**
 * JupyterHub's pagination for list endpoints: `offset` and `limit` query arguments; with
 * `Accept: application/jupyterhub-pagination+json` the answer is wrapped as
 * `{items, _pagination: {offset, limit, total, next}}` and the default page is 50, otherwise it is
 * a bare list of up to 200 (the most a page may hold).
 */
import { HttpError } from '../http-error.js';
import type { ReadRequest } from './route.js';

const PAGINATION_TYPE = 'application/jupyterhub-pagination+json';
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;

/** What pagination reads of a request. */
type PagedRequest = Pick<ReadRequest, 'headers' | 'query' | 'originalUrl' | 'protocol'>;

export interface Page {
  offset: number;
  limit: number;
  /** True when the client asked for the wrapped form. */
  wrapped: boolean;
}

export function readPage(req: PagedRequest): Page {
  const wrapped = (req.headers.accept ?? '')
    .split(',')
    .map((part) => part.split(';')[0]?.trim())
    .includes(PAGINATION_TYPE);
  const integer = (value: unknown, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !/^\s*[-+]?\d+\s*$/.test(value)) {
      throw new HttpError(400, 'Invalid argument type, offset and limit must be integers');
    }
    return Math.abs(Number.parseInt(value, 10));
  };
  const offset = integer(req.query.offset, 0);
  const limit = Math.min(MAX_LIMIT, Math.max(1, integer(req.query.limit, wrapped ? DEFAULT_LIMIT : MAX_LIMIT)));
  return { offset, limit, wrapped };
}

/** The answer for one page of `total` items. */
export function pageBody<T extends object>(req: PagedRequest, page: Page, items: T, total: number): T | object {
  if (!page.wrapped) return items;
  const nextOffset = page.offset + page.limit;
  let next: { offset: number; limit: number; url: string } | null = null;
  if (nextOffset < total) {
    const url = new URL(req.originalUrl, `${req.protocol}://${req.headers.host ?? 'localhost'}`);
    url.searchParams.set('limit', String(page.limit));
    url.searchParams.set('offset', String(nextOffset));
    next = { offset: nextOffset, limit: page.limit, url: url.href };
  }
  return { items, _pagination: { offset: page.offset, limit: page.limit, total, next } };
}
