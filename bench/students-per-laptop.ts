/**
 * Issue 17's benchmark: how many students fit on one laptop, and how soon each is working. Lectern
 * with its servers forked from a fork server (the default), Lectern launching each server as a
 * program (`spawner.forkServer: false`), and the real JupyterHub 3.0, one after the other in one
 * run, all running Debian's `jupyterhub-singleuser` with the same app. Not a test: run it by hand.
 *
 *   npm run build && node dist/bench/students-per-laptop.js [--students 30] [--latency-students 10] [--timeout 600]
 *
 * It runs from `dist/` because Lectern runs in its process: from the TypeScript (under tsx), its
 * password worker hashes several times slower than as deployed, which would count in every login.
 *
 * For each hub:
 *   1. Every student's server is started at once through the API, and the time until all are
 *      ready is printed (every hub may start them all at once: Lectern's spawner.concurrentSpawnLimit
 *      and JupyterHub's concurrent_spawn_limit are set to the class size).
 *   2. Memory per idle student: the proportional set size (PSS, /proc/PID/smaps_rollup) of every
 *      process the students' servers take — the servers, Lectern's fork server, the sandboxes —
 *      summed and divided by the class size, once they have been idle for a while. PSS splits a page
 *      several processes share between them, so what forked servers share counts once in all.
 *   3. The same with one kernel per student, started through each server's API and left idle.
 *   4. Every server is stopped; then, one student at a time, login → first kernel output: in
 *      Chromium (a phone), the student types her name and password on the hub's login page; from
 *      her click on "Sign in", the hub starts her server, her browser reaches it, starts a kernel
 *      and runs `print(6*7)`; the time until `42` comes back. Median and p90 over the students.
 *
 * Lectern runs in this process (test/helpers/hub.ts), in its default sandbox where the machine has
 * one; JupyterHub (test/helpers/jupyterhub.ts) with its LocalProcessSpawner, unsandboxed, and
 * configurable-http-proxy in front.
 */
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { resolveLaunch } from '../server/spawner/launch-plan.js';
import { processTable, processTree, proportionalMemoryBytes } from '../server/spawner/processes.js';
import { launchBrowser } from '../test/helpers/browser.js';
import { ADMIN_TOKEN, startTestHub } from '../test/helpers/hub.js';
import { JUPYTERHUB_SINGLEUSER, startJupyterHub } from '../test/helpers/jupyterhub.js';
import { startServer } from '../test/helpers/student-server.js';
import { mib, positiveInteger, table } from './proxy-harness.js';
import { PHONE, runFirstCell } from './student-browser.js';

const { values: args } = parseArgs({
  options: {
    students: { type: 'string', default: '30' },
    'latency-students': { type: 'string', default: '10' },
    timeout: { type: 'string', default: '600' },
  },
});
const STUDENTS = positiveInteger('students', args.students);
const LATENCY_STUDENTS = Math.min(STUDENTS, positiveInteger('latency-students', args['latency-students']));
const TIMEOUT_MS = positiveInteger('timeout', args.timeout) * 1000;
const PASSWORD = 'student-password-1';
/** How long servers (and kernels) sit idle before their memory is read: long enough for their start to settle. */
const SETTLE_MS = 10_000;
/** Issue 17's aims, as fractions of JupyterHub's figure. */
const AIM_LATENCY_RATIO = 0.5;
const AIM_MEMORY_RATIO = 0.5;

interface Hub {
  label: string;
  /** The hub's public URL, ending in `/`. */
  url: string;
  /** The admin API, `…/hub/api`. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** An admin token, which may also use students' servers. */
  token: string;
  /** Where a student's server answers: the hub's origin, or one of its own. */
  serverOrigin(name: string): Promise<string>;
  /** The processes that are the students' servers and kernels (and, for Lectern, its fork server and sandboxes), right now. */
  studentProcesses(): Promise<number[]>;
  stop(): Promise<void>;
}

interface Figures {
  label: string;
  allReadyMs: number;
  idlePssPerStudent: number;
  kernelPssPerStudent: number;
  latencies: number[];
  failures: string[];
}

const names = Array.from({ length: STUDENTS }, (_, i) => `student-${String(i + 1).padStart(3, '0')}`);

async function lecternHub(forked: boolean): Promise<Hub> {
  const t = await startTestHub({
    spawner: { python: '/usr/bin/python3', launchMode: 'singleuser', forkServer: forked, concurrentSpawnLimit: STUDENTS },
    culler: { enabled: false },
  });
  for (const name of names) await t.addUser(name, PASSWORD);
  const origin = new URL(t.hub.url).origin;
  return {
    label: forked ? 'Lectern, forked' : 'Lectern, launched',
    url: t.hub.url,
    api: (path, init) => t.api(path, init),
    token: ADMIN_TOKEN,
    serverOrigin: async (name) => {
      const response = await fetch(`${origin}/user/${name}/`, { redirect: 'manual' });
      await response.arrayBuffer();
      const location = response.headers.get('location');
      const target = location ? new URL(location, origin) : null;
      return target?.pathname === `/user/${name}/` ? target.origin : origin;
    },
    // The hub is this process: its students' processes are every descendant that is no browser.
    studentProcesses: () => descendants(process.pid, (command) => !/chrom/i.test(command)),
    stop: () => t.stop(),
  };
}

async function jupyterHub(): Promise<Hub> {
  // Out of the box, jupyterhub-singleuser with Debian's packages serves no pages: it gets the app
  // Lectern picks for it (the classic Notebook), so that every hub runs the same server.
  const launch = await resolveLaunch({ command: [JUPYTERHUB_SINGLEUSER], python: null, launchMode: 'auto' });
  const app = launch.plan?.singleuserApp;
  const hub = await startJupyterHub({
    spawnerEnvironment: app ? { JUPYTERHUB_SINGLEUSER_APP: app } : {},
    extraConfig: [`c.JupyterHub.concurrent_spawn_limit = ${STUDENTS}`],
  });
  const headers = { Authorization: `token ${hub.token}` };
  for (const name of names) await fetch(`${hub.url}hub/api/users/${name}`, { method: 'POST', headers });
  return {
    label: 'JupyterHub 3.0',
    url: hub.url,
    api: (path, init = {}) => fetch(`${hub.url}hub/api${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } }),
    token: hub.token,
    serverOrigin: async () => new URL(hub.url).origin,
    // Its servers (beside it and its proxy), with their kernels.
    studentProcesses: async () => {
      const table = await processTable();
      const servers = hub.processes().filter((process) => process.argv.some((arg) => arg.endsWith('jupyterhub-singleuser')));
      return servers.flatMap((server) => processTree(table, server.pid).map((entry) => entry.pid));
    },
    stop: () => hub.stop(),
  };
}

/** `root`'s descendants (not itself) whose command line passes `keep`, with all of theirs. */
async function descendants(root: number, keep: (command: string) => boolean): Promise<number[]> {
  const table = await processTable();
  const children = table.filter((entry) => entry.ppid === root);
  const kept: number[] = [];
  for (const child of children) {
    const command = (await readFile(`/proc/${child.pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
    if (keep(command)) kept.push(...processTree(table, child.pid).map((entry) => entry.pid));
  }
  return kept;
}

async function measure(hub: Hub, browser: Browser): Promise<Figures> {
  console.log(`${hub.label}: ${STUDENTS} servers at once…`);
  const t0 = performance.now();
  await Promise.all(names.map((name) => startServer((path, init) => hub.api(path, init), `/users/${name}/server`)));
  const allReadyMs = performance.now() - t0;
  console.log(`  all ready after ${seconds(allReadyMs)}; idle for ${SETTLE_MS / 1000} s…`);
  await sleep(SETTLE_MS);
  const idlePssPerStudent = (await studentsPss(hub)) / STUDENTS;

  console.log(`  one kernel each…`);
  const withoutKernels = (await hub.studentProcesses()).length;
  await Promise.all(names.map((name) => startKernel(hub, name)));
  // A kernel is a process of its own (Notebook 6 calls it "starting" until a page connects to it).
  await until(async () => (await hub.studentProcesses()).length >= withoutKernels + STUDENTS, 'every kernel running');
  await sleep(SETTLE_MS);
  const kernelPssPerStudent = (await studentsPss(hub)) / STUDENTS;

  await Promise.all(names.map((name) => hub.api(`/users/${name}/server`, { method: 'DELETE' }).then((response) => response.arrayBuffer())));
  await until(async () => (await Promise.all(names.map((name) => isStopped(hub, name)))).every(Boolean), 'every server stopped');

  console.log(`  login → first output, ${LATENCY_STUDENTS} students one at a time…`);
  const latencies: number[] = [];
  const failures: string[] = [];
  for (const name of names.slice(0, LATENCY_STUDENTS)) {
    try {
      latencies.push(await loginToFirstOutput(browser, hub, name));
      console.log(`    ${name}: ${seconds(latencies.at(-1) as number)}`);
    } catch (error) {
      failures.push(`${name}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return { label: hub.label, allReadyMs, idlePssPerStudent, kernelPssPerStudent, latencies, failures };
}

async function isStopped(hub: Hub, name: string): Promise<boolean> {
  const user = (await (await hub.api(`/users/${name}`)).json()) as { servers?: Record<string, unknown> };
  return Object.keys(user.servers ?? {}).length === 0;
}

async function studentsPss(hub: Hub): Promise<number> {
  const pss = await proportionalMemoryBytes(await hub.studentProcesses());
  if (pss === null) throw new Error('this machine does not tell proportional set sizes (/proc/PID/smaps_rollup): Linux 4.14 or later is needed');
  return pss;
}

/** Starts a kernel in `name`'s server with the admin token. */
async function startKernel(hub: Hub, name: string): Promise<void> {
  const started = await fetch(`${await hub.serverOrigin(name)}/user/${name}/api/kernels`, {
    method: 'POST',
    headers: { Authorization: `token ${hub.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'python3' }),
  });
  if (started.status !== 201) throw new Error(`${hub.label}: no kernel for ${name}: ${started.status} ${await started.text()}`);
}

async function loginToFirstOutput(browser: Browser, hub: Hub, name: string): Promise<number> {
  const context = await browser.newContext(PHONE);
  context.setDefaultTimeout(TIMEOUT_MS);
  try {
    const page = await context.newPage();
    await page.goto(`${hub.url}hub/login`);
    await page.getByLabel(/^Username/).fill(name);
    await page.getByLabel(/^Password/).fill(PASSWORD);
    const t0 = performance.now();
    await page.getByRole('button', { name: /^(Sign in|Log in)$/ }).click();
    await runFirstCell(page, name, TIMEOUT_MS);
    return performance.now() - t0;
  } finally {
    await context.close();
    await hub.api(`/users/${name}/server`, { method: 'DELETE' }).then((response) => response.arrayBuffer());
  }
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + TIMEOUT_MS;
  while (!(await check().catch(() => false))) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

function report(all: Figures[]): string {
  const header = ['hub', `${STUDENTS} servers ready`, 'PSS / idle student', 'PSS / student with a kernel', 'login → 42 p50', 'p90', 'failed'];
  const rows = all.map((f) => [
    f.label,
    seconds(f.allReadyMs),
    mib(f.idlePssPerStudent),
    mib(f.kernelPssPerStudent),
    seconds(percentile(f.latencies, 50)),
    seconds(percentile(f.latencies, 90)),
    String(f.failures.length),
  ]);
  const lines = [table(header, rows, new Set([1, 2, 3, 4, 5, 6]))];
  const theirs = all.find((f) => f.label === 'JupyterHub 3.0');
  for (const ours of all.filter((f) => f.label.startsWith('Lectern'))) {
    if (!theirs) break;
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
    const met = (value: number, aim: number) => (value <= aim ? 'met' : 'NOT met');
    const latency = percentile(ours.latencies, 50) / percentile(theirs.latencies, 50);
    const idle = ours.idlePssPerStudent / theirs.idlePssPerStudent;
    const kernel = ours.kernelPssPerStudent / theirs.kernelPssPerStudent;
    lines.push(
      `${ours.label} / JupyterHub: login → 42 median ${ratio(percentile(ours.latencies, 50), percentile(theirs.latencies, 50))}, p90 ` +
        `${ratio(percentile(ours.latencies, 90), percentile(theirs.latencies, 90))} (aim ≤ ${AIM_LATENCY_RATIO}×: ${met(latency, AIM_LATENCY_RATIO)}); ` +
        `memory per idle student ${ratio(ours.idlePssPerStudent, theirs.idlePssPerStudent)} (aim ≤ ${AIM_MEMORY_RATIO}×: ${met(idle, AIM_MEMORY_RATIO)}), ` +
        `with a kernel ${ratio(ours.kernelPssPerStudent, theirs.kernelPssPerStudent)} (${met(kernel, AIM_MEMORY_RATIO)}).`,
    );
  }
  for (const f of all) for (const failure of f.failures) lines.push(`${f.label}: failed: ${failure}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const [load = 0] = loadavg();
  console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}; load average before the run ${load.toFixed(2)}`);
  console.log(`${STUDENTS} students; every server is ${JUPYTERHUB_SINGLEUSER}.\n`);
  const browser = await launchBrowser();
  const all: Figures[] = [];
  try {
    for (const start of [() => lecternHub(true), () => lecternHub(false), jupyterHub]) {
      const hub = await start();
      try {
        all.push(await measure(hub, browser));
      } finally {
        await hub.stop();
      }
      console.log(`\n${report(all)}\n`);
    }
  } finally {
    await browser.close();
  }
}

await main();
