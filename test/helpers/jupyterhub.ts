/**
 * The real JupyterHub 3.0 (Debian's `/usr/bin/jupyterhub`) for differential tests: a temp dir for its
 * database, cookie secret and pid files, free loopback ports, the dummy authenticator, the simple
 * local process spawner, configurable-http-proxy from node_modules and an admin service with a
 * fixed token. `stop()` leaves no process and no file behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const JUPYTERHUB = '/usr/bin/jupyterhub';
/** Debian's singleuser; named by path because the first `python3` on some PATHs has no Jupyter. */
export const JUPYTERHUB_SINGLEUSER = '/usr/bin/jupyterhub-singleuser';

export interface JupyterHubOptions {
  /** The admin service's name (as Lectern's test hub names its own: `test-admin`). */
  serviceName?: string;
  /** The admin service's fixed API token. */
  token?: string;
  /** `c.Authenticator.admin_users`. */
  adminUsers?: string[];
  /** How long to wait for `GET /hub/api` to answer 200. */
  startTimeoutMs?: number;
  /**
   * `c.ConfigurableHTTPProxy.command`: the proxy JupyterHub starts (it appends CHP's options). The
   * default is configurable-http-proxy from node_modules.
   */
  proxyCommand?: string[];
  /** More of `c.Spawner.environment`, for the singleuser servers (say, `JUPYTERHUB_SINGLEUSER_APP`). */
  spawnerEnvironment?: Record<string, string>;
  /** More lines of `jupyterhub_config.py`, after the helper's own (say, `c.JupyterHub.concurrent_spawn_limit = 5`). */
  extraConfig?: string[];
}

/** A JupyterHub process and everything it started. */
export interface JupyterHubProcess {
  /** The public (proxy) URL, with the base URL and a trailing slash: `http://127.0.0.1:PORT/`. */
  url: string;
  /** `<url>hub/api`, no trailing slash. */
  apiUrl: string;
  /** Everything JupyterHub wrote to stderr so far (its log). */
  stderr(): string;
  /** This hub's processes still alive (the hub, its proxy, singleuser servers), with their argv. */
  processes(): { pid: number; argv: string[] }[];
  stop(): Promise<void>;
}

export interface RunningJupyterHub extends JupyterHubProcess {
  /** The admin service's API token. */
  token: string;
  /** The proxy's REST API origin (`http://127.0.0.1:PORT`), routes under `/api/routes`. */
  proxyApiUrl: string;
  /** The proxy's API token (`c.ConfigurableHTTPProxy.auth_token`, random per hub). */
  proxyToken: string;
}

export async function startJupyterHub(options: JupyterHubOptions = {}): Promise<RunningJupyterHub> {
  const token = options.token ?? 'jupyterhub-admin-token-0123456789abcdef';
  const serviceName = options.serviceName ?? 'test-admin';
  const dir = await mkdtemp(join(tmpdir(), 'lectern-jupyterhub-'));
  const [port, hubPort, proxyApiPort] = await freePorts(3);
  const proxyToken = randomBytes(24).toString('hex');
  const config = configFile({
    dir,
    port,
    hubPort,
    proxyApiPort,
    proxyToken,
    proxyCommand: options.proxyCommand ?? [join(projectRoot(), 'node_modules/.bin/configurable-http-proxy')],
    token,
    serviceName,
    adminUsers: options.adminUsers ?? [],
    spawnerEnvironment: options.spawnerEnvironment ?? {},
    extraConfig: options.extraConfig ?? [],
  });
  await writeFile(join(dir, 'jupyterhub_config.py'), config);
  const url = `http://127.0.0.1:${port}/`;
  const hub = await launch(dir, ['-f', join(dir, 'jupyterhub_config.py')], url, options.startTimeoutMs ?? 60_000);
  return { ...hub, token, proxyApiUrl: `http://127.0.0.1:${proxyApiPort}`, proxyToken };
}

/**
 * The real JupyterHub with a config file of the test's own (an exported `jupyterhub_config.py`, say),
 * kept to a temp dir and free loopback ports by command-line options, which win over the file:
 * `bind_url` (with the file's base URL), the hub's own port, the proxy's API, and configurable-http-proxy
 * from node_modules (as `startJupyterHub` runs it). Its database, cookie
 * secret and pid files go to the temp dir, its working directory. Resolves once `GET <url>hub/api`
 * answers, which is after JupyterHub has loaded the whole file: roles, groups, services.
 */
export async function startJupyterHubWithConfig(
  configFile: string,
  options: { baseUrl?: string; startTimeoutMs?: number } = {},
): Promise<JupyterHubProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'lectern-jupyterhub-'));
  const [port, hubPort, proxyApiPort] = await freePorts(3);
  const url = `http://127.0.0.1:${port}${options.baseUrl ?? '/'}`;
  const args = [
    '-f',
    configFile,
    `--JupyterHub.bind_url=${url}`,
    `--JupyterHub.hub_port=${hubPort}`,
    `--ConfigurableHTTPProxy.api_url=http://127.0.0.1:${proxyApiPort}`,
    `--ConfigurableHTTPProxy.command=${join(projectRoot(), 'node_modules/.bin/configurable-http-proxy')}`,
    `--JupyterHub.db_url=sqlite:///${join(dir, 'jupyterhub.sqlite')}`,
    `--JupyterHub.cookie_secret_file=${join(dir, 'jupyterhub_cookie_secret')}`,
  ];
  return launch(dir, args, url, options.startTimeoutMs ?? 60_000);
}

/** Starts `jupyterhub ARGS` in `dir` (removed by `stop()`) and waits until its API answers at `url`. */
async function launch(dir: string, args: string[], url: string, startTimeoutMs: number): Promise<JupyterHubProcess> {
  const child = spawn(JUPYTERHUB, args, {
    cwd: dir,
    env: {
      // Node's own directory first (CHP's script starts with `#!/usr/bin/env node`); then the system
      // directories only, so a pyenv or virtualenv Python on the caller's PATH cannot shadow Debian's.
      PATH: `${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      HOME: dir,
      LANG: process.env.LANG ?? 'C.UTF-8',
      // Marks every process of this hub (CHP inherits the hub's environment, the singleuser servers
      // get it through `c.Spawner.environment`), because they run in their own sessions.
      [MARKER]: dir,
    },
    // Its own process group, so stop() reaches the hub and anything still attached to it.
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    // Keep the tail only: a failing test needs the last lines, not an unbounded log.
    stderr = (stderr + chunk).slice(-64_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // If the test process dies without calling stop(), still take the hub and its children down.
  const onExit = () => killEverything(child, dir, 'SIGKILL');
  process.once('exit', onExit);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      signalGroup(child.pid, 'SIGTERM');
      // JupyterHub stops its servers and the proxy on SIGTERM (cleanup_servers), which takes a moment.
      // An unref'd timer: once the hub has exited, it must not keep the test process alive.
      await Promise.race([exited, sleep(15_000, undefined, { ref: false })]);
    }
    killEverything(child, dir, 'SIGTERM');
    for (let i = 0; i < 30 && markedPids(dir).length > 0; i++) await sleep(100);
    killEverything(child, dir, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  };

  const apiUrl = `${url}hub/api`;
  try {
    await waitUntilUp(apiUrl, child, () => stderr, startTimeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  const processes = () =>
    markedPids(dir).flatMap((pid) => {
      try {
        return [{ pid, argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean) }];
      } catch {
        return []; // Exited meanwhile.
      }
    });
  return { url, apiUrl, stderr: () => stderr, processes, stop };
}

const MARKER = 'LECTERN_TEST_JUPYTERHUB_DIR';

/** The checkout's root, from dist/test/helpers (compiled) or test/helpers (run from source). */
function projectRoot(): string {
  const here = new URL('.', import.meta.url).pathname;
  return here.includes('/dist/') ? join(here, '../../..') : join(here, '../..');
}

interface ConfigValues {
  dir: string;
  port: number;
  hubPort: number;
  proxyApiPort: number;
  proxyToken: string;
  proxyCommand: string[];
  token: string;
  serviceName: string;
  adminUsers: string[];
  spawnerEnvironment: Record<string, string>;
  extraConfig: string[];
}

function configFile(values: ConfigValues): string {
  // JSON string and list literals are valid Python literals, which keeps quoting out of the way.
  const py = JSON.stringify;
  const runningAsRoot = process.getuid?.() === 0;
  return [
    `c.JupyterHub.ip = '127.0.0.1'`,
    `c.JupyterHub.port = ${values.port}`,
    `c.JupyterHub.hub_ip = '127.0.0.1'`,
    `c.JupyterHub.hub_port = ${values.hubPort}`,
    `c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:${values.proxyApiPort}'`,
    `c.ConfigurableHTTPProxy.command = ${py(values.proxyCommand)}`,
    `c.ConfigurableHTTPProxy.auth_token = ${py(values.proxyToken)}`,
    `c.JupyterHub.authenticator_class = 'dummy'`,
    `c.JupyterHub.spawner_class = 'simple'`,
    `c.JupyterHub.allow_named_servers = True`,
    `c.JupyterHub.cleanup_servers = True`,
    `c.JupyterHub.log_level = 'WARN'`,
    `c.Spawner.cmd = [${py(JUPYTERHUB_SINGLEUSER)}]`,
    runningAsRoot ? `c.Spawner.args = ['--allow-root']` : '',
    `c.Spawner.environment = ${py({ ...values.spawnerEnvironment, [MARKER]: values.dir })}`,
    // The default home is /tmp/{username}, shared with every other test run on the machine.
    `c.SimpleLocalProcessSpawner.home_dir_template = ${py(join(values.dir, 'home', '{username}'))}`,
    `c.Authenticator.admin_users = set(${py(values.adminUsers)})`,
    // `admin: True` as well as the role: the role is what grants the scopes in 3.0, and the
    // (deprecated) flag is what the service's model reports as `admin`, as Lectern's
    // `services[].admin` does.
    `c.JupyterHub.services = [{'name': ${py(values.serviceName)}, 'api_token': ${py(values.token)}, 'admin': True}]`,
    // JupyterHub 3.0 gives a service no scopes unless a role names it.
    `c.JupyterHub.load_roles = [{'name': 'admin', 'services': [${py(values.serviceName)}]}]`,
    ...values.extraConfig,
    '',
  ]
    .filter((line, i, all) => line !== '' || i === all.length - 1)
    .join('\n');
}

/** Ports the kernel says are free now; held together so the three differ. */
async function freePorts(count: 3): Promise<[number, number, number]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  const [a = 0, b = 0, c = 0] = ports;
  return [a, b, c];
}

async function waitUntilUp(apiUrl: string, child: ChildProcess, stderr: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`JupyterHub exited (${child.exitCode ?? child.signalCode}) before answering.\n${tail(stderr())}`);
    }
    try {
      const response = await fetch(apiUrl, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
      lastError = `GET ${apiUrl} answered ${response.status}`;
    } catch (error) {
      lastError = `GET ${apiUrl}: ${(error as Error).message}`;
    }
    await sleep(200);
  }
  throw new Error(`JupyterHub did not answer within ${timeoutMs / 1000} s (${lastError}).\n${tail(stderr())}`);
}

function tail(text: string, lines = 40): string {
  return `--- JupyterHub stderr (last ${lines} lines) ---\n${text.split('\n').slice(-lines).join('\n')}`;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Signals the hub's process group and every process carrying this hub's marker (synchronous, for `exit`). */
function killEverything(child: ChildProcess, dir: string, signal: NodeJS.Signals): void {
  if (child.pid !== undefined) signalGroup(child.pid, signal);
  for (const pid of markedPids(dir)) {
    try {
      process.kill(pid, signal);
    } catch {
      // Exited meanwhile.
    }
  }
  if (signal === 'SIGKILL') rmSync(dir, { recursive: true, force: true });
}

/** Pids whose initial environment carries this hub's marker: the hub, CHP and the singleuser servers. */
function markedPids(dir: string): number[] {
  const needle = `${MARKER}=${dir}\0`;
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids; // No procfs (not Linux): the process group is all we can reach.
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (`${readFileSync(`/proc/${entry}/environ`, 'latin1')}\0`.includes(needle)) pids.push(Number(entry));
    } catch {
      // Exited, or not ours to read.
    }
  }
  return pids;
}
