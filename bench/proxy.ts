/**
 * Issue 4's proxy benchmark: the same target behind each proxy, in one run on this machine. Not a
 * test: run it by hand.
 *
 *   node --import tsx bench/proxy.ts [--duration 10] [--warmup 3] [--connections 50] [--sockets 50]
 *                                    [--routes 100] [--only direct,chp,in-process,lectern-proxy] [--no-build]
 *
 * Setups, one after the other (none shares the CPU with another's idle timers):
 * - direct: wrk and the websocket client talk to the target itself: the ceiling of this machine,
 *   wrk and the client, with no proxy at all;
 * - configurable-http-proxy 5.3 (npm), as JupyterHub runs it (`configurable-http-proxy --ip …`);
 * - Lectern in-process: `lectern start` from dist/, its built-in proxy in front of the target;
 * - `lectern proxy`: Lectern's drop-in replacement for CHP, started with CHP's options.
 * Every proxy holds 100 routes (`/user/bench-001` … `/user/bench-100`, with JupyterHub's route
 * data) and the load goes to one in the middle, so the route lookup is a real one.
 *
 * HTTP: wrk, 50 keep-alive connections, 1 KiB answers; req/s, p50, p99. Websockets: 50 sockets
 * each doing request/response echo of 64 bytes as fast as the answers come back; messages/s and the
 * round trip's p50 and p99, measured by a small Node client (`ws`) in this process. Its own ceiling
 * is the "direct" row.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { processUsage } from '../test/helpers/proxy-process.js';
import {
  build,
  ensureWrk,
  mib,
  ms,
  routePrefixes,
  startLecternHub,
  startProxy,
  startTarget,
  table,
  wrk,
  wrkScript,
  wsEcho,
  type HttpStats,
  type Running,
  type WsStats,
  positiveInteger,
} from './proxy-harness.js';

const SETUPS = ['direct', 'chp', 'in-process', 'lectern-proxy'] as const;
type Setup = (typeof SETUPS)[number];

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    sockets: { type: 'string', default: '50' },
    routes: { type: 'string', default: '100' },
    only: { type: 'string', default: SETUPS.join(',') },
    'no-build': { type: 'boolean', default: false },
  },
});
const DURATION_S = positiveInteger('duration', args.duration);
const WARMUP_S = positiveInteger('warmup', args.warmup);
const CONNECTIONS = positiveInteger('connections', args.connections);
const SOCKETS = positiveInteger('sockets', args.sockets);
const ROUTES = positiveInteger('routes', args.routes);
const ONLY = (args.only ?? '').split(',').filter(Boolean) as Setup[];
for (const setup of ONLY) if (!SETUPS.includes(setup)) throw new Error(`--only: unknown setup "${setup}" (${SETUPS.join(', ')})`);

interface Row {
  setup: Setup;
  label: string;
  http: HttpStats | undefined;
  ws: WsStats | undefined;
  /** The proxy's RSS and fds after both loads (none for direct). */
  usage: string;
  /** Why there are no figures. */
  skipped: string | undefined;
}

async function main(): Promise<void> {
  ensureWrk();
  if (!args['no-build']) build();
  const work = await mkdtemp(join(tmpdir(), 'lectern-bench-proxy-'));
  const script = await wrkScript(work);
  const prefixes = routePrefixes(ROUTES);
  const path = `${prefixes[Math.floor(prefixes.length / 2)] ?? '/user/bench'}/api/bench`;
  console.log(machine());
  console.log(
    `HTTP: wrk, 1 thread, ${CONNECTIONS} keep-alive connections, 1 KiB answers, ${WARMUP_S} s warm-up (discarded) then ${DURATION_S} s.\n` +
      `Websockets: ${SOCKETS} sockets doing request/response echo of 64 B, same warm-up and duration.\n` +
      `Each proxy holds ${ROUTES} routes; the load goes to ${path}.\n`,
  );

  const target = await startTarget();
  const rows: Row[] = [];
  try {
    for (const setup of ONLY) {
      console.log(`${setup}: starting…`);
      let running: Running;
      try {
        running = await start(setup, target.url, prefixes);
      } catch (error) {
        const reason = (error instanceof Error ? error.message : String(error)).split('\n').slice(0, 3).join(' ');
        console.log(`  could not start: ${reason}`);
        rows.push({ setup, label: setup, http: undefined, ws: undefined, usage: '', skipped: reason.slice(0, 90) });
        continue;
      }
      try {
        rows.push(await measure(setup, running, path, script));
      } finally {
        await running.stop();
      }
    }
  } finally {
    await target.stop();
    await rm(work, { recursive: true, force: true });
  }
  console.log(`\n${report(rows)}`);
}

function start(setup: Setup, target: string, prefixes: string[]): Promise<Running> {
  switch (setup) {
    case 'direct':
      return Promise.resolve({ url: target, pid: undefined, label: 'direct (no proxy)', stop: async () => undefined });
    case 'chp':
      return startProxy('chp', target, prefixes);
    case 'lectern-proxy':
      return startProxy('lectern', target, prefixes);
    case 'in-process':
      return startLecternHub(target, prefixes, (line) => console.log(line));
  }
}

async function measure(setup: Setup, running: Running, path: string, script: string): Promise<Row> {
  const url = `${running.url}${path}`;
  const check = await fetch(url);
  const body = await check.arrayBuffer();
  if (check.status !== 200 || body.byteLength !== 1024) {
    const skipped = `GET ${path} answered ${check.status} with ${body.byteLength} B`;
    console.log(`  ${skipped}; not measured`);
    return { setup, label: running.label, http: undefined, ws: undefined, usage: '', skipped };
  }
  console.log(`  HTTP: warm-up, then ${DURATION_S} s…`);
  await wrk(url, { connections: CONNECTIONS, seconds: WARMUP_S, script });
  const http = await wrk(url, { connections: CONNECTIONS, seconds: DURATION_S, script });
  const wsUrl = url.replace(/^http/, 'ws');
  console.log(`  websockets: warm-up, then ${DURATION_S} s…`);
  await wsEcho(wsUrl, SOCKETS, WARMUP_S);
  const ws = await wsEcho(wsUrl, SOCKETS, DURATION_S);
  let usage = '';
  if (running.pid !== undefined) {
    const { rssBytes, fds } = processUsage(running.pid);
    usage = `${mib(rssBytes)}, ${fds} fds`;
  }
  return { setup, label: running.label, http, ws, usage, skipped: undefined };
}

function machine(): string {
  const cpuList = cpus();
  const wrkVersion = spawnSync('wrk', ['--version'], { encoding: 'utf8' }).stdout.split(' Copyright')[0] ?? 'wrk';
  const [load = 0] = loadavg();
  const busy = load > cpuList.length / 4 ? ' (NOT idle: the figures will be noisy and low)' : '';
  return [
    `Machine: ${cpuList.length} × ${cpuList[0]?.model.trim() ?? 'unknown CPU'}; load average before the run ${load.toFixed(2)}${busy}`,
    `Node ${process.version}; ${wrkVersion.trim()}; configurable-http-proxy 5.3.0 (npm)`,
  ].join('\n');
}

function ratio(value: number | undefined, reference: number | undefined): string {
  if (value === undefined || reference === undefined || reference === 0) return '';
  return `${(value / reference).toFixed(2)}×`;
}

function report(rows: Row[]): string {
  const rps = (s: HttpStats | undefined) => (s ? s.requests / (s.durationUs / 1e6) : undefined);
  const mps = (s: WsStats | undefined) => (s ? s.messages / s.seconds : undefined);
  const find = (setup: Setup) => rows.find((row) => row.setup === setup);
  const chp = find('chp');
  const direct = find('direct');

  const httpRows = rows.map((row) =>
    row.http
      ? [
          row.label,
          rps(row.http)?.toFixed(0) ?? '',
          ms(row.http.p50Us),
          ms(row.http.p99Us),
          String(row.http.errors),
          ratio(rps(row.http), rps(chp?.http)),
          ratio(rps(row.http), rps(direct?.http)),
          ratio(row.http.p99Us, chp?.http?.p99Us),
          row.usage,
        ]
      : [row.label, 'n/a', '', '', '', '', '', '', row.skipped ?? ''],
  );
  const wsRows = rows.map((row) =>
    row.ws
      ? [
          row.label,
          mps(row.ws)?.toFixed(0) ?? '',
          ms(row.ws.p50Us),
          ms(row.ws.p99Us),
          String(row.ws.errors),
          ratio(mps(row.ws), mps(chp?.ws)),
          ratio(mps(row.ws), mps(direct?.ws)),
          ratio(row.ws.p99Us, chp?.ws?.p99Us),
        ]
      : [row.label, 'n/a', '', '', '', '', '', '', row.skipped ?? ''],
  );
  const right = new Set([1, 2, 3, 4, 5, 6, 7]);
  return [
    `HTTP, 1 KiB answers, ${CONNECTIONS} connections`,
    table(['setup', 'req/s', 'p50', 'p99', 'errors', 'req/s vs CHP', 'req/s vs direct', 'p99 vs CHP', 'proxy RSS, fds after'], httpRows, right),
    '',
    `Websocket echo, ${SOCKETS} sockets, 64 B request/response`,
    table(['setup', 'msg/s', 'p50', 'p99', 'errors', 'msg/s vs CHP', 'msg/s vs direct', 'p99 vs CHP'], wsRows, right),
    '',
    `(direct = no proxy: the ceiling of wrk, the websocket client (${mps(direct?.ws)?.toFixed(0) ?? 'n/a'} msg/s) and the target on this machine. ` +
      'A proxy close to it was limited by them, not by itself. Errors make a row suspect.)',
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(`bench/proxy: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
