/**
 * Issue 11's benchmark: what the per-student sandbox (bubblewrap) costs. Not a test: run it by hand.
 *
 *   npm run build && node dist/bench/sandbox.js [--runs 30] [--servers 10]
 *
 * (From dist/: the hubs it starts hash passwords in worker threads, which load compiled files.)
 *
 * 1. The wrapper alone: `--runs` launches of a trivial program (`/usr/bin/python3 -c pass`), each
 *    straight and through the exact bubblewrap command line a student's server gets (the same
 *    mounts, namespaces and folders), interleaved so both see the same machine. The difference of
 *    the medians is what the sandbox adds to every server start, free of Jupyter's own variance.
 * 2. Real servers: `--servers` starts of Debian's jupyterhub-singleuser through two hubs in this
 *    process, one with `spawner.isolation: off` and one with `sandbox`, alternately; each start is
 *    timed from the start request to the hub's answer that the server is ready.
 * 3. Memory per student: while each sandboxed server runs, the memory of the sandbox's own
 *    processes (its process tree minus the server's), as resident (RSS) and proportional (PSS:
 *    shared pages divided among the processes sharing them, what it really costs the machine).
 *
 * The aims: at most 50 ms per start and 5 MB per student.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bubblewrapLauncher, systemLayout } from '../server/spawner/sandbox/bubblewrap.js';
import { findSandbox } from '../server/spawner/sandbox/isolation.js';
import type { SandboxPlace } from '../server/spawner/sandbox/place.js';
import { processTable, processTree } from '../server/spawner/processes.js';
import { startTestHub, type TestHub } from '../test/helpers/hub.js';
import { positiveInteger, table } from './proxy-harness.js';

const AIM_START_MS = 50;
const AIM_MEMORY_MB = 5;

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '30' }, servers: { type: 'string', default: '10' } } });
const RUNS = positiveInteger('runs', args.runs);
const SERVERS = positiveInteger('servers', args.servers);

const available = await findSandbox();
if (available.kind !== 'bubblewrap') {
  throw new Error(`This benchmark needs a working bubblewrap: ${available.kind === null ? `${available.reason} ${available.fix ?? ''}` : available.kind}`);
}

function median(values: number[]): number {
  return percentile(values, 50);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

function run(command: string[]): Promise<number> {
  const [program = '', ...rest] = command;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(program, rest, { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${command.join(' ')} exited with ${code}`))));
  });
}

// 1. The wrapper alone.
const scratch = await mkdtemp(join(tmpdir(), 'lectern-bench-sandbox-'));
const place: SandboxPlace = { home: scratch, runtimeDir: scratch, tmpDir: scratch, readOnly: [], hidden: [] };
const launcher = bubblewrapLauncher(available.program, await systemLayout(), scratch);
const trivial = ['/usr/bin/python3', '-c', 'pass'];
const straight: number[] = [];
const wrapped: number[] = [];
for (let i = 0; i < RUNS + 3; i++) {
  const [a, b] = [await run(trivial), await run(launcher.wrap(trivial, place).command)];
  // The first launches warm the page cache; they are not counted.
  if (i >= 3) {
    straight.push(a);
    wrapped.push(b);
  }
}
await rm(scratch, { recursive: true, force: true });

// 2 and 3. Real servers through two hubs.
async function timeStart(hub: TestHub, user: string): Promise<number> {
  const started = performance.now();
  const answer = await hub.api(`/users/${user}/server`, { method: 'POST' });
  if (answer.status === 202) {
    for (;;) {
      const model = (await (await hub.api(`/users/${user}`)).json()) as { servers: Record<string, { ready: boolean }> };
      if (model.servers['']?.ready) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } else if (answer.status !== 201) {
    throw new Error(`starting ${user}'s server: ${answer.status} ${await answer.text()}`);
  }
  return performance.now() - started;
}

async function memory(pid: number): Promise<{ rss: number; pss: number }> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { rss: field('Rss'), pss: field('Pss') };
}

/** The sandbox's own processes of a running server: its tree minus the server's. */
async function sandboxMemory(hub: TestHub, user: string): Promise<{ rss: number; pss: number }> {
  const model = (await (await hub.api(`/users/${user}`)).json()) as { servers: Record<string, { state: { pid: number; serverPid: number } }> };
  const state = model.servers['']?.state;
  if (!state) throw new Error(`no state for ${user}'s server`);
  const table = await processTable();
  const server = new Set(processTree(table, state.serverPid).map((entry) => entry.pid));
  const own = processTree(table, state.pid).filter((entry) => !server.has(entry.pid));
  const sizes = await Promise.all(own.map((entry) => memory(entry.pid)));
  return { rss: sizes.reduce((sum, size) => sum + size.rss, 0), pss: sizes.reduce((sum, size) => sum + size.pss, 0) };
}

const hubs = {
  none: await startTestHub({ spawner: { isolation: 'off' }, culler: { enabled: false }, logLevel: 'warn' }),
  sandbox: await startTestHub({ spawner: { isolation: 'sandbox' }, culler: { enabled: false }, logLevel: 'warn' }),
};
const starts = { none: [] as number[], sandbox: [] as number[] };
const sandboxRss: number[] = [];
const sandboxPss: number[] = [];
try {
  for (const hub of Object.values(hubs)) await hub.api('/users', { method: 'POST', body: JSON.stringify({ usernames: ['s'] }) });
  for (let i = 0; i < SERVERS + 1; i++) {
    for (const kind of ['none', 'sandbox'] as const) {
      const took = await timeStart(hubs[kind], 's');
      if (kind === 'sandbox') {
        const size = await sandboxMemory(hubs.sandbox, 's');
        sandboxRss.push(size.rss);
        sandboxPss.push(size.pss);
      }
      await hubs[kind].api('/users/s/server', { method: 'DELETE' });
      // The first start of each hub discovers Python and warms caches: not counted.
      if (i > 0) starts[kind].push(took);
    }
  }
} finally {
  await Promise.all(Object.values(hubs).map((hub) => hub.stop()));
}

const msText = (value: number) => `${value.toFixed(1)} ms`;
const mbText = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
const addedStart = median(wrapped) - median(straight);
console.log(`\nThe wrapper alone (${RUNS} launches each of ${trivial.join(' ')}, interleaved)\n`);
console.log(
  table(
    ['', 'median', 'p90'],
    [
      ['straight', msText(median(straight)), msText(percentile(straight, 90))],
      ['in bubblewrap', msText(median(wrapped)), msText(percentile(wrapped, 90))],
      ['added by the sandbox', msText(addedStart), msText(percentile(wrapped, 90) - percentile(straight, 90))],
    ],
    new Set([1, 2]),
  ),
);
console.log(`\nReal jupyterhub-singleuser servers, request to ready (${SERVERS} starts each, alternating)\n`);
console.log(
  table(
    ['', 'median', 'p90'],
    [
      ['isolation: off', msText(median(starts.none)), msText(percentile(starts.none, 90))],
      ['isolation: sandbox', msText(median(starts.sandbox)), msText(percentile(starts.sandbox, 90))],
      ['difference', msText(median(starts.sandbox) - median(starts.none)), msText(percentile(starts.sandbox, 90) - percentile(starts.none, 90))],
    ],
    new Set([1, 2]),
  ),
);
console.log(`\nMemory of the sandbox's own processes, per student (${sandboxPss.length} servers)\n`);
console.log(
  table(
    ['', 'median', 'max'],
    [
      ['PSS', mbText(median(sandboxPss)), mbText(Math.max(...sandboxPss))],
      ['RSS', mbText(median(sandboxRss)), mbText(Math.max(...sandboxRss))],
    ],
    new Set([1, 2]),
  ),
);
console.log(
  `\nAims: ≤ ${AIM_START_MS} ms per start (the wrapper adds ${msText(addedStart)}: ${addedStart <= AIM_START_MS ? 'met' : 'missed'}), ` +
    `≤ ${AIM_MEMORY_MB} MB per student (PSS ${mbText(median(sandboxPss))}: ${median(sandboxPss) <= AIM_MEMORY_MB * 1e6 ? 'met' : 'missed'}).`,
);
