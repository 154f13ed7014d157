/**
 * Issue 17's benchmark: an idle hub's memory with 100 accounts, Lectern against the real JupyterHub
 * 3.0 with its configurable-http-proxy, in one run on this machine. Not a test: run it by hand.
 *
 *   node --import tsx bench/hub-memory.ts [--users 100] [--settle 10,60] [--only lectern] [--no-build]
 *                                         [--node-arg=--some-v8-flag …] [--env NAME=VALUE …]
 *
 * Each hub is started fresh, alone (one after the other), as it is deployed: Lectern from `dist/`
 * through its CLI (`lectern start`, headless), JupyterHub through test/helpers/jupyterhub.ts. Each
 * gets the accounts through its API (Lectern's with passwords, hashed as a teacher's would be), one
 * student logs in through the login form, an admin lists the users, and then the hub is left alone.
 * After each of the `--settle` times (seconds idle; 10 and 60 by default) its memory is read from
 * /proc: RSS and its anonymous and file-backed parts from `/proc/PID/status`, PSS from
 * `/proc/PID/smaps_rollup`. For JupyterHub, its Python process and its proxy are read apart and summed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { freeLoopbackPort } from '../server/spawner/free-port.js';
import { JUPYTERHUB, startJupyterHub } from '../test/helpers/jupyterhub.js';
import { LECTERN_CLI, LECTERN_COMMAND, createJupyterHubUsers, jupyterHubProcesses, authorized, build, createLecternUsers, positiveInteger, stopChild, table, waitFor } from './proxy-harness.js';

/** Issue 17's aim for Lectern's idle RSS, in MiB. */
const AIM_RSS_MIB = 80;
const PASSWORD = 'lesson-password-1';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '100' },
    settle: { type: 'string', default: '10,60' },
    only: { type: 'string' },
    'node-arg': { type: 'string', multiple: true, default: [] },
    env: { type: 'string', multiple: true, default: [] },
    'no-build': { type: 'boolean', default: false },
  },
});
const USERS = positiveInteger('users', args.users);
/** When to read the memory, in seconds of idleness: the first is the aim's, later ones show what idling longer gives back. */
const SETTLE_S = args.settle
  .split(',')
  .map((value) => positiveInteger('settle', value))
  .sort((a, b) => a - b);
const ONLY = args.only;
if (ONLY !== undefined && ONLY !== 'lectern' && ONLY !== 'jupyterhub') throw new Error(`--only must be lectern or jupyterhub, not ${ONLY}`);
/** Extra options for Lectern's `node` (V8 flags being weighed), given in NODE_OPTIONS: after the `lectern` script's own, so they win. */
const NODE_ARGS = args['node-arg'];
/** Extra environment variables for Lectern's `node` (malloc's tunables being weighed): NAME=VALUE. */
const NODE_ENV = Object.fromEntries(
  args.env.map((pair) => {
    const at = pair.indexOf('=');
    if (at < 1) throw new Error(`--env takes NAME=VALUE, not ${pair}`);
    return [pair.slice(0, at), pair.slice(at + 1)];
  }),
);

/** One process's memory, in bytes, as the kernel counts it. */
interface Memory {
  rss: number;
  rssAnon: number;
  rssFile: number;
  pss: number;
}

interface Hub {
  name: 'Lectern' | 'JupyterHub 3.0';
  url: string;
  api(path: string, init?: RequestInit): Promise<Response>;
  createUsers(names: string[]): Promise<void>;
  /** The processes whose memory is the hub's: Lectern's one; JupyterHub's hub and proxy. */
  processes(): { label: string; pid: number }[];
  stop(): Promise<void>;
}

interface Reading {
  hub: Hub['name'];
  /** Seconds idle before the reading. */
  idle: number;
  processes: { label: string; memory: Memory }[];
}

async function main(): Promise<void> {
  if (!args['no-build']) build();
  if (!existsSync(LECTERN_CLI)) throw new Error(`${LECTERN_CLI} is missing: build with "npx tsc -p tsconfig.json"`);
  const work = await mkdtemp(join(tmpdir(), 'lectern-bench-memory-'));
  const names = Array.from({ length: USERS }, (_, i) => `student-${String(i + 1).padStart(3, '0')}`);
  console.log(machine());
  console.log(`${USERS} accounts on each hub, one student's login, then /proc read after ${SETTLE_S.join(' and ')} s idle.\n`);
  const starts = [
    ...(ONLY !== 'jupyterhub' ? [() => startLectern(work)] : []),
    ...(ONLY !== 'lectern' ? [startJupyterHubTarget] : []),
  ];
  const readings: Reading[] = [];
  try {
    for (const start of starts) {
      const hub = await start();
      try {
        console.log(`${hub.name}: creating ${USERS} accounts…`);
        await hub.createUsers(names);
        await logIn(hub, names[0] as string);
        const listed = await hub.api('/users');
        await listed.arrayBuffer();
        if (listed.status !== 200) throw new Error(`${hub.name}: GET /hub/api/users answered ${listed.status}`);
        const idleSince = Date.now();
        for (const seconds of SETTLE_S) {
          await sleep(idleSince + seconds * 1000 - Date.now());
          const reading = { hub: hub.name, idle: seconds, processes: hub.processes().map(({ label, pid }) => ({ label, memory: memoryOf(pid) })) };
          console.log(`${table(...memoryTable([reading]))}\n`);
          readings.push(reading);
        }
      } finally {
        await hub.stop();
      }
    }
    console.log(report(readings));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function machine(): string {
  const cpuList = cpus();
  const [load = 0] = loadavg();
  const busy = load > cpuList.length / 4 ? ' (not idle)' : '';
  const flags = NODE_ARGS.length > 0 ? `; Lectern's node run with ${NODE_ARGS.join(' ')}` : '';
  return `Machine: ${cpuList.length} × ${cpuList[0]?.model.trim() ?? 'unknown CPU'}; load average ${load.toFixed(2)}${busy}; Node ${process.version}${flags}`;
}

/** `/proc/PID/status` (RSS and its parts) and `/proc/PID/smaps_rollup` (PSS), in bytes. */
function memoryOf(pid: number): Memory {
  const kib = (text: string, field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    if (!match) throw new Error(`no ${field} for process ${pid}`);
    return Number(match[1]) * 1024;
  };
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return { rss: kib(status, 'VmRSS'), rssAnon: kib(status, 'RssAnon'), rssFile: kib(status, 'RssFile'), pss: kib(rollup, 'Pss') };
}

/** GET then POST the login form, as a browser does, without following the answer (it may start a server). */
async function logIn(hub: Hub, name: string): Promise<void> {
  const loginUrl = new URL('hub/login', hub.url);
  const form = await fetch(loginUrl);
  await form.arrayBuffer();
  const cookies = form.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
  const answer = await fetch(loginUrl, {
    method: 'POST',
    body: new URLSearchParams({ username: name, password: PASSWORD }).toString(),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: loginUrl.origin, Referer: loginUrl.href, ...(cookies ? { Cookie: cookies } : {}) },
    redirect: 'manual',
  });
  const body = await answer.text();
  if (answer.status !== 302 && answer.status !== 303) throw new Error(`${hub.name}: the login POST answered ${answer.status}: ${body.slice(0, 200)}`);
}

async function startLectern(work: string): Promise<Hub> {
  const token = randomBytes(24).toString('hex');
  const configFile = join(work, 'lectern.json');
  await writeFile(configFile, JSON.stringify({ services: [{ name: 'bench-admin', apiToken: token, admin: true }] }));
  const port = await freeLoopbackPort();
  const nodeOptions = NODE_ARGS.length > 0 ? { NODE_OPTIONS: NODE_ARGS.join(' ') } : {};
  console.log(`Lectern: starting (${[...args.env, ...Object.entries(nodeOptions).map(([name, value]) => `${name}="${value}"`), './lectern'].join(' ')} start)…`);
  const argv = ['start', '--config', configFile, '--data-dir', join(work, 'lectern-data'), '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  const child: ChildProcess = spawn(LECTERN_COMMAND, argv, {
    cwd: work,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, LANG: process.env.LANG ?? 'C.UTF-8', ...NODE_ENV, ...nodeOptions },
    // stdout carries the banner with the first admin's one-time password: not ours to print.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-16_000)));
  const url = `http://127.0.0.1:${port}/`;
  const stop = () => stopChild(child);
  const up = await waitFor(30_000, async () => child.exitCode === null && (await fetch(`${url}hub/api`, { signal: AbortSignal.timeout(2_000) })).status === 200);
  if (!up) {
    await stop();
    throw new Error(`Lectern did not answer GET /hub/api within 30 s:\n${stderr}`);
  }
  const api = authorized(`${url}hub/api`, token);
  return {
    name: 'Lectern',
    url,
    api,
    createUsers: (names) => createLecternUsers(api, names, PASSWORD),
    processes: () => (child.pid === undefined ? [] : [{ label: 'lectern start (hub and proxy)', pid: child.pid }]),
    stop,
  };
}

async function startJupyterHubTarget(): Promise<Hub> {
  console.log(`JupyterHub: starting (${JUPYTERHUB}, configurable-http-proxy in front, dummy authenticator)…`);
  const token = randomBytes(24).toString('hex');
  const hub = await startJupyterHub({ serviceName: 'bench-admin', token, adminUsers: ['teacher'] });
  const api = authorized(hub.apiUrl, token);
  return {
    name: 'JupyterHub 3.0',
    url: hub.url,
    api,
    createUsers: (names) => createJupyterHubUsers(api, names),
    processes: () => jupyterHubProcesses(hub),
    stop: () => hub.stop(),
  };
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}

function total(reading: Reading): Memory {
  const sum = (key: keyof Memory) => reading.processes.reduce((acc, p) => acc + p.memory[key], 0);
  return { rss: sum('rss'), rssAnon: sum('rssAnon'), rssFile: sum('rssFile'), pss: sum('pss') };
}

function memoryTable(readings: Reading[]): Parameters<typeof table> {
  const header = ['hub', 'idle', 'process', 'RSS MiB', 'anon', 'file', 'PSS MiB'];
  const row = (reading: Reading, label: string, m: Memory) => [reading.hub, `${reading.idle} s`, label, mib(m.rss), mib(m.rssAnon), mib(m.rssFile), mib(m.pss)];
  const rows = readings.flatMap((reading) => [
    ...reading.processes.map((p) => row(reading, p.label, p.memory)),
    ...(reading.processes.length > 1 ? [row(reading, 'together', total(reading))] : []),
  ]);
  return [header, rows, new Set([1, 3, 4, 5, 6])];
}

function report(readings: Reading[]): string {
  const byIdle = (a: Reading, b: Reading) => a.idle - b.idle || a.hub.localeCompare(b.hub);
  const lines = [table(...memoryTable([...readings].sort(byIdle))), ''];
  for (const seconds of SETTLE_S) {
    const lectern = readings.find((r) => r.hub === 'Lectern' && r.idle === seconds);
    const jupyterhub = readings.find((r) => r.hub === 'JupyterHub 3.0' && r.idle === seconds);
    const parts: string[] = [];
    if (lectern) {
      const rss = total(lectern).rss / 1048576;
      parts.push(`Lectern's RSS ${rss.toFixed(1)} MiB (aim: at most ${AIM_RSS_MIB} MiB, ${rss <= AIM_RSS_MIB ? 'met' : 'NOT met'})`);
    }
    if (lectern && jupyterhub) {
      const [l, j] = [total(lectern), total(jupyterhub)];
      parts.push(`Lectern / JupyterHub 3.0 with its proxy: RSS ${(l.rss / j.rss).toFixed(2)}×, PSS ${(l.pss / j.pss).toFixed(2)}×`);
    }
    if (parts.length > 0) lines.push(`After ${seconds} s idle: ${parts.join('; ')}.`);
  }
  return lines.join('\n');
}

main().catch((error: unknown) => {
  console.error(`bench/hub-memory: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
