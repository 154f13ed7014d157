/**
 * Issue 5's benchmark: a spawn storm. N users (default 30) ask for their servers at the same moment,
 * Lectern against the real JupyterHub 3.0, both launching the same `/usr/bin/jupyterhub-singleuser`
 * with the same limit on how many start at once. Not a test: run it by hand.
 *
 *   node --import tsx bench/spawn-storm.ts [--users 30] [--concurrency 5] [--solo-runs 3]
 *                                          [--retry-range MIN,MAX] [--timeout 600] [--no-build]
 *
 * Four storms run one after the other, so none shares the CPU with another:
 *   1. no hub: the bench itself launches the N processes, at most `--concurrency` at once, each
 *      against a stub that answers the one hub call a single-user server makes while starting
 *      (`GET /hub/api`, with `X-JupyterHub-Version: 3.0.0`), and polls each one's port every 10 ms.
 *      Its per-process time is the process's own start-up time under the same contention: what a
 *      hub cannot go below. (Before that, `--solo-runs` launches one at a time give the start-up
 *      time of a process alone, for reference.)
 *   2. Lectern from `dist/` through its CLI: `spawner.concurrentSpawnLimit`, the singleuser mode of
 *      /usr/bin/python3 (the same jupyterhub-singleuser), the culler off, in its default sandbox.
 *      It queues starts beyond the limit, so each user sends one POST. Twice: its servers forked
 *      from a fork server (the default, issue 17; the fork server starts with the first of them),
 *      then launched as programs of their own (`spawner.forkServer: false`).
 *   3. JupyterHub 3.0 (`/usr/bin/jupyterhub`, CHP in front): `concurrent_spawn_limit`. It answers
 *      429 with `Retry-After` beyond the limit, so its client waits that long and asks again.
 *      JupyterHub 3.0 suggests 30–60 s and, in 3.0, does not let its config change that;
 *      `--retry-range` changes it on the application to see the tuned case.
 *   4. no hub again, to show how much the machine drifted during the run.
 *
 * The overhead a hub adds to one spawn is its median time from taking the spawn on to the server
 * being ready, minus the median start-up time of the bare processes under the same concurrency.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, request, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { resolveLaunch } from '../server/spawner/launch-plan.js';
import { JUPYTERHUB, JUPYTERHUB_SINGLEUSER, startJupyterHub } from '../test/helpers/jupyterhub.js';
import { freeLoopbackPort as freePort } from '../server/spawner/free-port.js';
import { LECTERN_COMMAND, ROOT, build, positiveInteger, stopChild, table, waitFor } from './proxy-harness.js';

const AIM_OVERHEAD_MS = 50;
/** Issue 17: all 30 servers of a storm ready within 5 s, forked. */
const AIM_FORKED_ALL_READY_MS = 5_000;
/** How often the no-hub launcher probes a starting server's port (the hubs use their own backoff). */
const BARE_PROBE_MS = 10;

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '5' },
    'solo-runs': { type: 'string', default: '3' },
    'retry-range': { type: 'string' },
    timeout: { type: 'string', default: '600' },
    'no-build': { type: 'boolean', default: false },
  },
});
const USERS = positiveInteger('users', args.users);
const CONCURRENCY = positiveInteger('concurrency', args.concurrency);
const SOLO_RUNS = positiveInteger('solo-runs', args['solo-runs']);
const TIMEOUT_MS = positiveInteger('timeout', args.timeout) * 1000;
const RETRY_RANGE = args['retry-range'] === undefined ? undefined : retryRange(args['retry-range']);

function retryRange(value: string): [number, number] {
  const [low, high] = value.split(',').map(Number);
  if (low === undefined || high === undefined || !Number.isInteger(low) || !Number.isInteger(high) || low < 1 || high < low) {
    throw new Error(`--retry-range must be MIN,MAX in whole seconds (1 ≤ MIN ≤ MAX), not ${value}`);
  }
  return [low, high];
}

/** One user's server in one storm; times in ms since the storm began (the first POST). */
interface Spawn {
  name: string;
  /** When the user first asked (0 for everyone in a no-hub storm: they all ask at once). */
  asked: number;
  /** When the hub (or the no-hub launcher) took the spawn on: out of the queue, or the POST it accepted. */
  admitted: number;
  ready: number;
  /** POSTs sent: more than one when the hub answered 429. */
  posts: number;
  /** Lectern: when the first progress event other than a place in the start queue arrived. */
  launchSeen?: number;
  /** Lectern: whether a "number N in line" event was seen. */
  sawQueue?: boolean;
  /** When the first progress event with each progress value arrived. */
  progressSeen?: Record<number, number>;
}

interface Storm {
  label: string;
  spawns: Spawn[];
  /** From the first POST (or launch) until the last server was ready. */
  allReadyMs: number;
  /** How long the hub took to quit with every server running (undefined without a hub). */
  quitMs?: number;
  notes: string[];
}

/** A hub under measurement. */
interface Target {
  name: string;
  /** `http://127.0.0.1:PORT/hub/api`, through the hub's public port. */
  apiUrl: string;
  token: string;
  /** Lectern's admission times are not on the wire: they are worked out from its progress events. */
  queues: boolean;
  stop(): Promise<void>;
}

async function main(): Promise<void> {
  if (!args['no-build']) build();
  const work = await mkdtemp(join(tmpdir(), 'lectern-bench-storm-'));
  const names = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(3, '0')}`);
  // The app Lectern picks for this jupyterhub-singleuser (the classic Notebook with Debian's
  // packages), given to the no-hub runs and to JupyterHub as well, so all three run the same server.
  const launch = await resolveLaunch({ command: [JUPYTERHUB_SINGLEUSER], python: null, launchMode: 'auto' });
  const app = launch.plan?.singleuserApp ?? null;
  console.log(machine(app));
  const stub = await startStub();
  try {
    console.log(`No hub: ${SOLO_RUNS} launches one at a time (after one discarded warm-up launch)…`);
    const solo = await bareStorm(work, stub.url, names('solo', SOLO_RUNS + 1), 1, app);
    const soloTimes = solo.spawns.slice(1).map((s) => s.ready - s.admitted);
    console.log(`No hub: ${USERS} processes, at most ${CONCURRENCY} starting at once…`);
    const bareBefore = await bareStorm(work, stub.url, names('storm', USERS), CONCURRENCY, app);
    bareBefore.label = 'no hub (before)';
    const storms: Storm[] = [bareBefore];
    const targets = [() => startLecternTarget(work, true), () => startLecternTarget(work, false), () => startJupyterHubTarget(RETRY_RANGE, app)];
    for (const start of targets) {
      const target = await start();
      storms.push(await hubStorm(target, names('storm', USERS)));
    }
    console.log(`No hub again: ${USERS} processes, at most ${CONCURRENCY} at once…`);
    const bareAfter = await bareStorm(work, stub.url, names('storm', USERS), CONCURRENCY, app);
    bareAfter.label = 'no hub (after)';
    storms.push(bareAfter);
    console.log(`\n${report(storms, soloTimes)}`);
  } finally {
    await new Promise((resolve) => stub.server.close(resolve));
    await rm(work, { recursive: true, force: true });
  }
}

function machine(app: string | null): string {
  const cpuList = cpus();
  const [load = 0] = loadavg();
  const busy = load > cpuList.length / 4 ? ' (NOT idle: the figures will be noisy)' : '';
  return [
    `Machine: ${cpuList.length} × ${cpuList[0]?.model.trim() ?? 'unknown CPU'}; load average before the run ${load.toFixed(2)}${busy}`,
    `Node ${process.version}; Lectern ${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}; ` +
      `JupyterHub 3.0 (${JUPYTERHUB}); every server is ${JUPYTERHUB_SINGLEUSER}` +
      (app ? ` with JUPYTERHUB_SINGLEUSER_APP=${app}` : ''),
    `Storm: ${USERS} users at once, at most ${CONCURRENCY} servers starting at once on every side.\n`,
  ].join('\n');
}

// --- No hub: the processes alone --------------------------------------------------------------

/** A stand-in for the hub API a starting single-user server calls: `GET /hub/api`, and anything else. */
async function startStub(): Promise<{ url: string; server: Server }> {
  const server = createHttpServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/json', 'X-JupyterHub-Version': '3.0.0' });
    res.end(req.method === 'GET' && req.url === '/hub/api' ? '{"version": "3.0.0"}' : '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hub/api`, server };
}

/**
 * Launches one `jupyterhub-singleuser` per name, at most `concurrency` starting at once (the next one
 * as soon as one answers), with the environment Lectern gives a server, and times each from its
 * launch until its prefix answers HTTP below 500 (as both hubs decide "ready"). Stops them all after.
 */
async function bareStorm(work: string, stubApiUrl: string, names: string[], concurrency: number, app: string | null): Promise<Storm> {
  const dir = await mkdtemp(join(work, 'bare-'));
  const children: ChildProcess[] = [];
  const spawns: Spawn[] = [];
  const t0 = performance.now();
  const deadline = Date.now() + TIMEOUT_MS;
  const queue = [...names];
  try {
    const worker = async () => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        const port = await freePort();
        const prefix = `/user/${name}/`;
        const home = join(dir, name);
        mkdirSync(join(home, '.runtime'), { recursive: true });
        const token = randomBytes(16).toString('hex');
        const scopes = JSON.stringify([`access:servers!server=${name}/`, `access:servers!user=${name}`]);
        const env: Record<string, string> = {
          PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
          LANG: process.env.LANG ?? 'C.UTF-8',
          JUPYTERHUB_API_TOKEN: token,
          JPY_API_TOKEN: token,
          JUPYTERHUB_CLIENT_ID: `jupyterhub-user-${name}`,
          JUPYTERHUB_API_URL: stubApiUrl,
          JUPYTERHUB_ACTIVITY_URL: `${stubApiUrl}/users/${name}/activity`,
          JUPYTERHUB_BASE_URL: '/',
          JUPYTERHUB_SERVICE_PREFIX: prefix,
          JUPYTERHUB_SERVICE_URL: `http://127.0.0.1:${port}${prefix}`,
          JUPYTERHUB_USER: name,
          JUPYTERHUB_SERVER_NAME: '',
          JUPYTERHUB_HOST: '',
          JUPYTERHUB_OAUTH_CALLBACK_URL: `${prefix}oauth_callback`,
          JUPYTERHUB_OAUTH_ACCESS_SCOPES: scopes,
          JUPYTERHUB_OAUTH_SCOPES: scopes,
          JUPYTERHUB_OAUTH_CLIENT_ALLOWED_SCOPES: '[]',
          JUPYTERHUB_ROOT_DIR: home,
          HOME: home,
          USER: name,
          JUPYTERHUB_DISABLE_USER_CONFIG: '1',
          JUPYTER_RUNTIME_DIR: join(home, '.runtime'),
          ...(app ? { JUPYTERHUB_SINGLEUSER_APP: app } : {}),
        };
        const logFile = join(dir, `${name}.log`);
        const logFd = openSync(logFile, 'a');
        const admitted = performance.now() - t0;
        const child = spawn(JUPYTERHUB_SINGLEUSER, process.getuid?.() === 0 ? ['--allow-root'] : [], {
          cwd: home,
          env,
          detached: true,
          stdio: ['ignore', logFd, logFd],
        });
        closeSync(logFd);
        children.push(child);
        for (;;) {
          if (child.exitCode !== null || child.signalCode !== null) {
            throw new Error(`${name}'s server exited (${child.exitCode ?? child.signalCode}) before answering:\n${await tailOf(logFile)}`);
          }
          if (Date.now() > deadline) throw new Error(`${name}'s server did not answer within ${TIMEOUT_MS / 1000} s:\n${await tailOf(logFile)}`);
          const status = await probe(`http://127.0.0.1:${port}${prefix}`);
          if (status !== null && status < 500) break;
          await sleep(BARE_PROBE_MS);
        }
        spawns.push({ name, asked: 0, admitted, ready: performance.now() - t0, posts: 0 });
      }
    };
    // Settled, not raced: on a failure the other workers finish with their current process first,
    // so that every child is in `children` before they are stopped.
    const outcomes = await Promise.allSettled(
      Array.from({ length: concurrency }, () =>
        worker().catch((error: unknown) => {
          queue.length = 0;
          throw error;
        }),
      ),
    );
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    return { label: 'no hub', spawns, allReadyMs: Math.max(...spawns.map((s) => s.ready)), notes: [] };
  } finally {
    await Promise.all(children.map((child) => stopGroup(child)));
    await rm(dir, { recursive: true, force: true });
  }
}

/** The status of one GET, or null when nothing answers yet. */
function probe(url: string): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 2_000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 599);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

/** SIGTERM to the process group (server and anything it started), SIGKILL if it lingers. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), name);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  if ((await Promise.race([exited.then(() => 'exited'), sleep(10_000).then(() => 'late')])) === 'late') {
    signal('SIGKILL');
    await exited;
  }
}

async function tailOf(file: string, lines = 30): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

// --- The hubs -----------------------------------------------------------------------------------

const LECTERN_FORKED = 'Lectern, forked';
const LECTERN_LAUNCHED = 'Lectern, launched';

async function startLecternTarget(work: string, forked: boolean): Promise<Target> {
  const token = randomBytes(24).toString('hex');
  const dir = await mkdtemp(join(work, 'lectern-'));
  const configFile = join(dir, 'lectern.json');
  await writeFile(
    configFile,
    JSON.stringify({
      services: [{ name: 'bench-admin', apiToken: token, admin: true }],
      spawner: { python: '/usr/bin/python3', launchMode: 'singleuser', forkServer: forked, concurrentSpawnLimit: CONCURRENCY },
      culler: { enabled: false },
    }),
  );
  const port = await freePort();
  const name = forked ? LECTERN_FORKED : LECTERN_LAUNCHED;
  console.log(`${name}: starting (./lectern start)…`);
  const child = spawn(
    LECTERN_COMMAND,
    ['start', '--config', configFile, '--data-dir', join(dir, 'data'), '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'],
    {
      cwd: dir,
      // PATH without pyenv's shims: the servers' Python is named by path anyway.
      env: { PATH: `${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: dir, LANG: process.env.LANG ?? 'C.UTF-8' },
      // stdout carries the banner with the first admin's one-time password: not ours to print.
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-16_000)));
  const apiUrl = `http://127.0.0.1:${port}/hub/api`;
  const stop = () => stopChild(child, 60_000);
  const up = await waitFor(30_000, async () => child.exitCode === null && (await fetch(apiUrl, { signal: AbortSignal.timeout(2_000) })).status === 200);
  if (!up) {
    await stop();
    throw new Error(`Lectern did not answer GET ${apiUrl} within 30 s:\n${stderr}`);
  }
  return { name, apiUrl, token, queues: true, stop };
}

async function startJupyterHubTarget(range: [number, number] | undefined, app: string | null): Promise<Target> {
  console.log(`JupyterHub: starting (${JUPYTERHUB}, CHP in front; Retry-After ${describeRange(range)})…`);
  const token = randomBytes(24).toString('hex');
  const hub = await startJupyterHub({
    serviceName: 'bench-admin',
    token,
    spawnerEnvironment: app ? { JUPYTERHUB_SINGLEUSER_APP: app } : {},
    extraConfig: [
      `c.JupyterHub.concurrent_spawn_limit = ${CONCURRENCY}`,
      // JupyterHub 3.0 forgot `.tag(config=True)` on spawn_throttle_retry_range, so
      // `c.JupyterHub.spawn_throttle_retry_range` would be silently ignored: --retry-range sets it on
      // the application itself, which exists while its config file runs.
      ...(range ? [`from jupyterhub.app import JupyterHub; JupyterHub.instance().spawn_throttle_retry_range = (${range[0]}, ${range[1]})`] : []),
    ],
  });
  return { name: 'JupyterHub 3.0', apiUrl: hub.apiUrl, token, queues: false, stop: hub.stop };
}

function api(target: Target, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${target.apiUrl}${path}`, {
    ...init,
    headers: { Authorization: `token ${target.token}`, 'Content-Type': 'application/json', ...(init.headers as Record<string, string> | undefined) },
  });
}

/**
 * Creates the users and starts every server at once; then quits the hub with all of them running,
 * timed (the hub stops them itself), or, after a failure, stops the servers and the hub.
 */
async function hubStorm(target: Target, names: string[]): Promise<Storm> {
  let storm: Storm;
  try {
    storm = await startAll(target, names);
  } catch (error) {
    console.log(`${target.name}: stopping the servers through the API, then the hub…`);
    await stopServers(target, names);
    await target.stop();
    throw error;
  }
  console.log(`${target.name}: quitting with all ${names.length} servers running…`);
  const quitting = performance.now();
  await target.stop();
  return { ...storm, quitMs: performance.now() - quitting };
}

async function startAll(target: Target, names: string[]): Promise<Storm> {
  const created = await api(target, '/users', { method: 'POST', body: JSON.stringify({ usernames: names }) });
  if (created.status !== 201) throw new Error(`${target.name}: POST /users answered ${created.status}: ${await created.text()}`);
  console.log(`${target.name}: ${names.length} users ask for their servers at once…`);
  // One failure (or the time limit) ends every user's wait, so the servers can be stopped.
  const failure = new AbortController();
  const signal = AbortSignal.any([failure.signal, AbortSignal.timeout(TIMEOUT_MS)]);
  const t0 = performance.now();
  const outcomes = await Promise.allSettled(
    names.map((name) =>
      startOne(target, name, t0, signal).catch((error: unknown) => {
        failure.abort(error);
        throw error;
      }),
    ),
  );
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  const spawns = outcomes.map((outcome) => (outcome as PromiseFulfilledResult<Spawn>).value);
  const allReadyMs = Math.max(...spawns.map((s) => s.ready));
  const readyListed = await readyUsers(target);
  const notes: string[] = [];
  const missing = names.filter((name) => !readyListed.has(name));
  if (missing.length > 0) throw new Error(`${target.name}: GET /users?state=ready does not list ${missing.join(', ')}`);
  if (target.queues) notes.push(inferAdmission(spawns, CONCURRENCY));
  return { label: target.name, spawns, allReadyMs, notes };
}

/**
 * One user's start: POST until the hub takes it (waiting `Retry-After` on a 429), then until ready —
 * the POST's own 201 (both hubs hold it for up to 10 s), or the progress stream's `ready` event. For
 * Lectern the progress stream is followed from the start, for when the spawn leaves the queue.
 */
async function startOne(target: Target, name: string, t0: number, signal: AbortSignal): Promise<Spawn> {
  const now = () => performance.now() - t0;
  const spawn: Spawn = { name, asked: now(), admitted: Number.NaN, ready: Number.NaN, posts: 0 };
  let posted: 'waiting' | 'answered' = 'waiting';
  let readyEvent: Promise<number> | undefined;
  if (target.queues) {
    spawn.sawQueue = false;
    readyEvent = followProgress(target, name, signal, now, spawn, () => posted === 'answered');
    readyEvent.catch(() => undefined);
  }
  for (;;) {
    const sent = now();
    spawn.posts++;
    const response = await api(target, `/users/${name}/server`, { method: 'POST', body: '{}', signal });
    const body = await response.text();
    const answered = now();
    posted = 'answered';
    if (response.status === 429) {
      const retryAfter = Number(response.headers.get('retry-after'));
      await sleep((Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : 1) * 1000, undefined, { signal });
      continue;
    }
    if (response.status !== 201 && response.status !== 202) {
      throw new Error(`${target.name}: POST /users/${name}/server answered ${response.status}: ${body}`);
    }
    spawn.admitted = sent;
    if (response.status === 201) {
      const event = readyEvent ? await Promise.race([readyEvent.catch(() => answered), sleep(0).then(() => answered)]) : answered;
      spawn.ready = Math.min(answered, event);
    } else {
      spawn.ready = await (readyEvent ?? followProgress(target, name, signal, now, spawn, () => true));
    }
    return spawn;
  }
}

/**
 * Follows `GET /users/{name}/server/progress` (server-sent events) and resolves with the time the
 * `ready` event arrived. Lectern answers 404 until it has the POST: asked again every 10 ms until
 * `postAnswered()`. If the stream cannot be had, the user's model is polled instead.
 */
async function followProgress(
  target: Target,
  name: string,
  signal: AbortSignal,
  now: () => number,
  spawn: Spawn,
  postAnswered: () => boolean,
): Promise<number> {
  let response: Response | undefined;
  for (;;) {
    const answeredBefore = postAnswered();
    response = await api(target, `/users/${name}/server/progress`, { signal });
    if (response.status === 200 || answeredBefore) break;
    await response.arrayBuffer();
    await sleep(10, undefined, { signal });
  }
  if (response.status === 200 && response.body) {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      const at = now();
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('data:')) continue;
        const event = JSON.parse(line.slice(5)) as { progress?: number; ready?: boolean; failed?: boolean; message?: string };
        // Lectern replays "Server requested" (progress 0) and places in its queue; anything after
        // those means the start has left the queue.
        if (/free start slot/i.test(event.message ?? '')) spawn.sawQueue = true;
        else if ((event.progress ?? 0) > 0) spawn.launchSeen ??= at;
        spawn.progressSeen ??= {};
        spawn.progressSeen[event.progress ?? -1] ??= at;
        if (event.ready) return at;
        if (event.failed) throw new Error(`${target.name}: ${name}'s server failed to start: ${event.message ?? ''}`);
      }
    }
  } else {
    await response.arrayBuffer();
  }
  // No stream (or it ended without a verdict): poll the model.
  for (;;) {
    const model = (await (await api(target, `/users/${name}`, { signal })).json()) as { servers?: Record<string, { ready?: boolean }> };
    if (model.servers?.['']?.ready) return now();
    await sleep(50, undefined, { signal });
  }
}

/**
 * Lectern's queue is first come, first served, and a waiting start gets the slot the moment a running
 * start finishes (its `ready`). So the k-th start to leave the queue (in the order its "Spawning
 * server" event arrived) was admitted at the k-th ready time. Checked against what was seen: that
 * moment must come before its own launch event; where it does not, the launch event is used.
 */
function inferAdmission(spawns: Spawn[], concurrency: number): string {
  const readyTimes = spawns.map((s) => s.ready).sort((a, b) => a - b);
  const byLaunch = [...spawns].sort((a, b) => (a.launchSeen ?? -Infinity) - (b.launchSeen ?? -Infinity));
  const queued = byLaunch.slice(Math.min(concurrency, spawns.length));
  let approximated = 0;
  const inferred: Spawn[] = [];
  queued.forEach((spawn, k) => {
    const grant = readyTimes[k] ?? Number.NaN;
    const launch = spawn.launchSeen;
    if (launch !== undefined && grant <= launch + 1 && grant >= spawn.asked) {
      spawn.admitted = grant;
      inferred.push(spawn);
    } else {
      approximated++;
      spawn.admitted = launch ?? spawn.admitted;
    }
  });
  const sawQueue = spawns.filter((s) => s.sawQueue).length;
  return (
    `Lectern: ${queued.length} starts waited in its queue (${sawQueue} were seen being told their place); each one's admission is ` +
    `the ready time of the start whose slot it took` +
    (approximated > 0 ? `, except ${approximated} taken from their launch event (the inference did not hold for them)` : '') +
    `.\n${breakdown(inferred)}`
  );
}

/**
 * Where a queued Lectern start spent its time, from its progress events (as server-manager.ts emits
 * them: 25 "Spawning server...", before the launch; 50 "Waiting for the server to answer...", after).
 */
function breakdown(spawns: Spawn[]): string {
  const phase = (from: (s: Spawn) => number | undefined, to: (s: Spawn) => number | undefined) => {
    const values = spawns.flatMap((s) => {
      const [a, b] = [from(s), to(s)];
      return a !== undefined && b !== undefined ? [b - a] : [];
    });
    return values.length > 0 ? `${median(values).toFixed(0)} ms (p90 ${percentile(values, 90).toFixed(0)})` : 'n/a';
  };
  return (
    `Lectern's queued starts, medians: slot → "Spawning server" (memory check, launch plan, token) ` +
    `${phase((s) => s.admitted, (s) => s.progressSeen?.[25])}; → "Waiting for the server to answer" (launching the process) ` +
    `${phase((s) => s.progressSeen?.[25], (s) => s.progressSeen?.[50])}; → ready (the process starting, and the hub noticing) ` +
    `${phase((s) => s.progressSeen?.[50], (s) => s.ready)}.`
  );
}

/** Names of users `GET /users?state=ready` lists, page by page. */
async function readyUsers(target: Target): Promise<Set<string>> {
  const names = new Set<string>();
  for (let offset = 0; ; offset += 200) {
    const response = await api(target, `/users?state=ready&offset=${offset}&limit=200`);
    if (response.status !== 200) throw new Error(`${target.name}: GET /users?state=ready answered ${response.status}`);
    const page = (await response.json()) as { name: string }[];
    for (const user of page) names.add(user.name);
    if (page.length < 200) return names;
  }
}

/** `DELETE /users/{name}/server` for every user at once; a 202 is followed until the server is gone. */
async function stopServers(target: Target, names: string[]): Promise<void> {
  const failures: string[] = [];
  await Promise.all(
    names.map(async (name) => {
      try {
        const response = await api(target, `/users/${name}/server`, { method: 'DELETE', signal: AbortSignal.timeout(30_000) });
        await response.arrayBuffer();
        if (response.status === 204 || response.status === 400 || response.status === 404) return; // Stopped, or never started.
        if (response.status !== 202) throw new Error(`answered ${response.status}`);
        const gone = await waitFor(60_000, async () => {
          const model = (await (await api(target, `/users/${name}`)).json()) as { servers?: Record<string, unknown> };
          return !model.servers?.[''];
        });
        if (!gone) throw new Error('still running 60 s after the DELETE');
      } catch (error) {
        failures.push(`${name}: ${(error as Error).message}`);
      }
    }),
  );
  if (failures.length > 0) console.log(`  ${target.name}: some servers did not stop through the API (the hub's own stop takes them): ${failures.join('; ')}`);
}

// --- Report -------------------------------------------------------------------------------------

function median(values: number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const signedMs = (ms: number) => `${ms >= 0 ? '+' : '−'}${Math.abs(ms).toFixed(0)} ms`;

function describeRange(range: [number, number] | undefined): string {
  return range ? `${range[0]}–${range[1]} s (--retry-range)` : "30–60 s (JupyterHub 3.0's spawn_throttle_retry_range, not configurable in 3.0)";
}

function report(storms: Storm[], soloTimes: number[]): string {
  const bare = storms.filter((s) => s.label.startsWith('no hub'));
  const floorMs = median(bare.flatMap((s) => s.spawns.map((x) => x.ready - x.admitted)));
  const floorAllReady = median(bare.map((s) => s.allReadyMs));
  const header = ['run', 'all ready', 'vs no hub', 'wait p50', 'wait p90', 'spawn p50', 'spawn p90', 'overhead/spawn', 'POSTs', 'starting at once', 'quit'];
  const rows = storms.map((storm) => {
    const waits = storm.spawns.map((s) => s.ready - s.asked);
    const spawnTimes = storm.spawns.map((s) => s.ready - s.admitted);
    const hub = !storm.label.startsWith('no hub');
    const busy = spawnTimes.reduce((sum, t) => sum + t, 0) / storm.allReadyMs;
    return [
      storm.label,
      seconds(storm.allReadyMs),
      hub ? `+${seconds(storm.allReadyMs - floorAllReady)}` : '',
      seconds(percentile(waits, 50)),
      seconds(percentile(waits, 90)),
      seconds(percentile(spawnTimes, 50)),
      seconds(percentile(spawnTimes, 90)),
      hub ? signedMs(percentile(spawnTimes, 50) - floorMs) : '',
      hub ? String(storm.spawns.reduce((sum, s) => sum + s.posts, 0)) : '',
      busy.toFixed(1),
      storm.quitMs === undefined ? '' : seconds(storm.quitMs),
    ];
  });
  const jupyterhub = storms.find((s) => s.label === 'JupyterHub 3.0');
  const lines = [
    table(header, rows, new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])),
    '',
    `jupyterhub-singleuser's own start-up time: alone ${seconds(median(soloTimes))} (median of ${soloTimes.map(seconds).join(', ')}); ` +
      `with ${CONCURRENCY} starting at once ${seconds(floorMs)} (median over both no-hub runs): the figure subtracted.`,
  ];
  const [before, after] = bare;
  if (before && after && Math.abs(before.allReadyMs - after.allReadyMs) > 0.15 * Math.min(before.allReadyMs, after.allReadyMs)) {
    lines.push(`The two no-hub runs differ by more than 15%: the machine's load changed during the run, so the figures are noisy.`);
  }
  for (const lectern of storms.filter((s) => s.label.startsWith('Lectern'))) {
    if (!jupyterhub) break;
    const ratio = lectern.allReadyMs / jupyterhub.allReadyMs;
    const overhead = median(lectern.spawns.map((s) => s.ready - s.admitted)) - floorMs;
    lines.push(
      `All ${USERS} ready: ${lectern.label} ${seconds(lectern.allReadyMs)}, JupyterHub ${seconds(jupyterhub.allReadyMs)}: ` +
        `${(1 / ratio).toFixed(2)}× sooner; aim: sooner than JupyterHub: ${ratio < 1 ? 'met' : 'NOT met'}.`,
    );
    if (lectern.label === LECTERN_FORKED) {
      lines.push(`${lectern.label}: aim all ${USERS} ready within ${seconds(AIM_FORKED_ALL_READY_MS)} (issue 17): ${lectern.allReadyMs <= AIM_FORKED_ALL_READY_MS ? 'met' : 'NOT met'}.`);
    } else {
      lines.push(`${lectern.label}: hub overhead per spawn (median spawn time minus the bare process's) ${signedMs(overhead)}; aim under ${AIM_OVERHEAD_MS} ms: ${overhead < AIM_OVERHEAD_MS ? 'met' : 'NOT met'}.`);
    }
  }
  if (jupyterhub) {
    lines.push(
      `POSTs: Lectern ${USERS} per storm (it queues), JupyterHub ${jupyterhub.spawns.reduce((sum, s) => sum + s.posts, 0)} ` +
        `(429 beyond its limit, each honoured: Retry-After ${describeRange(RETRY_RANGE)}).`,
    );
  }
  for (const storm of storms) lines.push(...storm.notes);
  lines.push(
    'wait = first POST → ready; spawn = the hub took it on (out of the queue, or the POST it accepted) → ready; ' +
      'starting at once = total spawn time / all-ready time; quit = from asking the hub to quit, with every server running, until it exited (it stops them itself).',
  );
  return lines.join('\n');
}

main().catch((error: unknown) => {
  console.error(`bench/spawn-storm: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
