/**
 * Issue 3's benchmark: `GET /hub/api/users` (100 users) and `GET /hub/api/users/{name}`, Lectern
 * against the real JupyterHub 3.0, in one run on this machine. Not a test: run it by hand.
 *
 *   node --import tsx bench/api-users.ts [--duration 10] [--warmup 3] [--connections 10] [--no-build]
 *
 * Each hub is started fresh, alone on the machine (one after the other, so an idle hub's timers do
 * not share the CPU with the one measured), as it is deployed: Lectern from `dist/` through its CLI,
 * JupyterHub through test/helpers/jupyterhub.ts (its CHP in front). Both get the same 100 users
 * through their APIs, plus the admin account `teacher` (Lectern makes one on a first start, so
 * JupyterHub gets it as an admin user), and both log at warning level. Every request carries an
 * admin service token. The load comes from wrk: keep-alive connections, fixed concurrency, a warm-up
 * that is thrown away, then a fixed duration. wrk is C and needs one thread here; its ceiling on this
 * machine (a trivial Node server answering bodies of the same size) is printed next to the figures,
 * so a reader can see the load generator was not what limited them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startJupyterHub } from '../test/helpers/jupyterhub.js';
import { freeLoopbackPort } from '../server/spawner/free-port.js';
import { LECTERN_CLI, LECTERN_COMMAND, ROOT, build, ensureWrk, positiveInteger } from './proxy-harness.js';

const AIM_THROUGHPUT_RATIO = 20;

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '10' },
    users: { type: 'string', default: '100' },
    'no-build': { type: 'boolean', default: false },
  },
});
const DURATION_S = positiveInteger('duration', args.duration);
const WARMUP_S = positiveInteger('warmup', args.warmup);
const CONNECTIONS = positiveInteger('connections', args.connections);
const USERS = positiveInteger('users', args.users);
// One wrk thread drives 10 keep-alive connections far past what either hub answers (see the
// ceiling column) and leaves the other cores to the hub.
const WRK_THREADS = 1;

/** A hub under measurement: where its API is and the admin token it accepts. */
interface Target {
  name: 'Lectern' | 'JupyterHub';
  apiUrl: string;
  token: string;
  stop(): Promise<void>;
}

interface Stats {
  requests: number;
  durationUs: number;
  bytes: number;
  /** Connect, read, write and timeout errors, and non-2xx/3xx answers, together. */
  errors: number;
  p50Us: number;
  p99Us: number;
}

interface Measurement {
  endpoint: string;
  hub: Target['name'];
  stats: Stats | undefined;
  /** The size of one answer's body. */
  bodyBytes: number;
  /** Why there is no figure (the endpoint answered something else than 200, say). */
  skipped: string | undefined;
}

// wrk calls done() once at the end; one JSON line is easier to read back than its text report.
const WRK_REPORT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"bytes":%d,"errors":%d,"p50Us":%d,"p99Us":%d}\\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;

async function main(): Promise<void> {
  ensureWrk();
  if (!args['no-build']) build();
  if (!existsSync(LECTERN_CLI)) throw new Error(`${LECTERN_CLI} is missing: build with "npx tsc -p tsconfig.json"`);
  const work = await mkdtemp(join(tmpdir(), 'lectern-bench-'));
  const wrkScript = join(work, 'report.lua');
  await writeFile(wrkScript, WRK_REPORT);
  const names = Array.from({ length: USERS }, (_, i) => `student-${String(i + 1).padStart(3, '0')}`);
  const single = names[Math.floor(names.length / 2)] as string;
  const endpoints = [`/users`, `/users/${single}`];

  console.log(machine());
  console.log(
    `Load: wrk, ${WRK_THREADS} thread, ${CONNECTIONS} keep-alive connections, ${WARMUP_S} s warm-up (discarded), ` +
      `then ${DURATION_S} s per endpoint; ${USERS} users + teacher on each hub.\n`,
  );

  const measurements: Measurement[] = [];
  const bodySizes = new Map<string, number>();
  try {
    for (const start of [startLectern, startJupyterHubTarget]) {
      const target = await start(work);
      try {
        console.log(`${target.name}: creating ${USERS} users…`);
        await createUsers(target, names);
        for (const endpoint of endpoints) {
          const check = await fetch(`${target.apiUrl}${endpoint}`, { headers: auth(target.token) });
          const body = await check.text();
          if (check.status !== 200) {
            const skipped = `answered ${check.status}: ${body.slice(0, 120)}`;
            console.log(`${target.name} GET ${endpoint}: ${skipped}; not measured`);
            measurements.push({ endpoint, hub: target.name, stats: undefined, bodyBytes: 0, skipped });
            continue;
          }
          const bodyBytes = Buffer.byteLength(body);
          bodySizes.set(endpoint, Math.max(bodySizes.get(endpoint) ?? 0, bodyBytes));
          console.log(`${target.name} GET ${endpoint}: warm-up, then ${DURATION_S} s…`);
          const url = `${target.apiUrl}${endpoint}`;
          await wrk(url, target.token, wrkScript, WARMUP_S);
          const stats = await wrk(url, target.token, wrkScript, DURATION_S);
          measurements.push({ endpoint, hub: target.name, stats, bodyBytes, skipped: undefined });
        }
      } finally {
        await target.stop();
      }
    }
    console.log('Load generator ceiling: a trivial Node server answering bodies of the same sizes…');
    const ceilings = new Map<string, Stats>();
    for (const [endpoint, size] of bodySizes) ceilings.set(endpoint, await ceiling(size, wrkScript));
    console.log(`\n${report(endpoints, measurements, ceilings, bodySizes)}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function auth(token: string): Record<string, string> {
  return { Authorization: `token ${token}` };
}

function machine(): string {
  const cpuList = cpus();
  const wrkVersion = spawnSync('wrk', ['--version'], { encoding: 'utf8' }).stdout.split(' Copyright')[0] ?? 'wrk';
  const [load = 0] = loadavg();
  // Other work on the machine shares the CPU with the hub measured: say so rather than hide it.
  const busy = load > cpuList.length / 4 ? ' (NOT idle: the figures will be noisy and low)' : '';
  return [
    `Machine: ${cpuList.length} × ${cpuList[0]?.model.trim() ?? 'unknown CPU'}; load average before the run ${load.toFixed(2)}${busy}`,
    `Node ${process.version}; ${wrkVersion.trim()}; Lectern ${lecternVersion()}; JupyterHub 3.0 (/usr/bin/jupyterhub)`,
  ].join('\n');
}

function lecternVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

async function startLectern(work: string): Promise<Target> {
  const token = randomBytes(24).toString('hex');
  const dataDir = join(work, 'lectern-data');
  const configFile = join(work, 'lectern.json');
  await writeFile(configFile, JSON.stringify({ services: [{ name: 'bench-admin', apiToken: token, admin: true }] }));
  const port = await freeLoopbackPort();
  console.log('Lectern: starting (./lectern start)…');
  const child = spawn(
    LECTERN_COMMAND,
    ['start', '--config', configFile, '--data-dir', dataDir, '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'],
    {
      cwd: work,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, LANG: process.env.LANG ?? 'C.UTF-8' },
      // stdout carries the banner with the first admin's one-time password: not ours to print.
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-16_000);
  });
  const apiUrl = `http://127.0.0.1:${port}/hub/api`;
  const stop = () => stopChild(child);
  try {
    await waitUntilUp(apiUrl, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { name: 'Lectern', apiUrl, token, stop };
}

async function startJupyterHubTarget(): Promise<Target> {
  console.log('JupyterHub: starting (/usr/bin/jupyterhub, CHP in front)…');
  const hub = await startJupyterHub({ adminUsers: ['teacher'], token: randomBytes(24).toString('hex') });
  return { name: 'JupyterHub', apiUrl: hub.apiUrl, token: hub.token, stop: () => hub.stop() };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const outcome = await Promise.race([exited.then(() => 'exited' as const), sleep(15_000).then(() => 'late' as const)]);
  if (outcome === 'late') {
    child.kill('SIGKILL');
    await exited;
  }
}

async function waitUntilUp(apiUrl: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the hub exited (${child.exitCode ?? child.signalCode}) before answering:\n${stderr()}`);
    }
    try {
      const response = await fetch(apiUrl, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`the hub did not answer GET ${apiUrl} within 30 s:\n${stderr()}`);
}

/** One `POST /users/{name}` per user, as a teacher's script would, a few at a time. */
async function createUsers(target: Target, names: string[]): Promise<void> {
  const queue = [...names];
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const response = await fetch(`${target.apiUrl}/users/${name}`, {
        method: 'POST',
        headers: { ...auth(target.token), 'Content-Type': 'application/json' },
        body: JSON.stringify({ admin: false }),
      });
      const text = await response.text();
      if (response.status !== 201) throw new Error(`${target.name}: POST /users/${name} answered ${response.status}: ${text}`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

async function wrk(url: string, token: string, script: string, seconds: number): Promise<Stats> {
  const argv = [
    `-t${WRK_THREADS}`,
    `-c${CONNECTIONS}`,
    `-d${seconds}s`,
    '--timeout',
    '10s',
    '-s',
    script,
    '-H',
    `Authorization: token ${token}`,
    url,
  ];
  const child = spawn('wrk', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = out.split('\n').find((candidate) => candidate.startsWith('WRK_JSON '));
  if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}):\n${out}`);
  return JSON.parse(line.slice('WRK_JSON '.length)) as Stats;
}

/** wrk against a Node server that only answers `size` bytes: the most this machine and wrk can do. */
async function ceiling(size: number, script: string): Promise<Stats> {
  const serverCode = `
    const body = Buffer.alloc(Number(process.env.BODY_SIZE), 'x');
    require('node:http').createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
      res.end(body);
    }).listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;
  const child = spawn(process.execPath, ['-e', serverCode], {
    env: { BODY_SIZE: String(size) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.setEncoding('utf8');
      child.stdout.once('data', (chunk: string) => resolve(Number(chunk.trim())));
      child.once('exit', (code) => reject(new Error(`the trivial server exited (${code})`)));
    });
    const url = `http://127.0.0.1:${port}/`;
    await wrk(url, 'ceiling', script, Math.min(WARMUP_S, 2));
    return await wrk(url, 'ceiling', script, Math.min(DURATION_S, 5));
  } finally {
    await stopChild(child);
  }
}

function rps(stats: Stats): number {
  return stats.requests / (stats.durationUs / 1e6);
}

function ms(us: number): string {
  return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
}

function report(
  endpoints: string[],
  measurements: Measurement[],
  ceilings: Map<string, Stats>,
  bodySizes: Map<string, number>,
): string {
  const header = ['endpoint', 'hub', 'req/s', 'p50', 'p99', 'errors', 'body'];
  const rows: string[][] = [];
  const verdicts: string[] = [];
  for (const endpoint of endpoints) {
    const label = `GET /hub/api${endpoint}`;
    for (const m of measurements.filter((candidate) => candidate.endpoint === endpoint)) {
      rows.push(
        m.stats
          ? [label, m.hub, rps(m.stats).toFixed(0), ms(m.stats.p50Us), ms(m.stats.p99Us), String(m.stats.errors), `${m.bodyBytes} B`]
          : [label, m.hub, 'n/a', '', '', '', m.skipped ?? ''],
      );
    }
    const limit = ceilings.get(endpoint);
    if (limit) {
      rows.push([label, '(ceiling)', rps(limit).toFixed(0), ms(limit.p50Us), ms(limit.p99Us), String(limit.errors), `${bodySizes.get(endpoint) ?? 0} B`]);
    }
    const lectern = measurements.find((m) => m.endpoint === endpoint && m.hub === 'Lectern')?.stats;
    const jupyterhub = measurements.find((m) => m.endpoint === endpoint && m.hub === 'JupyterHub')?.stats;
    if (lectern && jupyterhub) {
      const throughput = rps(lectern) / rps(jupyterhub);
      const p99 = lectern.p99Us / jupyterhub.p99Us;
      verdicts.push(
        `${label}: Lectern/JupyterHub throughput ${throughput.toFixed(1)}× (aim ≥ ${AIM_THROUGHPUT_RATIO}×: ` +
          `${throughput >= AIM_THROUGHPUT_RATIO ? 'met' : 'NOT met'}); p99 ratio ${p99.toFixed(3)} ` +
          `(aim < 1: ${p99 < 1 ? 'met' : 'NOT met'})` +
          (lectern.errors + jupyterhub.errors > 0 ? '; errors were counted, so the figures are suspect' : ''),
      );
    } else {
      verdicts.push(`${label}: no ratio (a hub was not measured)`);
    }
  }
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((r) => (r[i] ?? '').length)));
  const format = (cells: string[]) =>
    cells.map((cell, i) => (i >= 2 && i <= 5 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join('  ');
  return [
    format(header),
    ...rows.map(format),
    '',
    ...verdicts,
    `(ceiling = wrk against a trivial Node server answering a body of the same size: what this machine and wrk can do at most)`,
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(`bench/api-users: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
