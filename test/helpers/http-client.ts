/**
 * A small HTTP client that behaves like a browser where the tests need it to: a cookie jar that
 * honours cookie paths, redirects followed one at a time (so each hop can be checked), and the
 * Referer/Origin headers a browser sends from a page.
 */
import type { ResponseRecorder } from './openapi.js';

export interface Hop {
  url: string;
  status: number;
  location: string | null;
}

interface StoredCookie {
  value: string;
  path: string;
  attributes: string;
}

export class HttpClient {
  /** @param recorder if given, sees every response, to check API ones against the OpenAPI description. */
  constructor(
    readonly origin: string,
    private readonly recorder?: ResponseRecorder,
    /** Browsers keep cookies per host, whatever the port: every origin of the hub's host shares them. */
    readonly cookies = new Map<string, StoredCookie>(),
  ) {}

  /** The same browser at another origin of the same host (a student's server's own port). */
  at(origin: string): HttpClient {
    return new HttpClient(origin, this.recorder, this.cookies);
  }

  /**
   * The origin of `user`'s server as the hub sends browsers there: each server has one of its own
   * (`network.serverOrigins: ports`), else the hub's.
   */
  async serverOrigin(user: string, serverName = ''): Promise<string> {
    const path = `/user/${encodeURIComponent(user)}/${serverName ? `${encodeURIComponent(serverName)}/` : ''}`;
    const response = await fetch(new URL(path, this.origin), { redirect: 'manual' });
    await response.arrayBuffer();
    const location = response.headers.get('location');
    const target = location === null ? undefined : new URL(location, this.origin);
    return target !== undefined && target.pathname === path ? target.origin : this.origin;
  }

  async request(path: string, init: RequestInit & { referer?: string } = {}): Promise<Response> {
    const url = new URL(path, this.origin);
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(url.pathname);
    if (cookie) headers.set('Cookie', cookie);
    if (init.referer) headers.set('Referer', new URL(init.referer, this.origin).href);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.recorder?.record(init.method ?? 'GET', url, response);
    for (const setCookie of response.headers.getSetCookie()) this.store(setCookie, url.pathname);
    return response;
  }

  /** GETs `path` and follows redirects; returns the final response and every hop. */
  async follow(path: string, init: RequestInit = {}, maxHops = 20): Promise<{ response: Response; hops: Hop[] }> {
    const hops: Hop[] = [];
    let current = new URL(path, this.origin).href;
    let options = init;
    for (let i = 0; i < maxHops; i++) {
      const response = await this.request(current, options);
      const location = response.headers.get('location');
      hops.push({ url: current, status: response.status, location });
      if (response.status < 300 || response.status >= 400 || !location) return { response, hops };
      await response.arrayBuffer();
      current = new URL(location, current).href;
      if (response.status !== 307 && response.status !== 308) options = { headers: init.headers };
    }
    throw new Error(`too many redirects: ${hops.map((hop) => hop.url).join(' → ')}`);
  }

  /** Logs in through the login form, as a browser would. */
  async logIn(username: string, password: string, next?: string): Promise<Response> {
    const path = next ? `/hub/login?next=${encodeURIComponent(next)}` : '/hub/login';
    return this.request(path, {
      method: 'POST',
      body: new URLSearchParams({ username, password }),
      headers: { Origin: this.origin, 'Content-Type': 'application/x-www-form-urlencoded' },
      referer: '/hub/login',
    });
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name)?.value;
  }

  cookieHeader(pathname: string): string {
    return [...this.cookies.entries()]
      .filter(([, cookie]) => pathname === cookie.path.replace(/\/$/, '') || pathname.startsWith(cookie.path))
      .map(([name, cookie]) => `${name}=${cookie.value}`)
      .join('; ');
  }

  private store(setCookie: string, requestPath: string): void {
    const [pair = '', ...attributes] = setCookie.split(';').map((part) => part.trim());
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1).replace(/^"|"$/g, '');
    const path = attributes.find((a) => /^path=/i.test(a))?.slice(5) ?? requestPath.replace(/[^/]*$/, '');
    const expired = attributes.some((a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()));
    if (expired) this.cookies.delete(name);
    else this.cookies.set(name, { value, path, attributes: attributes.join('; ') });
  }
}

/** Reads a server-sent event stream until `done` says stop; returns every event's data. */
export async function readEvents(response: Response, done: (event: Record<string, unknown>) => boolean) {
  const events: Record<string, unknown>[] = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done: ended } = await reader.read();
    if (ended) return events;
    buffer += decoder.decode(value, { stream: true });
    let split;
    while ((split = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, split);
      buffer = buffer.slice(split + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      if (!data) continue;
      const event = JSON.parse(data) as Record<string, unknown>;
      events.push(event);
      if (done(event)) {
        await reader.cancel();
        return events;
      }
    }
  }
}
