/**
 * The hub's REST API as the teacher's page calls it: same-origin `fetch` with the login cookie.
 * The browser adds `Sec-Fetch-Site: same-origin` and `Origin` itself, which is how the hub tells
 * its own pages from other sites (a cookie alone never authorises a change), so no token is kept
 * in the page.
 *
 * Every failure becomes an `ApiError` carrying the hub's own `message` (JupyterHub's error body
 * is `{"status", "message"}`), which the screens show as it is: the hub words its errors for
 * teachers.
 */
import { parseEventStream } from './event-stream.js';

export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    message: string,
    /** The parsed error body, for answers that carry more than a message (settings' `problems`). */
    readonly body: unknown = null,
  ) {
    super(message);
  }

  /**
   * True when this hub has no such endpoint (an older or newer hub than this page): the hub's
   * final handler answers a bare "Not Found", unlike a missing user or server, which it names.
   */
  get endpointMissing(): boolean {
    return this.status === 404 && this.message === 'Not Found';
  }
}

/** The message to show for any error a call can throw. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return 'Lectern did not answer. Is it still running on the teacher’s computer?';
  return error instanceof Error ? error.message : String(error);
}

/**
 * The hub's base URL (`/` unless Lectern runs under a prefix): the page's meta tag, filled in by
 * the hub, else worked out from where this page was served (`<base>hub/admin…`).
 */
export function hubBaseUrl(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="lectern-base-url"]')?.content;
  if (meta) return meta.endsWith('/') ? meta : `${meta}/`;
  const at = location.pathname.indexOf('/hub/admin');
  return at >= 0 ? location.pathname.slice(0, at + 1) : '/';
}

interface CallOptions {
  body?: unknown;
  accept?: string;
  signal?: AbortSignal;
}

const PAGINATION_TYPE = 'application/jupyterhub-pagination+json';

export class HubApi {
  /** Called once when a refusal turns out to mean the teacher's login has ended. */
  onSignedOut: () => void = () => {};
  private sessionCheck: Promise<void> | null = null;

  constructor(readonly base: string) {}

  /** An absolute path on the hub: `hubPath('user/ada/')` → `/user/ada/`. */
  hubPath(path: string): string {
    return `${this.base}${path.replace(/^\//, '')}`;
  }

  /** The URL of an API path such as `/users`. */
  url(path: string): string {
    return this.hubPath(`hub/api${path}`);
  }

  get<T>(path: string, options: CallOptions = {}): Promise<T> {
    return this.call<T>('GET', path, options);
  }

  post<T>(path: string, body: unknown = {}, options: CallOptions = {}): Promise<T> {
    return this.call<T>('POST', path, { ...options, body });
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('PUT', path, { body });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>('PATCH', path, { body });
  }

  delete<T>(path: string, body?: unknown): Promise<T> {
    return this.call<T>('DELETE', path, { body });
  }

  /** Every item of a paginated JupyterHub list (`/users`, `/groups`), page by page. */
  async list<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let next: string | null = `${path}${path.includes('?') ? '&' : '?'}limit=200`;
    while (next) {
      const page: Paginated<T> = await this.get(next, { accept: PAGINATION_TYPE });
      items.push(...page.items);
      const following: Paginated<T>['_pagination']['next'] = page._pagination.next;
      next = following ? `${path}${path.includes('?') ? '&' : '?'}limit=${following.limit}&offset=${following.offset}` : null;
    }
    return items;
  }

  /**
   * A POST whose answer is a stream of server-sent events (the roster import's progress):
   * `onEvent` gets each parsed event, and the call resolves when the stream ends.
   */
  async postStream<T>(path: string, body: unknown, onEvent: (event: T) => void): Promise<void> {
    const response = await this.send('POST', path, { body, accept: 'text/event-stream' });
    if (!response.body) return;
    for await (const data of parseEventStream(response.body)) onEvent(JSON.parse(data) as T);
  }

  /** Sends a file as the request body, as it is (a handout's file). */
  async upload<T>(path: string, file: Blob): Promise<T> {
    const response = await fetch(this.url(path), {
      method: 'PUT',
      headers: { Accept: 'application/json', 'Content-Type': 'application/octet-stream' },
      body: file,
      credentials: 'same-origin',
      cache: 'no-store',
    });
    if (!response.ok) throw await errorFrom(response);
    return (await response.json()) as T;
  }

  /** A GET answered with a file, as a Blob, and the file name the hub gave it. */
  async download(path: string): Promise<{ blob: Blob; fileName: string | null }> {
    const response = await this.send('GET', path, { accept: '*/*' });
    const disposition = response.headers.get('Content-Disposition') ?? '';
    const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1];
    const fileName = encoded ? decodeURIComponent(encoded) : (/filename="?([^";]+)"?/i.exec(disposition)?.[1] ?? null);
    return { blob: await response.blob(), fileName };
  }

  private async call<T>(method: string, path: string, options: CallOptions): Promise<T> {
    const response = await this.send(method, path, options);
    if (response.status === 204) return undefined as T;
    const type = response.headers.get('Content-Type') ?? '';
    return (type.includes('json') ? await response.json() : await response.text()) as T;
  }

  private async send(method: string, path: string, { body, accept = 'application/json', signal }: CallOptions): Promise<Response> {
    const headers: Record<string, string> = { Accept: accept };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await fetch(this.url(path), {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: signal ?? null,
    });
    if (response.ok) return response;
    const error = await errorFrom(response);
    if (response.status === 403) this.checkSession();
    throw error;
  }

  /** After a 403: is the teacher still logged in? A login that ended explains every later refusal. */
  private checkSession(): void {
    this.sessionCheck ??= fetch(this.url('/user'), { credentials: 'same-origin', cache: 'no-store' })
      .then((response) => {
        if (response.status === 403) this.onSignedOut();
      })
      .catch(() => undefined)
      .finally(() => {
        this.sessionCheck = null;
      });
  }
}

interface Paginated<T> {
  items: T[];
  _pagination: { next: { offset: number; limit: number } | null };
}

async function errorFrom(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's error page, say): the status line is all there is to say.
  }
  const message =
    body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string'
      ? (body as { message: string }).message
      : `${response.status} ${response.statusText || 'error'}`;
  return new ApiError(response.status, message, body);
}
