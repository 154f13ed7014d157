/**
 * What the proxy benchmarks (`proxy.ts`, `proxy-soak.ts`) share: the target they all sit in front of,
 * the proxies under measurement started as they are deployed, wrk, and a websocket echo client.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { chpCommand, lecternProxyCommand, startProxyProcess } from '../test/helpers/proxy-process.js';
import { freeLoopbackPort } from '../server/spawner/free-port.js';
import { JUPYTERHUB, type JupyterHubProcess } from '../test/helpers/jupyterhub.js';

export const ROOT = join(new URL('.', import.meta.url).pathname, '..');
export const LECTERN_CLI = join(ROOT, 'dist/server/cli/main.js');
/**
 * The `lectern` command as the quick start runs it: the checkout's `lectern` script, which runs
 * LECTERN_CLI with its memory settings. The benches start Lectern with it, as it is deployed.
 */
export const LECTERN_COMMAND = join(ROOT, 'lectern');
const TARGET_SCRIPT = join(ROOT, 'bench/proxy-target.mjs');

/** The route names every proxy gets, as JupyterHub names its users' routes: `/user/bench-001` … */
export function routePrefixes(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `/user/bench-${String(i + 1).padStart(3, '0')}`);
}

/** Something started for a benchmark, and how to take it down. */
export interface Running {
  /** Origin requests go to: the proxy's public port, or the target itself for "direct". */
  url: string;
  /** The process whose RSS and fds are the proxy's (undefined for "direct"). */
  pid: number | undefined;
  /** How the row is labelled, with anything a reader must know (how routes were made). */
  label: string;
  stop(): Promise<void>;
}

/** The target (bench/proxy-target.mjs) on a free loopback port, in its own process. */
export async function startTarget(): Promise<Running & { port: number }> {
  const child = spawn(process.execPath, [TARGET_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'], env: { PATH: process.env.PATH ?? '' } });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.once('data', (line: string) => resolve((JSON.parse(line) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`the target exited (${code}) before listening`)));
  });
  return { url: `http://127.0.0.1:${port}`, port, pid: child.pid, label: 'target', stop: () => stopChild(child) };
}

/** CHP 5.3 or `lectern proxy` as a process, with a route per prefix to `target`. */
export async function startProxy(kind: 'chp' | 'lectern', target: string, prefixes: string[]): Promise<Running> {
  const proxy = await startProxyProcess({ command: kind === 'chp' ? chpCommand() : lecternProxyCommand(), logLevel: 'warn' });
  try {
    await addRoutes((path, body) => proxy.api(`/api/routes${path}`, { method: 'POST', body }), target, prefixes);
  } catch (error) {
    await proxy.stop();
    throw error;
  }
  return { url: proxy.url, pid: proxy.pid, label: proxy.name, stop: () => proxy.stop() };
}

/** Adds the routes as JupyterHub does (`user`, `server_name` beside the target), a few at a time. */
async function addRoutes(post: (path: string, body: string) => Promise<Response>, target: string, prefixes: string[]): Promise<void> {
  const queue = [...prefixes];
  const worker = async () => {
    for (let prefix = queue.shift(); prefix !== undefined; prefix = queue.shift()) {
      const user = prefix.split('/').at(-1);
      const response = await post(prefix, JSON.stringify({ target, user, server_name: '', jupyterhub: true }));
      const text = await response.text();
      if (response.status !== 201) throw new Error(`POST /api/routes${prefix} answered ${response.status}: ${text}`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

/**
 * A Lectern hub (`lectern start` from dist/) whose in-process proxy has a route per prefix. Through
 * the hub's CHP-compatible route API (`proxy.apiPort`) when this build serves it, to `target`;
 * otherwise each prefix is a real user whose "single-user server" is a spawned copy of the target
 * script, started through the REST API, so the request still takes the path a student's does.
 */
export async function startLecternHub(target: string, prefixes: string[], log: (line: string) => void): Promise<Running> {
  const work = await mkdtemp(join(tmpdir(), 'lectern-bench-proxy-'));
  try {
    const withApi = await startHubProcess(work, 'route-api', prefixes.length);
    const apiAnswers = await waitFor(3_000, async () => (await withApi.proxyApi('/api/routes')).status === 200);
    if (apiAnswers) {
      await addRoutes((path, body) => withApi.proxyApi(`/api/routes${path}`, { method: 'POST', body }), target, prefixes);
      return { ...withApi.running, label: 'Lectern in-process', stop: () => withApi.running.stop().finally(() => rm(work, { recursive: true, force: true })) };
    }
    log('  this build does not serve proxy.apiPort yet: starting a real server per route instead');
    await withApi.running.stop();
    await rm(join(work, 'data'), { recursive: true, force: true });
  } catch (error) {
    if (!(error instanceof HubRefusedConfig)) {
      await rm(work, { recursive: true, force: true });
      throw error;
    }
    log(`  this build refuses proxy.apiPort (${error.message.split('\n')[0]}): starting a real server per route instead`);
  }
  const hub = await startHubProcess(work, 'spawned-servers', prefixes.length);
  const stop = () => hub.running.stop().finally(() => rm(work, { recursive: true, force: true }));
  try {
    await startServers(hub.api, prefixes.map((prefix) => prefix.split('/').at(-1) ?? ''));
  } catch (error) {
    await stop();
    throw error;
  }
  return { ...hub.running, label: 'Lectern in-process (spawned targets)', stop };
}

class HubRefusedConfig extends Error {}

interface HubProcess {
  running: Running;
  api(path: string, init?: RequestInit): Promise<Response>;
  proxyApi(path: string, init?: RequestInit): Promise<Response>;
}

async function startHubProcess(work: string, mode: 'route-api' | 'spawned-servers', servers: number): Promise<HubProcess> {
  const token = randomBytes(24).toString('hex');
  const proxyToken = randomBytes(24).toString('hex');
  const [port, proxyApiPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const config: Record<string, unknown> = { services: [{ name: 'bench-admin', apiToken: token, admin: true }] };
  if (mode === 'route-api') config.proxy = { apiPort: proxyApiPort, apiIp: '127.0.0.1', apiToken: proxyToken };
  else config.spawner = { command: [process.execPath, TARGET_SCRIPT], activeServerLimit: 0, concurrentSpawnLimit: Math.min(servers, 16) };
  const configFile = join(work, `lectern-${mode}.json`);
  await writeFile(configFile, JSON.stringify(config));
  const args = ['start', '--config', configFile, '--data-dir', join(work, 'data'), '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  const child = spawn(LECTERN_COMMAND, args, {
    cwd: work,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, LANG: process.env.LANG ?? 'C.UTF-8' },
    // stdout carries the banner with the first admin's one-time password: not ours to print.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-16_000)));
  const url = `http://127.0.0.1:${port}`;
  // Stopping a hub stops its servers first; a hundred of them take a moment.
  const running: Running = { url, pid: child.pid, label: 'Lectern', stop: () => stopChild(child, 60_000) };
  const up = await waitFor(30_000, async () => {
    if (child.exitCode !== null) return true;
    return (await fetch(`${url}/hub/api`, { signal: AbortSignal.timeout(2_000) })).status === 200;
  });
  if (child.exitCode !== null) {
    if (/config|unknown key/i.test(stderr)) throw new HubRefusedConfig(stderr.trim());
    throw new Error(`the hub exited (${child.exitCode}):\n${stderr}`);
  }
  if (!up) {
    await running.stop();
    throw new Error(`the hub did not answer within 30 s:\n${stderr}`);
  }
  const authorized = (secret: string, base: string) => (path: string, init: RequestInit = {}) =>
    fetch(`${base}${path}`, { ...init, headers: { Authorization: `token ${secret}`, 'Content-Type': 'application/json' } });
  return { running, api: authorized(token, `${url}/hub/api`), proxyApi: authorized(proxyToken, `http://127.0.0.1:${proxyApiPort}`) };
}

/** Creates each user and starts their server through the REST API; waits until every one is ready. */
async function startServers(api: HubProcess['api'], names: string[]): Promise<void> {
  for (const name of names) {
    const created = await api(`/users/${name}`, { method: 'POST', body: '{}' });
    if (created.status !== 201) throw new Error(`POST /users/${name} answered ${created.status}: ${await created.text()}`);
    const started = await api(`/users/${name}/server`, { method: 'POST', body: '{}' });
    await started.arrayBuffer();
    if (started.status !== 201 && started.status !== 202) throw new Error(`starting ${name}'s server answered ${started.status}`);
  }
  const ready = await waitFor(120_000, async () => {
    const users = (await (await api('/users')).json()) as { name: string; servers?: Record<string, { ready?: boolean }> }[];
    return names.every((name) => users.find((user) => user.name === name)?.servers?.['']?.ready === true);
  });
  if (!ready) throw new Error('the servers were not all ready within 120 s');
}

/** Polls `check` every 100 ms (errors count as "not yet"); false if it never held within `ms`. */
export async function waitFor(ms: number, check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      if (await check()) return true;
    } catch {
      // Not up yet.
    }
    await sleep(100);
  }
  return false;
}

export async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const outcome = await Promise.race([exited.then(() => 'exited' as const), sleep(graceMs).then(() => 'late' as const)]);
  if (outcome === 'late') {
    child.kill('SIGKILL');
    await exited;
  }
}


// --- wrk ----------------------------------------------------------------------------------------

export interface HttpStats {
  requests: number;
  durationUs: number;
  /** Connect, read, write and timeout errors, and non-2xx/3xx answers, together. */
  errors: number;
  p50Us: number;
  p99Us: number;
}

// wrk calls done() once at the end; one JSON line is easier to read back than its text report.
const WRK_REPORT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"errors":%d,"p50Us":%d,"p99Us":%d}\\n',
    summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;

/** Writes wrk's report script into `dir`; returns its path. */
export async function wrkScript(dir: string): Promise<string> {
  const path = join(dir, 'report.lua');
  await writeFile(path, WRK_REPORT);
  return path;
}

/** A command-line option's value as a positive integer, or an error naming the option. */
export function positiveInteger(name: string, value: string | undefined): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`--${name} must be a positive integer, not ${value}`);
  return number;
}

/** Installs wrk with apt when running as root and it is missing; otherwise says how. */
export function ensureWrk(): void {
  if (spawnSync('wrk', ['--version']).error === undefined) return;
  if (process.getuid?.() !== 0) {
    throw new Error('wrk is not installed: run "sudo apt-get install -y wrk" (Debian/Ubuntu), then this again');
  }
  console.log('Installing wrk (apt-get install -y wrk)…');
  const installed = spawnSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (installed.status !== 0) throw new Error('apt-get install -y wrk failed (try "apt-get update" first)');
}

/** Compiles Lectern into dist/. Errors in files being edited elsewhere do not stop tsc emitting. */
export function build(): void {
  console.log('Building Lectern (tsc -p tsconfig.json)…');
  const result = spawnSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) {
    const errors = result.stdout.split('\n').filter((line) => line.includes('error TS')).length;
    console.log(`  tsc reported ${errors} type errors; the JavaScript was emitted anyway and is what runs.`);
  }
  if (!existsSync(LECTERN_CLI)) throw new Error(`${LECTERN_CLI} is missing after the build`);
}

export interface WrkOptions {
  connections: number;
  seconds: number;
  script: string;
  threads?: number;
}

/** Runs wrk; resolves with its figures. `signal` stops it early (the soak's Ctrl-C). */
export function wrk(url: string, options: WrkOptions, signal?: AbortSignal): Promise<HttpStats> {
  const argv = [`-t${options.threads ?? 1}`, `-c${options.connections}`, `-d${options.seconds}s`, '--timeout', '10s', '-s', options.script, url];
  const child = spawn('wrk', argv, { stdio: ['ignore', 'pipe', 'pipe'], signal, killSignal: 'SIGINT' });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const line = out.split('\n').find((candidate) => candidate.startsWith('WRK_JSON '));
      if (!line) reject(new Error(`wrk failed (exit ${code}):\n${out}`));
      else resolve(JSON.parse(line.slice('WRK_JSON '.length)) as HttpStats);
    });
  });
}

// --- websocket echo ---------------------------------------------------------------------------

export interface WsStats {
  /** Round trips completed in the measured time. */
  messages: number;
  seconds: number;
  p50Us: number;
  p99Us: number;
  /** Sockets that failed to open or closed early. */
  errors: number;
}

/**
 * `sockets` websockets to `url`, each doing request/response echo (send 64 bytes, wait for them to
 * come back, send again) for `seconds`. Latency is one round trip, measured in this process.
 */
export async function wsEcho(url: string, sockets: number, seconds: number): Promise<WsStats> {
  const payload = Buffer.alloc(64, 'm');
  const latencies: number[] = [];
  let errors = 0;
  let measuring = true;
  const opened = await Promise.all(
    Array.from(
      { length: sockets },
      () =>
        new Promise<WebSocket | undefined>((resolve) => {
          const ws = new WebSocket(url, { perMessageDeflate: false });
          const timer = setTimeout(() => {
            ws.terminate();
            resolve(undefined);
          }, 10_000);
          ws.once('open', () => {
            clearTimeout(timer);
            resolve(ws);
          });
          ws.once('error', () => {
            clearTimeout(timer);
            resolve(undefined);
          });
        }),
    ),
  );
  const live = opened.filter((ws): ws is WebSocket => ws !== undefined);
  errors += sockets - live.length;
  const started = process.hrtime.bigint();
  for (const ws of live) {
    let sentAt = process.hrtime.bigint();
    ws.on('message', () => {
      const now = process.hrtime.bigint();
      if (!measuring) return;
      latencies.push(Number(now - sentAt) / 1000);
      sentAt = now;
      ws.send(payload);
    });
    ws.on('close', () => {
      if (measuring) errors++;
    });
    ws.on('error', () => undefined);
    ws.send(payload);
  }
  await sleep(seconds * 1000);
  measuring = false;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  for (const ws of live) ws.terminate();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { messages: latencies.length, seconds: elapsed, p50Us: at(0.5), p99Us: at(0.99), errors };
}

// --- formatting ------------------------------------------------------------------------------

export function ms(us: number): string {
  return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
}

export function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** Columns padded to their widest cell; the columns listed in `right` are right-aligned. */
export function table(header: string[], rows: string[][], right: Set<number>): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((r) => (r[i] ?? '').length)));
  const format = (cells: string[]) => cells.map((cell, i) => (right.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join('  ');
  return [format(header), ...rows.map(format)].join('\n');
}

/** A fetch against `base` (an API's root) with `token` and a JSON body type, for the benches' admin calls. */
export function authorized(base: string, token: string): (path: string, init?: RequestInit) => Promise<Response> {
  return (path, init = {}) =>
    fetch(`${base}${path}`, { ...init, headers: { Authorization: `token ${token}`, 'Content-Type': 'application/json', ...(init.headers as Record<string, string> | undefined) } });
}

/**
 * Lectern accounts with `password`, through its API: one POST each (the bulk POST takes no
 * passwords), four at once, as bcrypt runs in the hub's workers.
 */
export async function createLecternUsers(api: (path: string, init?: RequestInit) => Promise<Response>, names: readonly string[], password: string): Promise<void> {
  const queue = [...names];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const response = await api(`/users/${name}`, { method: 'POST', body: JSON.stringify({ password }) });
      if (response.status !== 201) throw new Error(`Lectern: POST /users/${name} answered ${response.status}: ${await response.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

/** JupyterHub users, with one bulk POST: its dummy authenticator keeps no passwords (it takes any). */
export async function createJupyterHubUsers(api: (path: string, init?: RequestInit) => Promise<Response>, names: readonly string[]): Promise<void> {
  const response = await api('/users', { method: 'POST', body: JSON.stringify({ usernames: names }) });
  if (response.status !== 201) throw new Error(`JupyterHub: POST /users answered ${response.status}: ${await response.text()}`);
}

/** A running JupyterHub's own processes, named: the hub and its configurable-http-proxy (not its servers). */
export function jupyterHubProcesses(hub: Pick<JupyterHubProcess, 'processes'>): { label: string; pid: number }[] {
  return hub.processes().flatMap(({ pid, argv }) => {
    if (argv.some((arg) => arg.endsWith('/configurable-http-proxy'))) return [{ label: 'configurable-http-proxy', pid }];
    if (argv.some((arg) => arg === JUPYTERHUB)) return [{ label: 'jupyterhub', pid }];
    return [];
  });
}
