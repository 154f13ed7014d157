// The teacher GUI's server side: the live event stream, the join URLs, and the GUI served at /hub/admin.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fakeServer, projectRoot, startTestHub, type TestHub } from '../helpers/hub.js';

type Event = Record<string, unknown> & { type: string };

/** Reads a server-sent event stream a piece at a time, for a stream that does not end by itself. */
class EventFeed {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private readonly queued: Event[] = [];
  comments = 0;

  constructor(response: Response) {
    this.reader = (response.body as ReadableStream<Uint8Array>).getReader();
  }

  /** Every event up to and including the first that `done` accepts. */
  async until(done: (event: Event) => boolean, timeoutMs = 20_000): Promise<Event[]> {
    const seen: Event[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = this.queued.shift() ?? (await this.read(deadline));
      seen.push(event);
      if (done(event)) return seen;
    }
  }

  close(): Promise<void> {
    return this.reader.cancel();
  }

  private async read(deadline: number): Promise<Event> {
    for (;;) {
      const split = this.buffer.indexOf('\n\n');
      if (split !== -1) {
        const block = this.buffer.slice(0, split);
        this.buffer = this.buffer.slice(split + 2);
        if (block.startsWith(':')) this.comments++;
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data: '))
          .map((line) => line.slice(6))
          .join('\n');
        if (data) return JSON.parse(data) as Event;
        continue;
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no event in time')), Math.max(0, deadline - Date.now()));
      });
      try {
        const { value, done } = await Promise.race([this.reader.read(), timeout]);
        if (done) throw new Error('the stream ended');
        this.buffer += this.decoder.decode(value, { stream: true });
      } finally {
        clearTimeout(timer);
      }
    }
  }
}

const json = (method: string, body?: unknown): RequestInit => ({ method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

describe('the teacher dashboard on a running hub', () => {
  let t: TestHub;
  let studentToken: string;

  before(async () => {
    t = await startTestHub(fakeServer('ok'));
    await t.addUser('alice', 'alice-password-1');
    await t.addUser('mrs-t', 'teacher-password-1', true);
    const created = await t.api('/users/alice/tokens', json('POST', { note: 'events test' }));
    studentToken = ((await created.json()) as { token: string }).token;
  });
  after(() => t.stop());

  const asStudent = (path: string, init: RequestInit = {}) =>
    fetch(`${t.hub.url}hub/api${path}`, { ...init, headers: { Authorization: `token ${studentToken}` } });

  describe('GET /hub/api/lectern/events', () => {
    it('sends a snapshot, then each server change and the counts, as a server starts and stops', async () => {
      const response = await t.api('/lectern/events');
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
      assert.equal(response.headers.get('cache-control'), 'no-cache');
      const feed = new EventFeed(response);
      try {
        const [snapshot] = await feed.until(() => true);
        assert.deepEqual(snapshot, {
          type: 'snapshot',
          // teacher (the first admin, created at first start), alice and mrs-t; nobody logged in yet.
          counts: { users: 3, signedIn: 0, pendingApproval: 0, running: 0, starting: 0, failed: 0 },
          servers: [],
          announcement: null,
        });

        assert.equal((await t.api('/users/alice/server', json('POST'))).status, 201);
        const starting = await feed.until((event) => event.type === 'server' && event.phase === 'running');
        const servers = starting.filter((event) => event.type === 'server');
        assert.deepEqual(
          servers.map((event) => event.phase),
          ['spawning', 'running'],
        );
        assert.deepEqual(servers[0], { type: 'server', user: 'alice', name: '', phase: 'spawning', started: null, failure: null, notice: null, sandbox: null, queuePosition: null });
        assert.equal(servers[1]?.sandbox, 'bubblewrap', 'the dashboard hears that her server runs in a sandbox');
        assert.ok(typeof servers[1]?.started === 'string' && !Number.isNaN(Date.parse(servers[1].started)));
        const counts = await feed.until((event) => event.type === 'counts' && (event.counts as { running: number }).running === 1);
        const startingCounts = [...starting, ...counts].filter((event) => event.type === 'counts').map((event) => event.counts);
        assert.deepEqual(startingCounts[0], { users: 3, signedIn: 0, pendingApproval: 0, running: 0, starting: 1, failed: 0 });

        const usage = await feed.until((event) => event.type === 'usage');
        assert.ok(Array.isArray(usage.at(-1)?.servers));

        assert.equal((await t.api('/users/alice/server', json('DELETE'))).status, 204);
        const stopping = await feed.until((event) => event.type === 'server' && event.phase === 'stopped');
        assert.deepEqual(
          stopping.filter((event) => event.type === 'server').map((event) => [event.phase, event.failure]),
          [
            ['stopping', null],
            ['stopped', null],
          ],
        );
        // A stopping server no longer counts as running.
        assert.deepEqual(stopping.filter((event) => event.type === 'counts').map((event) => (event.counts as { running: number }).running), [0]);

        await t.addUser('bob', 'bob-password-1');
        const added = await feed.until((event) => event.type === 'counts');
        assert.ok(added.some((event) => event.type === 'users'), 'a new account is announced');
        assert.equal((added.at(-1)?.counts as { users: number }).users, 4);
      } finally {
        await feed.close();
      }
    });

    it('counts users who are logged in', async () => {
      const feed = new EventFeed(await t.api('/lectern/events'));
      try {
        const [snapshot] = await feed.until(() => true);
        const before = (snapshot?.counts as { signedIn: number }).signedIn;
        const browser = t.client();
        assert.equal((await browser.logIn('alice', 'alice-password-1')).status, 302);
        // Nothing announces a login: the counts are checked again at the next usage sample (5 s).
        const [counts] = (await feed.until((event) => event.type === 'counts')).slice(-1);
        assert.equal((counts?.counts as { signedIn: number }).signedIn, before + 1);
      } finally {
        await feed.close();
      }
    });

    it('is for admins only', async () => {
      const response = await asStudent('/lectern/events');
      assert.equal(response.status, 403);
      assert.match(((await response.json()) as { message: string }).message, /admin-ui/);
      assert.equal((await fetch(`${t.hub.url}hub/api/lectern/events`)).status, 403);
    });

    it('lets the GUI in a teacher’s browser follow it with the login cookie', async () => {
      const browser = t.client();
      await browser.logIn('mrs-t', 'teacher-password-1');
      const response = await browser.request('/hub/api/lectern/events', { headers: { 'Sec-Fetch-Site': 'same-origin' }, referer: '/hub/admin' });
      assert.equal(response.status, 200);
      const feed = new EventFeed(response);
      assert.equal((await feed.until(() => true))[0]?.type, 'snapshot');
      await feed.close();
    });
  });

  describe('join URLs', () => {
    it('lists the addresses students join at, each with a QR code, the only one when the hub is bound to one', async () => {
      const response = await t.api('/lectern/join-urls');
      assert.equal(response.status, 200);
      const body = (await response.json()) as { addresses: Record<string, unknown>[]; preferred: string | null };
      assert.equal(body.preferred, '127.0.0.1');
      assert.equal(body.addresses.length, 1);
      const [only] = body.addresses;
      assert.deepEqual({ ...only, qrSvg: undefined }, {
        address: '127.0.0.1',
        interfaceName: null,
        kind: 'loopback',
        url: `http://127.0.0.1:${t.hub.port}/`,
        qrSvg: undefined,
        preferred: true,
      });
      assert.match(String(only?.qrSvg), /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>\s*$/);
    });

    it('remembers the preferred address, and refuses one this machine does not have', async () => {
      const refused = await t.api('/lectern/join-urls/preferred', json('PUT', { address: '203.0.113.9' }));
      assert.equal(refused.status, 400);
      assert.match(((await refused.json()) as { message: string }).message, /203\.0\.113\.9 is not an address .* Choose one of: 127\.0\.0\.1/);
      assert.equal((await t.api('/lectern/join-urls/preferred', json('PUT', { nope: 1 }))).status, 400);

      const chosen = await t.api('/lectern/join-urls/preferred', json('PUT', { address: '127.0.0.1' }));
      assert.equal(chosen.status, 200);
      assert.equal(((await chosen.json()) as { preferred: string }).preferred, '127.0.0.1');
    });

    it('is for admins only', async () => {
      assert.equal((await asStudent('/lectern/join-urls')).status, 403);
      assert.equal((await asStudent('/lectern/join-urls/preferred', json('PUT', { address: '127.0.0.1' }))).status, 403);
    });
  });

  describe('the GUI at /hub/admin', () => {
    const built = existsSync(join(projectRoot(), 'dist', 'renderer', 'index.html'));

    it('is served to an admin, with the base URL, under the strict page CSP', async () => {
      const browser = t.client();
      await browser.logIn('mrs-t', 'teacher-password-1');
      for (const path of ['/hub/admin', '/hub/admin/', '/hub/admin/users', '/hub/admin/servers/alice']) {
        const response = await browser.request(path);
        const text = await response.text();
        if (!built) {
          assert.equal(response.status, 503, path);
          assert.match(text, /The teacher GUI is not built: run npm run build/);
          continue;
        }
        assert.equal(response.status, 200, path);
        assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
        assert.match(text, /<meta name="lectern-base-url" content="\/">/);
        assert.doesNotMatch(text, /\{\{baseUrl\}\}/);
        const csp = response.headers.get('content-security-policy') ?? '';
        assert.match(csp, /default-src 'self'/);
        assert.match(csp, /img-src 'self' data:/);
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      }
      if (built) {
        const file = readdirSync(join(projectRoot(), 'dist', 'renderer')).find((name) => name !== 'index.html' && name.includes('.'));
        if (file) {
          const asset = await browser.request(`/hub/admin/static/${file}`);
          assert.equal(asset.status, 200);
          assert.equal(asset.headers.get('cache-control'), 'no-cache');
          await asset.arrayBuffer();
        }
      }
      assert.equal((await browser.request('/hub/admin/static/')).status, 404, 'no directory listing');
      assert.equal((await browser.request('/hub/admin/static/nothing-here.js')).status, 404);
      assert.equal((await browser.request('/hub/admin/favicon.ico')).status, 404, 'a file outside static/ is not a view');

      const home = await (await browser.request('/hub/home')).text();
      assert.match(home, /<a href="\/hub\/admin">Teacher dashboard<\/a>/);
    });

    it('opens for the desktop app’s window with a one-time login link, as the first admin', async () => {
      const link = new URL(await t.hub.desktopLoginUrl());
      assert.equal(link.origin, t.origin);
      assert.match(link.pathname, /^\/hub\/login-link\/[A-Za-z0-9_-]{43}$/);
      assert.equal(link.searchParams.get('next'), '/hub/admin');

      const browser = t.client();
      const page = await browser.request(link.href);
      assert.equal(page.status, 200);
      const action = /action="([^"]+)"/.exec(await page.text())?.[1]?.replaceAll('&amp;', '&');
      assert.equal(action, `${link.pathname}?next=${encodeURIComponent('/hub/admin')}`);
      const used = await browser.request(action, { method: 'POST', headers: { Origin: t.origin }, referer: link.href });
      assert.equal(used.status, 303);
      assert.equal(used.headers.get('location'), '/hub/admin');
      const dashboard = await browser.request('/hub/admin');
      assert.equal(dashboard.status, built ? 200 : 503);
      await dashboard.arrayBuffer();
      const me = await browser.request('/hub/api/user', { headers: { 'Sec-Fetch-Site': 'same-origin' }, referer: '/hub/admin' });
      assert.equal(((await me.json()) as { name: string }).name, 'teacher');

      const again = await t.client().request(action, { method: 'POST', headers: { Origin: t.origin } });
      assert.equal(again.status, 403, 'a login link works once');
      await again.arrayBuffer();
    });

    it('follows a login link’s next only to a page of this hub', async () => {
      const link = new URL(await t.hub.desktopLoginUrl());
      const browser = t.client();
      const used = await browser.request(`${link.pathname}?next=${encodeURIComponent('https://evil.example/')}`, {
        method: 'POST',
        headers: { Origin: t.origin },
      });
      assert.equal(used.status, 303);
      assert.equal(used.headers.get('location'), '/hub/');
    });

    it('sends anonymous visitors to the login page, coming back afterwards', async () => {
      const response = await t.client().request('/hub/admin/users');
      assert.equal(response.status, 302);
      assert.equal(response.headers.get('location'), `/hub/login?next=${encodeURIComponent('/hub/admin/users')}`);
    });

    it('refuses students', async () => {
      const browser = t.client();
      await browser.logIn('alice', 'alice-password-1');
      for (const path of ['/hub/admin', '/hub/admin/static/index.js']) {
        const response = await browser.request(path);
        assert.equal(response.status, 403, path);
        assert.match(await response.text(), /teacher dashboard is for teachers only/);
      }
      const home = await (await browser.request('/hub/home')).text();
      assert.doesNotMatch(home, /Teacher dashboard/);
    });
  });
});

describe('the teacher dashboard when students sign up with the class code', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ auth: { loginMode: 'join-code', joinApproval: true } });
  });
  after(() => t.stop());

  it('announces each sign-up and approval, with the count of those waiting', async () => {
    const { code } = (await (await t.api('/lectern/join')).json()) as { code: string };
    const feed = new EventFeed(await t.api('/lectern/events'));
    try {
      await feed.until((event) => event.type === 'snapshot');
      const browser = t.client();
      const signUp = await browser.request('/hub/join', {
        method: 'POST',
        body: new URLSearchParams({ code, username: 'dora', password: 'dora-password-1', password2: 'dora-password-1', displayName: '' }),
        headers: { Origin: t.origin, 'Content-Type': 'application/x-www-form-urlencoded' },
        referer: '/hub/join',
      });
      assert.equal(signUp.status, 202);
      await signUp.arrayBuffer();
      const signedUp = await feed.until((event) => event.type === 'counts');
      assert.ok(signedUp.some((event) => event.type === 'users'));
      assert.deepEqual(signedUp.at(-1)?.counts, { users: 2, signedIn: 0, pendingApproval: 1, running: 0, starting: 0, failed: 0 });

      assert.equal((await t.api('/lectern/users/dora/approve', json('POST'))).status, 204);
      const approved = await feed.until((event) => event.type === 'counts');
      assert.ok(approved.some((event) => event.type === 'users'));
      assert.equal((approved.at(-1)?.counts as { pendingApproval: number }).pendingApproval, 0);
    } finally {
      await feed.close();
    }
  });
});
