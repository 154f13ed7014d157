/**
 * A class logging in at the start of a lesson while one student is already working: N students
 * (default 60) log in one after the other over S seconds (default 30), each as a browser would, by
 * plain HTTP — the login form, the redirects and the progress page to their own server, a kernel
 * started and `print(6*7)` run over its websocket — while a student who logged in before them runs
 * a trivial cell every 0.5 s, through the proxy and, at the same moments, straight to their server.
 * Lectern against the real JupyterHub 3.0, one after the other, both running Debian's
 * `jupyterhub-singleuser`. Not a test: run it by hand.
 *
 *   node --import tsx bench/login-burst.ts [--students 60] [--over 30] [--timeout 600]
 *                                          [--concurrency N] [--no-build]
 *
 * Lectern runs from `dist/` through its CLI (`lectern start`), as it is deployed; JupyterHub through
 * test/helpers/jupyterhub.ts (its configurable-http-proxy in front, the dummy authenticator). Printed
 * per hub, then side by side with the ratios: students served; the login POST's time; login →
 * the server's page answering 200; kernel start → `42`; the working student's round trips (through
 * the proxy, direct, and the difference at each moment); the hub's peak RSS and CPU seconds during
 * the burst (JupyterHub's hub and proxy apart).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { closeSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { freeLoopbackPort } from '../server/spawner/free-port.js';
import { resolveLaunch } from '../server/spawner/launch-plan.js';
import { JUPYTERHUB, JUPYTERHUB_SINGLEUSER, startJupyterHub } from '../test/helpers/jupyterhub.js';
import { LECTERN_COMMAND, createJupyterHubUsers, jupyterHubProcesses, ROOT, authorized, build, createLecternUsers, positiveInteger, table, waitFor } from './proxy-harness.js';

const { values: args } = parseArgs({
  options: {
    students: { type: 'string', default: '60' },
    over: { type: 'string', default: '30' },
    timeout: { type: 'string', default: '600' },
    concurrency: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
  },
});
const STUDENTS = positiveInteger('students', args.students);
const OVER_MS = positiveInteger('over', args.over) * 1000;
const TIMEOUT_MS = positiveInteger('timeout', args.timeout) * 1000;
/** Servers starting at once on both hubs; unset, each hub keeps its default (Lectern 4, JupyterHub 100). */
const CONCURRENCY = args.concurrency === undefined ? undefined : positiveInteger('concurrency', args.concurrency);

/** The issue's aims. */
const AIM_LOGIN_P95_MS = 2_000;
/** How often the working student runs a cell, and how often the hub's process is sampled. */
const TICK_MS = 500;
/** Lectern's progress page reloads this long after its event stream drops (assets/static/spawn-pending.js). */
const RELOAD_AFTER_STREAM_MS = 2_000;
/** Redirects and page reloads one student may go through before the bench calls it a loop. */
const MAX_HOPS = 60;
/** How long the working student may take to get in and start their kernels, before the burst. */
const WORKER_TIMEOUT_MS = 180_000;
const WORKER = 'working-student';
const PASSWORD = 'lesson-password-1';
const TRIVIAL_CELL = 'pass';
/** The machine counts as quiet below this CPU busy share (both cores together). */
const QUIET_CPU = 0.25;
/** Every process a Lectern run starts carries this in its environment (its servers through `spawner.environment`). */
const MARKER = 'LECTERN_BENCH_LOGIN_BURST';

// --- A student's browser -----------------------------------------------------------------------

interface Cookie {
  name: string;
  value: string;
  host: string;
  path: string;
}

/**
 * One browser's cookies, kept per host and not per port, as browsers do (RFC 6265 §8.5): the cookie
 * a server sets through the proxy goes along to the server's own port too, where the direct socket is.
 */
class CookieJar {
  private readonly cookies = new Map<string, Cookie>();

  store(url: URL, setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1).replace(/^"|"$/g, '');
      const path = attributes.find((a) => /^path=/i.test(a))?.slice(5) || url.pathname.replace(/[^/]*$/, '') || '/';
      const key = `${url.hostname} ${path} ${name}`;
      const expired = attributes.some((a) => /^max-age=(0|-\d+)$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()));
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, host: url.hostname, path });
    }
  }

  /** The cookies a request to `url` carries, longest path first. */
  private matching(url: URL): Cookie[] {
    return [...this.cookies.values()]
      .filter((c) => c.host === url.hostname && pathMatches(url.pathname, c.path))
      .sort((a, b) => b.path.length - a.path.length);
  }

  header(url: URL): string {
    return this.matching(url)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  get(url: URL, name: string): string | undefined {
    return this.matching(url).find((c) => c.name === name)?.value;
  }
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  return requestPath.startsWith(cookiePath) && (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/');
}

/** What the bench does as one student; `stage` says where they were if they never got their `42`. */
class Student {
  readonly jar = new CookieJar();
  stage = 'waiting for their turn';
  /** When a progress page's stream last said `ready`. */
  readyAt: number | undefined;

  /** @param signal ends every request and socket of theirs (the burst's time limit). */
  constructor(
    readonly name: string,
    readonly signal: AbortSignal,
  ) {}

  async request(url: URL, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { 'User-Agent': 'lectern-bench-login-burst', ...init.headers };
    const cookie = this.jar.header(url);
    if (cookie) headers.Cookie = cookie;
    const response = await fetch(url, { method: init.method ?? 'GET', body: init.body, headers, redirect: 'manual', signal: this.signal });
    this.jar.store(url, response.headers.getSetCookie());
    return response;
  }

  /** A page the browser navigates to (a link, a redirect, a reload), with the page it came from. */
  page(url: URL, referer?: URL): Promise<Response> {
    return this.request(url, { headers: { Accept: 'text/html,*/*;q=0.8', ...(referer ? { Referer: referer.href } : {}) } });
  }
}

/** Times in ms for one student who got their `42`. */
interface Served {
  name: string;
  /** The login form's POST, from sending it to the end of its answer. */
  loginPost: number;
  /** From sending the login POST until a page of their own server answered 200. */
  toNotebook: number;
  /** The part of `toNotebook` after the progress page's stream said `ready` (redirects, OAuth); undefined without one. */
  afterReady: number | undefined;
  /** From `POST api/kernels` until the `42` came back over the kernel's websocket. */
  kernel: number;
  /** Since the burst began, when the `42` arrived. */
  doneAt: number;
}

/**
 * One student: the login page, the login POST, then whatever the hub answers until a page of their
 * own server answers 200, then the notebook's first cell: a kernel and `print(6*7)`.
 */
async function logInAndRun(hub: Hub, student: Student, t0: number): Promise<Served> {
  const loginUrl = new URL('/hub/login', hub.url);
  student.stage = 'the login page';
  const form = await student.page(loginUrl);
  await form.arrayBuffer();
  if (form.status !== 200) throw new Error(`GET /hub/login answered ${form.status}`);
  student.stage = 'the login POST';
  const posted = performance.now();
  const answer = await student.request(loginUrl, {
    method: 'POST',
    body: new URLSearchParams({ username: student.name, password: PASSWORD }).toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: hub.url.origin, Referer: loginUrl.href },
  });
  const location = answer.headers.get('location');
  const body = await answer.text();
  const loginPost = performance.now() - posted;
  if (answer.status !== 302 && answer.status !== 303) throw new Error(`the login POST answered ${answer.status}: ${textOf(body)}`);
  student.stage = 'waiting for their server';
  const page = await reachServer(student, new URL(location ?? '/hub/', loginUrl), loginUrl);
  const toNotebook = performance.now() - posted;
  student.stage = 'starting a kernel';
  const kernelStarted = performance.now();
  const socket = await openKernel(student, page, page);
  try {
    student.stage = 'running print(6*7)';
    const result = await socket.run('print(6*7)');
    if (result.output.trim() !== '42') throw new Error(`the kernel printed ${JSON.stringify(result.output)}`);
    const afterReady = student.readyAt === undefined ? undefined : posted + toNotebook - student.readyAt;
    return { name: student.name, loginPost, toNotebook, afterReady, kernel: (result.outputAt ?? result.doneAt) - kernelStarted, doneAt: performance.now() - t0 };
  } finally {
    socket.close();
  }
}

/**
 * Follows the hub from `url` as a browser does until a page of the student's own server answers
 * 200: redirects one by one; a progress page waited out as its script does (its event stream, then
 * Lectern's page goes to its `next`, JupyterHub's reloads itself); a 429 retried after Retry-After.
 * Resolves with that page's URL.
 */
async function reachServer(student: Student, url: URL, referer: URL): Promise<URL> {
  let at = url;
  let from: URL | undefined = referer;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const response = await student.page(at, from);
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.arrayBuffer();
      at = new URL(location, at);
      continue;
    }
    const body = await response.text();
    from = at;
    if (response.status === 200 && ownPage(student.name, at)) return at;
    if (response.status === 429) {
      const wait = Number(response.headers.get('retry-after'));
      await sleep((Number.isFinite(wait) && wait > 0 ? wait : 1) * 1000);
      continue;
    }
    const progress = response.status === 200 ? progressPage(body, at) : undefined;
    if (progress === undefined) throw new Error(`${at.pathname} answered ${response.status}: ${textOf(body)}`);
    const outcome = await followProgress(student, progress.stream, at);
    if (outcome === 'ready' && progress.next) at = progress.next;
  }
  throw new Error(`more than ${MAX_HOPS} redirects and reloads, last at ${at.pathname}`);
}

function ownPage(name: string, url: URL): boolean {
  return url.pathname.startsWith(`/user/${name}/`) && !url.pathname.includes('/oauth_callback');
}

/**
 * A hub's "your server is starting" page: Lectern's names its event stream and where to go next in
 * data attributes; JupyterHub's opens `new EventSource("…")` and reloads itself when ready.
 */
function progressPage(body: string, at: URL): { stream: URL; next: URL | undefined } | undefined {
  const lectern = /data-progress-url="([^"]+)"/.exec(body);
  if (lectern?.[1]) {
    const next = /data-next="([^"]+)"/.exec(body)?.[1];
    return { stream: new URL(unescapeHtml(lectern[1]), at), next: next ? new URL(unescapeHtml(next), at) : undefined };
  }
  const jupyterhub = /new EventSource\("([^"]+)"\)/.exec(body);
  return jupyterhub?.[1] ? { stream: new URL(unescapeHtml(jupyterhub[1]), at), next: undefined } : undefined;
}

function unescapeHtml(text: string): string {
  return text.replace(/&(amp|quot|#39|#x27|lt|gt|#x2F);/g, (_, entity: string) => ({ amp: '&', quot: '"', '#39': "'", '#x27': "'", lt: '<', gt: '>', '#x2F': '/' })[entity] ?? '');
}

/**
 * The progress page's EventSource: the stream with the page's cookies and Referer, until `ready`
 * or `failed`. A stream that cannot be had or ends without either is "gone": the page is reloaded
 * after the 2 s Lectern's page waits.
 */
async function followProgress(student: Student, stream: URL, page: URL): Promise<'ready' | 'gone'> {
  const response = await student.request(stream, { headers: { Accept: 'text/event-stream', 'Cache-Control': 'no-cache', Referer: page.href } });
  if (response.status === 200 && response.body) {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('data:')) continue;
        const event = JSON.parse(line.slice(5)) as { ready?: boolean; failed?: boolean; message?: string };
        if (event.ready) {
          student.readyAt = performance.now();
          await response.body.cancel().catch(() => undefined);
          return 'ready';
        }
        if (event.failed) throw new Error(`the server failed to start: ${event.message ?? '(no message)'}`);
      }
    }
  } else {
    await response.arrayBuffer();
  }
  await sleep(RELOAD_AFTER_STREAM_MS);
  return 'gone';
}

/** A page's text without its markup, cut short, for an error message. */
function textOf(body: string): string {
  const text = body
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 160 ? `${text.slice(0, 160)}…` : text || '(empty)';
}

// --- Kernels -------------------------------------------------------------------------------------

interface CellResult {
  output: string;
  /** When the first output arrived (undefined if the cell printed nothing). */
  outputAt: number | undefined;
  /** When the kernel went idle again after the cell. */
  doneAt: number;
}

/**
 * A kernel's websocket as a notebook page uses it: one cell at a time per call, each resolved when
 * the kernel reports idle after it (all its output has arrived by then).
 */
class KernelSocket {
  private readonly pending = new Map<string, { output: string; outputAt: number | undefined; resolve: (r: CellResult) => void; reject: (e: Error) => void }>();
  private readonly session = randomBytes(8).toString('hex');
  private count = 0;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => this.receive(String(data)));
    const fail = (error: Error) => {
      for (const cell of this.pending.values()) cell.reject(error);
      this.pending.clear();
    };
    socket.on('close', () => fail(new Error('the kernel websocket closed')));
    socket.on('error', (error) => fail(error));
  }

  /** Opens `url` with the page's cookies and Origin (the server checks both). */
  static open(url: URL, cookie: string, origin: string, signal: AbortSignal): Promise<KernelSocket> {
    const socket = new WebSocket(url, { headers: cookie ? { Cookie: cookie } : {}, origin });
    const abort = () => socket.terminate();
    signal.addEventListener('abort', abort, { once: true });
    socket.once('close', () => signal.removeEventListener('abort', abort));
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new KernelSocket(socket)));
      socket.once('unexpected-response', (_req, res) => reject(new Error(`the kernel websocket answered ${res.statusCode}`)));
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('the kernel websocket closed before opening')));
    });
  }

  run(code: string): Promise<CellResult> {
    const msgId = `${this.session}-${++this.count}`;
    return new Promise((resolve, reject) => {
      this.pending.set(msgId, { output: '', outputAt: undefined, resolve, reject });
      this.socket.send(
        JSON.stringify({
          header: { msg_id: msgId, username: 'student', session: this.session, msg_type: 'execute_request', version: '5.3' },
          parent_header: {},
          metadata: {},
          content: { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false },
          channel: 'shell',
          buffers: [],
        }),
      );
    });
  }

  private receive(data: string): void {
    const now = performance.now();
    const message = JSON.parse(data) as { msg_type: string; parent_header: { msg_id?: string }; content: { text?: string; execution_state?: string } };
    const cell = this.pending.get(message.parent_header.msg_id ?? '');
    if (!cell) return;
    if (message.msg_type === 'stream') {
      cell.output += message.content.text ?? '';
      cell.outputAt ??= now;
    } else if (message.msg_type === 'status' && message.content.execution_state === 'idle') {
      this.pending.delete(message.parent_header.msg_id ?? '');
      cell.resolve({ output: cell.output, outputAt: cell.outputAt, doneAt: now });
    }
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * Starts a kernel as the notebook page at `page` does (`POST api/kernels`, with Jupyter's XSRF
 * cookie as `X-XSRFToken`) and opens its websocket at `socketOrigin`: the page's own origin, or the
 * server's address straight, bypassing the proxy.
 */
async function openKernel(student: Student, page: URL, socketOrigin: URL): Promise<KernelSocket> {
  const base = new URL(`/user/${student.name}/`, page);
  const kernels = new URL('api/kernels', base);
  const xsrf = student.jar.get(kernels, '_xsrf');
  const response = await student.request(kernels, {
    method: 'POST',
    body: JSON.stringify({ name: 'python3' }),
    headers: {
      'Content-Type': 'application/json',
      Origin: page.origin,
      Referer: page.href,
      ...(xsrf ? { 'X-XSRFToken': decodeURIComponent(xsrf) } : {}),
    },
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`POST api/kernels answered ${response.status}: ${textOf(text)}`);
  const { id } = JSON.parse(text) as { id: string };
  const channels = new URL(`/user/${student.name}/api/kernels/${id}/channels`, socketOrigin);
  const socketUrl = new URL(channels.href.replace(/^http/, 'ws'));
  return KernelSocket.open(socketUrl, student.jar.header(channels), socketOrigin.origin, student.signal);
}

// --- The working student ---------------------------------------------------------------------

/** One moment of the working student's: the two round trips, where each came back. */
interface Tick {
  proxy: number | undefined;
  direct: number | undefined;
}

/**
 * Every TICK_MS, the same trivial cell on two kernels of the working student's server: one through
 * the hub's proxy (the page's own origin), one straight to the server's port. Two kernels, so
 * neither cell waits behind the other. A socket whose previous cell has not come back skips the
 * moment (counted); its late round trip is recorded when it comes.
 */
class WorkingStudent {
  readonly ticks: Tick[] = [];
  skipped = 0;
  errors: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly proxied: KernelSocket,
    private readonly direct: KernelSocket,
  ) {}

  start(): void {
    const busy = { proxy: false, direct: false };
    this.timer = setInterval(() => {
      const tick: Tick = { proxy: undefined, direct: undefined };
      this.ticks.push(tick);
      for (const path of ['proxy', 'direct'] as const) {
        if (busy[path]) {
          this.skipped++;
          continue;
        }
        busy[path] = true;
        const sent = performance.now();
        const cell = (path === 'proxy' ? this.proxied : this.direct)
          .run(TRIVIAL_CELL)
          .then((result) => {
            tick[path] = result.doneAt - sent;
          })
          .catch((error: Error) => {
            this.errors.push(`${path}: ${error.message}`);
          })
          .finally(() => {
            busy[path] = false;
            this.inFlight.delete(cell);
          });
        this.inFlight.add(cell);
      }
    }, TICK_MS);
  }

  /** Stops sending; waits (10 s at most) for the cells still out. Idempotent. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.race([Promise.all(this.inFlight), sleep(10_000, undefined, { ref: false })]);
  }

  close(): void {
    this.proxied.close();
    this.direct.close();
  }
}

/**
 * Logs the working student in and opens their two kernels: one through the proxy, one at the
 * server's own address, read from the proxy's route table (CHP's `GET /api/routes`, which Lectern
 * serves too with `proxy.apiPort`).
 */
async function startWorkingStudent(hub: Hub): Promise<WorkingStudent> {
  // Getting in has a time limit; the sockets, once open, last until close().
  const gettingIn = new AbortController();
  const limit = setTimeout(() => gettingIn.abort(new Error(`${WORKER} was not in within ${WORKER_TIMEOUT_MS / 1000} s`)), WORKER_TIMEOUT_MS);
  try {
    const student = new Student(WORKER, gettingIn.signal);
    const loginUrl = new URL('/hub/login', hub.url);
    const answer = await student.request(loginUrl, {
      method: 'POST',
      body: new URLSearchParams({ username: WORKER, password: PASSWORD }).toString(),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: hub.url.origin, Referer: loginUrl.href },
    });
    await answer.arrayBuffer();
    const location = answer.headers.get('location');
    if (!location) throw new Error(`the working student's login answered ${answer.status}`);
    const page = await reachServer(student, new URL(location, loginUrl), loginUrl);
    const routes = await hub.routes();
    const route = Object.entries(routes).find(([prefix, data]) => data.user === WORKER || prefix.replace(/\/$/, '') === `/user/${WORKER}`);
    if (!route?.[1].target) throw new Error(`no route for /user/${WORKER}/ in the proxy's table: ${JSON.stringify(routes)}`);
    const target = new URL(route[1].target);
    const proxied = await openKernel(student, page, page);
    const direct = await openKernel(student, page, target);
    for (const socket of [proxied, direct]) {
      const warm = await socket.run(TRIVIAL_CELL);
      if (warm.output !== '') throw new Error(`the working student's trivial cell printed ${JSON.stringify(warm.output)}`);
    }
    console.log(`  ${WORKER} is in (${page.origin}${page.pathname}; server at ${target.origin}) and runs a cell every ${TICK_MS} ms`);
    return new WorkingStudent(proxied, direct);
  } finally {
    clearTimeout(limit);
  }
}

// --- The hub's processes ------------------------------------------------------------------------

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds (user + system, all threads) and RSS of a process now; undefined once it is gone. */
function processNow(pid: number): { cpu: number; rss: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), from field 3: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);
    return { cpu, rss: rssKb * 1024 };
  } catch {
    return undefined;
  }
}

interface Usage {
  label: string;
  rssBefore: number;
  rssPeak: number;
  cpuSeconds: number;
}

/** Samples each process every TICK_MS from `start()` to `stop()`: peak RSS, CPU seconds used between. */
class ProcessSampler {
  private readonly state: { label: string; pid: number; first: { cpu: number; rss: number }; last: { cpu: number; rss: number }; peak: number }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly processes: { label: string; pid: number }[]) {}

  start(): void {
    for (const { label, pid } of this.processes) {
      const now = processNow(pid);
      if (now) this.state.push({ label, pid, first: now, last: now, peak: now.rss });
      else console.log(`  ${label} (pid ${pid}) is not there to sample`);
    }
    this.timer = setInterval(() => this.sample(), TICK_MS);
  }

  stop(): Usage[] {
    clearInterval(this.timer);
    this.sample();
    return this.state.map((s) => ({ label: s.label, rssBefore: s.first.rss, rssPeak: s.peak, cpuSeconds: s.last.cpu - s.first.cpu }));
  }

  private sample(): void {
    for (const s of this.state) {
      const now = processNow(s.pid);
      if (!now) continue;
      s.last = now;
      s.peak = Math.max(s.peak, now.rss);
    }
  }
}

// --- The hubs ------------------------------------------------------------------------------------

interface Route {
  target?: string;
  user?: string;
}

/** A hub under measurement, as the bench needs it. */
interface Hub {
  name: 'Lectern' | 'JupyterHub 3.0';
  /** The public origin students use. */
  url: URL;
  /** Calls the REST API with an admin service token. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** Creates the accounts, with PASSWORD where the hub checks passwords. */
  createUsers(names: string[]): Promise<void>;
  /** The proxy's route table (CHP's `GET /api/routes`). */
  routes(): Promise<Record<string, Route>>;
  /** The processes whose RSS and CPU are the hub's: one for Lectern; JupyterHub's hub and its proxy. */
  processes(): { label: string; pid: number }[];
  /** The tail of the hub's log (warnings and errors). */
  log(): string;
  /** The tail of one student's server log, where the hub keeps it apart (Lectern; JupyterHub's is in its own). */
  serverLog(name: string): string;
  /** How many servers it starts at once, for the report. */
  concurrency: string;
  stop(): Promise<void>;
}

async function startLectern(work: string): Promise<Hub> {
  const dir = await mkdtemp(join(work, 'lectern-'));
  const token = randomBytes(24).toString('hex');
  const proxyToken = randomBytes(24).toString('hex');
  const [port, proxyApiPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const configFile = join(dir, 'lectern.json');
  await writeFile(
    configFile,
    JSON.stringify({
      services: [{ name: 'bench-admin', apiToken: token, admin: true }],
      // Servers' own origins on ports the system picks: 8001-8200 may be in use on this machine.
      network: { serverPorts: '0' },
      proxy: { apiPort: proxyApiPort, apiIp: '127.0.0.1', apiToken: proxyToken },
      spawner: { command: [JUPYTERHUB_SINGLEUSER], environment: { [MARKER]: dir }, ...(CONCURRENCY ? { concurrentSpawnLimit: CONCURRENCY } : {}) },
      culler: { enabled: false },
    }),
  );
  const logFile = join(dir, 'lectern.log');
  const logFd = openSync(logFile, 'a');
  console.log('Lectern: starting (./lectern start)…');
  const child = spawn(
    LECTERN_COMMAND,
    ['start', '--config', configFile, '--data-dir', join(dir, 'data'), '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'],
    {
      cwd: dir,
      // PATH without pyenv's shims: the servers' JUPYTERHUB_SINGLEUSER is named by path anyway.
      env: { PATH: `${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: dir, LANG: process.env.LANG ?? 'C.UTF-8', [MARKER]: dir },
      // stdout carries the banner with the first admin's one-time password: not ours to print. The
      // log goes to a file, not a pipe: a pipe the busy bench reads late would block the hub's writes.
      stdio: ['ignore', 'ignore', logFd],
    },
  );
  closeSync(logFd);
  const stderr = () => tailOf(logFile, 400);
  // If the bench dies without stopping the hub, still take the hub, its servers and kernels down.
  const onExit = () => killMarked(dir, 'SIGKILL');
  process.once('exit', onExit);
  const stop = async () => {
    // Lectern stops its servers (and their kernels) on SIGTERM; sixty of them take a moment.
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      // Unref'd: once the hub is gone, this wait must not keep the bench alive.
      await Promise.race([exited, sleep(90_000, undefined, { ref: false })]);
    }
    killMarked(dir, 'SIGTERM');
    for (let i = 0; i < 50 && markedPids(dir).length > 0; i++) await sleep(100);
    const left = markedPids(dir).length;
    if (left > 0) console.log(`  Lectern left ${left} processes behind after its stop: killed`);
    killMarked(dir, 'SIGKILL');
    process.removeListener('exit', onExit);
    await rm(dir, { recursive: true, force: true });
  };
  const url = new URL(`http://127.0.0.1:${port}/`);
  const up = await waitFor(30_000, async () => child.exitCode === null && (await fetch(new URL('/hub/api', url), { signal: AbortSignal.timeout(2_000) })).status === 200);
  if (!up) {
    const log = stderr();
    await stop();
    throw new Error(`Lectern did not answer GET /hub/api within 30 s:\n${log}`);
  }
  const api = authorized(`${url.origin}/hub/api`, token);
  const proxyApi = authorized(`http://127.0.0.1:${proxyApiPort}`, proxyToken);
  return {
    name: 'Lectern',
    url,
    api,
    createUsers: (names) => createLecternUsers(api, names, PASSWORD),
    routes: async () => (await (await proxyApi('/api/routes')).json()) as Record<string, Route>,
    processes: () => (child.pid === undefined ? [] : [{ label: 'lectern start (hub and proxy)', pid: child.pid }]),
    log: stderr,
    serverLog: (name) => tailOf(join(dir, 'data', 'logs', `${name}.log`)),
    concurrency: String(CONCURRENCY ?? '4 (its default)'),
    stop,
  };
}

async function startJupyterHubTarget(): Promise<Hub> {
  console.log(`JupyterHub: starting (${JUPYTERHUB}, configurable-http-proxy in front, dummy authenticator)…`);
  // Out of the box, jupyterhub-singleuser with Debian's packages serves no pages: it gets the app
  // Lectern picks for it (the classic Notebook), so that both hubs run the same server.
  const launch = await resolveLaunch({ command: [JUPYTERHUB_SINGLEUSER], python: null, launchMode: 'auto' });
  const app = launch.plan?.singleuserApp;
  const token = randomBytes(24).toString('hex');
  const hub = await startJupyterHub({
    serviceName: 'bench-admin',
    token,
    spawnerEnvironment: app ? { JUPYTERHUB_SINGLEUSER_APP: app } : {},
    extraConfig: CONCURRENCY ? [`c.JupyterHub.concurrent_spawn_limit = ${CONCURRENCY}`] : [],
  });
  const api = authorized(hub.apiUrl, token);
  const proxyApi = authorized(hub.proxyApiUrl, hub.proxyToken);
  return {
    name: 'JupyterHub 3.0',
    url: new URL(hub.url),
    api,
    createUsers: (names) => createJupyterHubUsers(api, names),
    routes: async () => (await (await proxyApi('/api/routes')).json()) as Record<string, Route>,
    processes: () => jupyterHubProcesses(hub),
    log: () => hub.stderr(),
    serverLog: () => '',
    concurrency: String(CONCURRENCY ?? '100 (its default)'),
    stop: () => hub.stop(),
  };
}

/** The last lines of a log file, or '' if there is none. */
function tailOf(file: string, lines = 12): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Pids whose initial environment carries `MARKER=dir`: a Lectern run's hub, servers and kernels. */
function markedPids(dir: string): number[] {
  const needle = `${MARKER}=${dir}\0`;
  return readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) return [];
    try {
      return `${readFileSync(`/proc/${entry}/environ`, 'latin1')}\0`.includes(needle) ? [Number(entry)] : [];
    } catch {
      return []; // Exited, or not ours to read.
    }
  });
}

function killMarked(dir: string, signal: NodeJS.Signals): void {
  for (const pid of markedPids(dir)) {
    try {
      process.kill(pid, signal);
    } catch {
      // Exited meanwhile.
    }
  }
  if (signal === 'SIGKILL') rmSync(dir, { recursive: true, force: true });
}

/** The machine's CPU busy share over `ms`, from /proc/stat (every core together). */
async function cpuBusy(ms: number): Promise<number> {
  const read = () => {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    return { idle: (fields[3] ?? 0) + (fields[4] ?? 0), total };
  };
  const before = read();
  await sleep(ms);
  const after = read();
  return after.total === before.total ? 0 : 1 - (after.idle - before.idle) / (after.total - before.total);
}

/**
 * Waits (two minutes at most) until the machine is mostly idle, so the previous hub's servers
 * stopping, or a kernel still settling, do not share the burst's CPU. Resolves with the last reading.
 */
async function quietMachine(): Promise<number> {
  const deadline = Date.now() + 120_000;
  let busy = await cpuBusy(2_000);
  while (busy > QUIET_CPU && Date.now() < deadline) busy = await cpuBusy(2_000);
  if (busy > QUIET_CPU) console.log(`  the machine is still ${percent(busy)} busy after two minutes: the figures will be noisy`);
  return busy;
}

// --- One hub's burst -------------------------------------------------------------------------------

interface Outcome {
  hub: Hub['name'];
  concurrency: string;
  served: Served[];
  failures: { name: string; message: string }[];
  ticks: Tick[];
  skipped: number;
  tickErrors: string[];
  usage: Usage[];
  /** The machine's CPU busy share in the seconds before the burst. */
  busyBefore: number;
}

async function runBurst(start: () => Promise<Hub>): Promise<Outcome> {
  const hub = await start();
  try {
    const names = Array.from({ length: STUDENTS }, (_, i) => `student-${String(i + 1).padStart(2, '0')}`);
    await hub.createUsers([WORKER, ...names]);
    const working = await startWorkingStudent(hub);
    let results: PromiseSettledResult<Served>[];
    let usage: Usage[];
    let busyBefore: number;
    try {
      busyBefore = await quietMachine();
      console.log(`${hub.name}: ${STUDENTS} students log in over ${OVER_MS / 1000} s (CPU ${percent(busyBefore)} busy just before)…`);
      const sampler = new ProcessSampler(hub.processes());
      const deadline = AbortSignal.timeout(TIMEOUT_MS);
      // Every student's requests and waits listen to it: a few hundred listeners, no leak.
      setMaxListeners(0, deadline);
      const t0 = performance.now();
      sampler.start();
      working.start();
      const gap = OVER_MS / STUDENTS;
      results = await Promise.allSettled(
        names.map(async (name, i) => {
          const student = new Student(name, deadline);
          try {
            await sleep(i * gap, undefined, { signal: deadline });
            const served = await logInAndRun(hub, student, t0);
            console.log(`  ${name}: in after ${seconds(served.toNotebook)}, 42 after ${seconds(served.kernel)} more`);
            return served;
          } catch (error) {
            const why = deadline.aborted ? `timed out (--timeout ${TIMEOUT_MS / 1000} s)` : (error as Error).message.split('\n')[0];
            console.log(`  ${name}: NOT served: ${why}, at ${student.stage}`);
            throw new Error(`${why}, at ${student.stage}`);
          }
        }),
      );
      await working.stop();
      usage = sampler.stop();
    } finally {
      await working.stop();
      working.close();
    }
    const served = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [{ name: names[i] as string, message: (r.reason as Error).message }] : []));
    const first = failures[0];
    if (first) {
      const said = hub.log().split('\n').filter((line) => line.includes(first.name)).slice(-5);
      console.log(`${hub.name}'s log about ${first.name}:\n${said.join('\n') || "(nothing in its log's tail)"}`);
      const server = hub.serverLog(first.name);
      if (server) console.log(`The end of ${first.name}'s server log:\n${server}`);
    }
    return {
      hub: hub.name,
      concurrency: hub.concurrency,
      served,
      failures,
      ticks: working.ticks,
      skipped: working.skipped,
      tickErrors: working.errors,
      usage,
      busyBefore,
    };
  } finally {
    console.log(`${hub.name}: stopping the hub and its servers…`);
    await hub.stop();
  }
}

// --- Report ----------------------------------------------------------------------------------------

/** Nearest-rank percentile; NaN for no values. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

const seconds = (ms: number) => (Number.isNaN(ms) ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
const millis = (ms: number) => (Number.isNaN(ms) ? 'n/a' : `${ms.toFixed(1)} ms`);
const signedMillis = (ms: number) => (Number.isNaN(ms) ? 'n/a' : `${ms >= 0 ? '+' : '−'}${Math.abs(ms).toFixed(1)} ms`);
const mebibytes = (bytes: number) => (Number.isNaN(bytes) ? 'n/a' : `${(bytes / 1048576).toFixed(0)} MiB`);
const percent = (share: number) => `${Math.round(share * 100)}%`;
/** The largest value; NaN for none. */
const max = (values: number[]) => (values.length === 0 ? Number.NaN : Math.max(...values));
const ratio = (a: number, b: number) => (Number.isFinite(a / b) && b !== 0 ? `${(a / b).toFixed(2)}×` : '');

/** One row of a side-by-side table: a figure per hub, formatted, and the ratio of the first two. */
type Measure = [label: string, value: (o: Outcome) => number, format: (n: number) => string, withRatio?: boolean];

function sideBySide(title: string, measures: Measure[], outcomes: Outcome[]): string {
  const two = outcomes.length === 2;
  const header = [title, ...outcomes.map((o) => o.hub), ...(two ? ['Lectern/JupyterHub'] : [])];
  const rows = measures.map(([label, value, format, withRatio = true]) => {
    const values = outcomes.map(value);
    return [label, ...values.map(format), ...(two ? [withRatio ? ratio(values[0] as number, values[1] as number) : ''] : [])];
  });
  return table(header, rows, new Set(header.map((_, i) => i).slice(1)));
}

const proxyTimes = (o: Outcome) => o.ticks.flatMap((t) => (t.proxy === undefined ? [] : [t.proxy]));
const directTimes = (o: Outcome) => o.ticks.flatMap((t) => (t.direct === undefined ? [] : [t.direct]));
/** The proxy's addition at each moment both cells came back: the paired difference. */
const added = (o: Outcome) => o.ticks.flatMap((t) => (t.proxy === undefined || t.direct === undefined ? [] : [t.proxy - t.direct]));
const usageOf = (o: Outcome, label: RegExp) => o.usage.filter((u) => label.test(u.label));
const sum = (values: number[]) => (values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0));

function report(outcomes: Outcome[]): string {
  const served = (o: Outcome, pick: (s: Served) => number, p: number) => percentile(o.served.map(pick), p);
  const students = sideBySide(
    `${STUDENTS} students over ${OVER_MS / 1000} s`,
    [
      ['served', (o) => o.served.length, (n) => `${n}/${STUDENTS}`, false],
      ['login POST p50', (o) => served(o, (s) => s.loginPost, 50), millis],
      ['login POST p95', (o) => served(o, (s) => s.loginPost, 95), millis],
      ['login → notebook p50', (o) => served(o, (s) => s.toNotebook, 50), seconds],
      ['login → notebook p95', (o) => served(o, (s) => s.toNotebook, 95), seconds],
      ['  of which after "ready" p50', (o) => percentile(o.served.flatMap((s) => (s.afterReady === undefined ? [] : [s.afterReady])), 50), seconds],
      ['kernel start → 42 p50', (o) => served(o, (s) => s.kernel, 50), seconds],
      ['kernel start → 42 p95', (o) => served(o, (s) => s.kernel, 95), seconds],
      ['first login → last 42', (o) => max(o.served.map((s) => s.doneAt)), seconds],
    ],
    outcomes,
  );
  const cells = sideBySide(
    `${WORKER}'s cell every ${TICK_MS} ms`,
    [
      ['through the proxy p50', (o) => percentile(proxyTimes(o), 50), millis],
      ['through the proxy p95', (o) => percentile(proxyTimes(o), 95), millis],
      ['through the proxy max', (o) => max(proxyTimes(o)), millis],
      ['direct p50', (o) => percentile(directTimes(o), 50), millis],
      ['direct p95', (o) => percentile(directTimes(o), 95), millis],
      ['direct max', (o) => max(directTimes(o)), millis],
      ['added (proxy − direct) p50', (o) => percentile(added(o), 50), signedMillis],
      ['added (proxy − direct) p95', (o) => percentile(added(o), 95), signedMillis],
      ['moments (pairs)', (o) => added(o).length, String, false],
      ['skipped (cell still out)', (o) => o.skipped, String, false],
    ],
    outcomes,
  );
  const hubRss = (o: Outcome) => sum(usageOf(o, /jupyterhub$|^lectern/).map((u) => u.rssPeak));
  const proxyRss = (o: Outcome) => sum(usageOf(o, /configurable-http-proxy/).map((u) => u.rssPeak));
  const hubCpu = (o: Outcome) => sum(usageOf(o, /jupyterhub$|^lectern/).map((u) => u.cpuSeconds));
  const proxyCpu = (o: Outcome) => sum(usageOf(o, /configurable-http-proxy/).map((u) => u.cpuSeconds));
  const orZero = (n: number) => (Number.isNaN(n) ? 0 : n);
  const resources = sideBySide(
    'during the burst',
    [
      ['hub RSS before', (o) => sum(usageOf(o, /jupyterhub$|^lectern/).map((u) => u.rssBefore)), mebibytes],
      ['hub RSS peak', hubRss, mebibytes],
      ['proxy RSS peak', proxyRss, (n) => (Number.isNaN(n) ? 'in the hub' : mebibytes(n)), false],
      ['hub + proxy RSS peak', (o) => hubRss(o) + orZero(proxyRss(o)), mebibytes],
      ['hub CPU', hubCpu, (n) => `${n.toFixed(1)} s`],
      ['proxy CPU', proxyCpu, (n) => (Number.isNaN(n) ? 'in the hub' : `${n.toFixed(1)} s`), false],
      ['hub + proxy CPU', (o) => hubCpu(o) + orZero(proxyCpu(o)), (n) => `${n.toFixed(1)} s`],
    ],
    outcomes,
  );
  const lines = [students, '', cells, '', resources, ''];
  for (const o of outcomes) {
    const first = o.failures[0];
    lines.push(
      `${o.hub}: servers starting at once at most ${o.concurrency}; CPU ${percent(o.busyBefore)} busy just before the burst.` +
        (first ? ` Not served: ${o.failures.length}; the first, ${first.name}: ${first.message}` : ''),
    );
    if (o.tickErrors.length > 0) lines.push(`${o.hub}: ${o.tickErrors.length} of ${WORKER}'s cells failed; the first: ${o.tickErrors[0]}`);
  }
  const [lectern, jupyterhub] = outcomes;
  if (lectern?.hub === 'Lectern') {
    const loginP95 = percentile(lectern.served.map((s) => s.loginPost), 95);
    lines.push(`Aim: login POST p95 under ${seconds(AIM_LOGIN_P95_MS)}: Lectern ${millis(loginP95)}: ${loginP95 < AIM_LOGIN_P95_MS ? 'met' : 'NOT met'}.`);
    if (jupyterhub) {
      const ours = percentile(added(lectern), 95);
      const theirs = percentile(added(jupyterhub), 95);
      lines.push(
        `Aim: added round trip at p95 no more than JupyterHub's separate proxy's: Lectern ${signedMillis(ours)}, ` +
          `JupyterHub ${signedMillis(theirs)}: ${ours <= theirs ? 'met' : 'NOT met'}.`,
      );
    }
  }
  lines.push(
    'login POST = that one request; login → notebook = from sending it to a page of the student\'s own server answering 200; ' +
      'kernel start → 42 = from POST api/kernels to the 42 arriving over the kernel websocket; ' +
      `a round trip = sending the cell "${TRIVIAL_CELL}" to the kernel reporting idle after it.`,
  );
  return lines.join('\n');
}

function machine(): string {
  const cpuList = cpus();
  const [load = 0] = loadavg();
  const busy = load > cpuList.length / 4 ? ' (NOT idle: the figures will be noisy)' : '';
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return [
    `Machine: ${cpuList.length} × ${cpuList[0]?.model.trim() ?? 'unknown CPU'}; load average before the run ${load.toFixed(2)}${busy}`,
    `Node ${process.version}; Lectern ${version}; JupyterHub 3.0 (${JUPYTERHUB}); every server is ${JUPYTERHUB_SINGLEUSER}.`,
    `${STUDENTS} students, one every ${(OVER_MS / STUDENTS / 1000).toFixed(2)} s; ${WORKER} runs a cell every ${TICK_MS} ms; ` +
      `each hub has ${TIMEOUT_MS / 1000} s for the burst.\n`,
  ].join('\n');
}

async function main(): Promise<void> {
  if (!args['no-build']) build();
  // Ctrl-C still stops the hubs, their servers and kernels (the 'exit' handlers), and removes the temp dirs.
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  console.log(machine());
  const work = await mkdtemp(join(tmpdir(), 'lectern-bench-burst-'));
  // On Ctrl-C `finally` does not run; the hubs' own 'exit' handlers take their processes down.
  const removeWork = () => rmSync(work, { recursive: true, force: true });
  process.once('exit', removeWork);
  const outcomes: Outcome[] = [];
  try {
    for (const start of [() => startLectern(work), startJupyterHubTarget]) {
      try {
        const outcome = await runBurst(start);
        outcomes.push(outcome);
        console.log(`\n${report([outcome])}\n`);
      } catch (error) {
        console.log(`This hub's burst could not run: ${(error as Error).message.split('\n').slice(0, 3).join(' ')}`);
      }
    }
  } finally {
    process.removeListener('exit', removeWork);
    await rm(work, { recursive: true, force: true });
  }
  if (outcomes.length === 2) console.log(`\nSide by side:\n${report(outcomes)}`);
}

main().catch((error: unknown) => {
  console.error(`bench/login-burst: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
