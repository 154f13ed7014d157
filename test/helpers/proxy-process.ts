/**
 * A configurable-http-proxy-compatible proxy as a separate process, for tests and benchmarks that
 * must not care which one it is: CHP 5.3 from node_modules, or `lectern proxy` from dist/. Both get
 * CHP's command line (`--ip --port --api-ip --api-port …`) on free loopback ports, and the API token
 * in `CONFIGPROXY_AUTH_TOKEN` (never in argv, where `ps` shows it to every user). The process runs
 * in its own process group; `stop()` SIGTERMs the group, then SIGKILLs it if it lingers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** How to start one proxy implementation: the executable, then the arguments before CHP's options. */
export interface ProxyCommand {
  /** For messages and tables: `configurable-http-proxy` or `lectern proxy`. */
  name: string;
  argv: [string, ...string[]];
}

/** The checkout's root, from dist/test/helpers (compiled) or test/helpers (run from source). */
export function projectRoot(): string {
  const here = new URL('.', import.meta.url).pathname;
  return here.includes('/dist/') ? join(here, '../../..') : join(here, '../..');
}

/**
 * CHP 5.3 from node_modules, run by this Node rather than through its `#!/usr/bin/env node` script,
 * so the pid we hold is the proxy's own (no `env` in between) and no other Node on PATH is picked.
 */
export function chpCommand(): ProxyCommand {
  const script = realpathSync(join(projectRoot(), 'node_modules/.bin/configurable-http-proxy'));
  return { name: 'configurable-http-proxy', argv: [process.execPath, script] };
}

/** `lectern proxy` from the compiled tree (`npx tsc -p tsconfig.json` first). */
export function lecternProxyCommand(): ProxyCommand {
  return { name: 'lectern proxy', argv: [process.execPath, join(projectRoot(), 'dist/server/cli/main.js'), 'proxy'] };
}

/**
 * The proxy a test runs against, chosen by `LECTERN_PROXY_UNDER_TEST` (`lectern`, the default, or
 * `chp`), so the same file can first be checked against the real CHP.
 */
export function proxyUnderTest(env: NodeJS.ProcessEnv = process.env): ProxyCommand {
  const choice = env.LECTERN_PROXY_UNDER_TEST ?? 'lectern';
  if (choice === 'chp') return chpCommand();
  if (choice === 'lectern') return lecternProxyCommand();
  throw new Error(`LECTERN_PROXY_UNDER_TEST must be "lectern" or "chp", not "${choice}"`);
}

export interface ProxyProcessOptions {
  command: ProxyCommand;
  /** `--default-target`: the route `/`. */
  defaultTarget?: string;
  /** `--error-target`. */
  errorTarget?: string;
  /** `--log-level` (default `warn`: the tests read errors, not every API call). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** More CHP options, appended after the ones above. */
  extraArgs?: string[];
  /** The API token (random if omitted). */
  token?: string;
  /** How long to wait for the API to answer and the public port to accept (default 20 s). */
  startTimeoutMs?: number;
}

export interface ProxyProcess {
  name: string;
  /** The public listener's origin, `http://127.0.0.1:PORT` (no trailing slash). */
  url: string;
  /** The REST API's origin, `http://127.0.0.1:PORT`: routes are under `${apiUrl}/api/routes`. */
  apiUrl: string;
  token: string;
  pid: number;
  /** The tail of what the proxy wrote to stdout and stderr. */
  output(): string;
  /** Calls the REST API with the token: `api('/api/routes')`. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** `POST /api/routes<path>` with `{target, ...data}`; throws unless 201. */
  addRoute(path: string, target: string, data?: Record<string, unknown>): Promise<void>;
  /** Whether the process has exited (it should not until `stop()`). */
  exited(): boolean;
  /** SIGTERM to the process group, SIGKILL after `graceMs` (default 5 s). Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** Attempts when the free ports we picked were taken before the proxy bound them. */
const PORT_ATTEMPTS = 3;

export async function startProxyProcess(options: ProxyProcessOptions): Promise<ProxyProcess> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      lastError = error;
      if (!(error instanceof PortTakenError)) throw error;
    }
  }
  throw lastError;
}

class PortTakenError extends Error {}

async function startOnce(options: ProxyProcessOptions): Promise<ProxyProcess> {
  const token = options.token ?? randomBytes(24).toString('hex');
  const [port, apiPort] = await freePorts();
  const [executable, ...leading] = options.command.argv;
  const args = [
    ...leading,
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--api-ip',
    '127.0.0.1',
    '--api-port',
    String(apiPort),
    '--log-level',
    options.logLevel ?? 'warn',
    ...(options.defaultTarget ? ['--default-target', options.defaultTarget] : []),
    ...(options.errorTarget ? ['--error-target', options.errorTarget] : []),
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(executable, args, {
    // An allow-listed environment: the caller's NODE_OPTIONS (a test runner's, say) must not reach
    // the process measured, and the token travels here rather than in argv.
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? tmpdir(),
      LANG: process.env.LANG ?? 'C.UTF-8',
      CONFIGPROXY_AUTH_TOKEN: token,
    },
    cwd: tmpdir(),
    // Its own process group, so stop() reaches anything it started as well.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: string) => {
    // The tail only: a proxy logging one line per aborted request must not grow the test's memory.
    output = (output + chunk).slice(-32_000);
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  const exitPromise = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.pid === undefined) {
    await new Promise((resolve) => child.once('error', resolve));
    throw new Error(`could not start ${options.command.name} (${executable}): ${output}`);
  }
  const pid = child.pid;
  const onExit = () => signalGroup(pid, 'SIGKILL');
  process.once('exit', onExit);

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 5_000): Promise<void> => {
    stopping ??= (async () => {
      process.removeListener('exit', onExit);
      if (hasExited(child)) return;
      signalGroup(pid, 'SIGTERM');
      const outcome = await Promise.race([exitPromise.then(() => 'exited' as const), sleep(graceMs).then(() => 'late' as const)]);
      if (outcome === 'late') {
        signalGroup(pid, 'SIGKILL');
        await exitPromise;
      }
      // The leader is gone; anything it left in its group goes too.
      signalGroup(pid, 'SIGKILL');
    })();
    return stopping;
  };

  const url = `http://127.0.0.1:${port}`;
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${apiUrl}${path}`, {
      ...init,
      headers: { Authorization: `token ${token}`, ...(init.headers as Record<string, string> | undefined) },
    });
  try {
    await waitUntilReady({ child, port, api, output: () => output, name: options.command.name, timeoutMs: options.startTimeoutMs ?? 20_000 });
    if (options.defaultTarget) {
      const routes = (await (await api('/api/routes')).json()) as Record<string, { target?: string }>;
      if (routes['/']?.target !== options.defaultTarget) {
        throw new Error(`${options.command.name} started without the default route: ${JSON.stringify(routes)}`);
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name: options.command.name,
    url,
    apiUrl,
    token,
    pid,
    output: () => output,
    api,
    async addRoute(path, target, data = {}) {
      const response = await api(`/api/routes${path}`, { method: 'POST', body: JSON.stringify({ ...data, target }) });
      const body = await response.text();
      if (response.status !== 201) throw new Error(`POST /api/routes${path} answered ${response.status}: ${body}`);
    },
    exited: () => hasExited(child),
    stop,
  };
}

interface ReadyCheck {
  child: ChildProcess;
  port: number;
  api: (path: string) => Promise<Response>;
  output: () => string;
  name: string;
  timeoutMs: number;
}

/** Ready = the API answers `GET /api/routes` with 200 and the public port accepts a connection. */
async function waitUntilReady({ child, port, api, output, name, timeoutMs }: ReadyCheck): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (hasExited(child)) {
      const text = output();
      if (/EADDRINUSE|address already in use/i.test(text)) throw new PortTakenError(`${name}: a port was taken:\n${text}`);
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${text}`);
    }
    try {
      const response = await api('/api/routes');
      await response.arrayBuffer();
      if (response.status === 200 && (await accepts(port))) return;
      last = `GET /api/routes answered ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(50);
  }
  throw new Error(`${name} was not ready within ${timeoutMs / 1000} s (${last}):\n${output()}`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Two ports the kernel says are free now, held together so they differ. */
export async function freePorts(): Promise<[number, number]> {
  const servers = await Promise.all(
    [0, 1].map(
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const [a = 0, b = 0] = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return [a, b];
}

/** What the kernel says a process holds: open file descriptors, and resident memory in bytes. */
export interface ProcessUsage {
  fds: number;
  rssBytes: number;
}

/** Reads `/proc/<pid>/fd` and `VmRSS` in `/proc/<pid>/status` (Linux only). */
export function processUsage(pid: number): ProcessUsage {
  const fds = readdirSync(`/proc/${pid}/fd`).length;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  if (!Number.isFinite(kib)) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return { fds, rssBytes: kib * 1024 };
}
