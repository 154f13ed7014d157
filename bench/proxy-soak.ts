/**
 * A soak of one proxy: does it hold steady over minutes of mixed load? Not a test: run it by hand.
 *
 *   node --import tsx bench/proxy-soak.ts [--proxy lectern|chp|in-process] [--duration 600]
 *        [--interval 10] [--sockets 100] [--message-every 100] [--connections 10] [--no-build]
 *
 * In front of the benchmark target (bench/proxy-target.mjs), with one route per socket: `--sockets`
 * websockets stay open for the whole run, each on its own route, each sending 64 bytes every
 * `--message-every` ms and timing its echo; meanwhile wrk keeps `--connections` keep-alive
 * connections busy with 1 KiB requests. Every `--interval` seconds it prints the proxy's RSS
 * (`VmRSS`) and open fds (from /proc), the interval's echoes with their round trip's p50, p99 and
 * maximum, sockets the proxy dropped and echoes lost. At the end: wrk's totals, and "flat" or
 * "growing", from the samples after the warm-up (see `judge`). Ctrl-C ends the run early and still
 * reports.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { processUsage, type ProcessUsage } from '../test/helpers/proxy-process.js';
import {
  build,
  ensureWrk,
  mib,
  ms,
  routePrefixes,
  startLecternHub,
  startProxy,
  startTarget,
  wrk,
  wrkScript,
  type Running,
  positiveInteger,
} from './proxy-harness.js';

const { values: args } = parseArgs({
  options: {
    proxy: { type: 'string', default: 'lectern' },
    duration: { type: 'string', default: '600' },
    interval: { type: 'string', default: '10' },
    sockets: { type: 'string', default: '100' },
    'message-every': { type: 'string', default: '100' },
    connections: { type: 'string', default: '10' },
    'no-build': { type: 'boolean', default: false },
  },
});
const PROXY = args.proxy ?? 'lectern';
if (!['lectern', 'chp', 'in-process'].includes(PROXY)) throw new Error(`--proxy must be lectern, chp or in-process, not ${PROXY}`);
const DURATION_S = positiveInteger('duration', args.duration);
const INTERVAL_S = positiveInteger('interval', args.interval);
const SOCKETS = positiveInteger('sockets', args.sockets);
const MESSAGE_EVERY_MS = positiveInteger('message-every', args['message-every']);
const CONNECTIONS = positiveInteger('connections', args.connections);
/** Samples in this first stretch are the warm-up (heap and pools growing to their working size). */
const WARMUP_S = Math.min(60, DURATION_S / 6);

interface Sample {
  atS: number;
  usage: ProcessUsage;
  echoes: number;
  drops: number;
}

/** An echo that has not come back after this long is counted as lost. */
const LOST_AFTER_MS = 5_000;

/** The websockets of the soak: each sends on a timer, times its echoes, and reopens if dropped. */
class SocketFleet {
  echoes = 0;
  drops = 0;
  lost = 0;
  /** Round trips (ms) since the last `takeLatencies()`. */
  private latencies: number[] = [];
  /** Per socket, the send time of each message still unanswered, by sequence number. */
  private readonly pending = new Map<WebSocket, Map<number, number>>();
  private running = true;
  private readonly sockets = new Set<WebSocket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly urls: string[]) {}

  start(): void {
    this.urls.forEach((url, i) => {
      // Staggered, so the fleet's messages are spread over the interval rather than in bursts.
      const timer = setTimeout(() => this.open(url), (i * MESSAGE_EVERY_MS) / this.urls.length);
      this.timers.add(timer);
    });
  }

  private open(url: string): void {
    if (!this.running) return;
    const ws = new WebSocket(url, { perMessageDeflate: false });
    this.sockets.add(ws);
    const pending = new Map<number, number>();
    this.pending.set(ws, pending);
    // 64 bytes, the first 4 a sequence number the echo brings back.
    const payload = Buffer.alloc(64, 's');
    let sequence = 0;
    let ticker: NodeJS.Timeout | undefined;
    ws.on('open', () => {
      ticker = setInterval(() => {
        payload.writeUInt32BE(++sequence, 0);
        pending.set(sequence, performance.now());
        ws.send(payload);
      }, MESSAGE_EVERY_MS);
      this.timers.add(ticker);
    });
    ws.on('message', (data: Buffer) => {
      const sentAt = pending.get(data.readUInt32BE(0));
      if (sentAt === undefined) return;
      pending.delete(data.readUInt32BE(0));
      this.latencies.push(performance.now() - sentAt);
      this.echoes++;
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      this.sockets.delete(ws);
      this.pending.delete(ws);
      if (ticker) {
        clearInterval(ticker);
        this.timers.delete(ticker);
      }
      if (!this.running) return;
      // What a dropped socket still owed is lost with it (at the end of the run, it is only in flight).
      this.lost += pending.size;
      this.drops++;
      const again = setTimeout(() => this.open(url), 1_000);
      this.timers.add(again);
    });
  }

  /** The interval's round trips, sorted; and counts echoes overdue by LOST_AFTER_MS as lost. */
  takeLatencies(): number[] {
    const now = performance.now();
    for (const pending of this.pending.values()) {
      for (const [sequence, sentAt] of pending) {
        if (now - sentAt < LOST_AFTER_MS) continue;
        pending.delete(sequence);
        this.lost++;
      }
    }
    const taken = this.latencies.sort((a, b) => a - b);
    this.latencies = [];
    return taken;
  }

  stop(): void {
    this.running = false;
    for (const timer of this.timers) clearTimeout(timer);
    for (const ws of this.sockets) ws.terminate();
  }
}

async function main(): Promise<void> {
  ensureWrk();
  if (!args['no-build']) build();
  const work = await mkdtemp(join(tmpdir(), 'lectern-soak-'));
  const script = await wrkScript(work);
  const prefixes = routePrefixes(SOCKETS);
  const stop = new AbortController();
  process.once('SIGINT', () => {
    console.log('\nInterrupted: finishing the report.');
    stop.abort();
  });

  const target = await startTarget();
  let proxy: Running | undefined;
  try {
    proxy =
      PROXY === 'in-process'
        ? await startLecternHub(target.url, prefixes, (line) => console.log(line))
        : await startProxy(PROXY === 'chp' ? 'chp' : 'lectern', target.url, prefixes);
    const pid = proxy.pid;
    if (pid === undefined) throw new Error('no process to measure');
    console.log(
      `Soak of ${proxy.label} (pid ${pid}) for ${DURATION_S} s: ${SOCKETS} websockets, one message each every ${MESSAGE_EVERY_MS} ms, ` +
        `and wrk with ${CONNECTIONS} connections on 1 KiB answers. A sample every ${INTERVAL_S} s; the first ${WARMUP_S.toFixed(0)} s are warm-up.\n`,
    );
    const fleet = new SocketFleet(prefixes.map((prefix) => `${proxy!.url.replace(/^http/, 'ws')}${prefix}/api/kernels/soak/channels`));
    fleet.start();
    const load = wrk(`${proxy.url}${prefixes[0] ?? ''}/api/soak`, { connections: CONNECTIONS, seconds: DURATION_S, script }, stop.signal);
    load.catch(() => undefined);

    const samples: Sample[] = [];
    const header = ['t', 'RSS', 'fds', 'echoes/s', 'echo p50', 'echo p99', 'echo max', 'dropped sockets', 'lost echoes'];
    // Widths fixed up front: rows are printed one at a time, as they come, so a long run can be watched.
    const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(Math.max(10, header[i]?.length ?? 0))).join('  ');
    console.log(line(header));
    const started = Date.now();
    let lastEchoes = 0;
    for (let tick = 1; tick <= Math.floor(DURATION_S / INTERVAL_S) && !stop.signal.aborted; tick++) {
      await sleep(Math.max(0, started + tick * INTERVAL_S * 1000 - Date.now()), undefined, { signal: stop.signal }).catch(() => undefined);
      if (stop.signal.aborted) break;
      const usage = processUsage(pid);
      const sample = { atS: (Date.now() - started) / 1000, usage, echoes: fleet.echoes - lastEchoes, drops: fleet.drops };
      lastEchoes = fleet.echoes;
      samples.push(sample);
      const latencies = fleet.takeLatencies();
      const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
      const row = [
        `${sample.atS.toFixed(0)} s`,
        mib(usage.rssBytes),
        String(usage.fds),
        (sample.echoes / INTERVAL_S).toFixed(0),
        ms(at(0.5) * 1000),
        ms(at(0.99) * 1000),
        ms((latencies.at(-1) ?? 0) * 1000),
        String(fleet.drops),
        String(fleet.lost),
      ];
      console.log(line(row));
    }
    fleet.stop();
    stop.abort();
    const http = await load.catch(() => undefined);
    console.log('');
    if (http) {
      console.log(
        `HTTP: ${http.requests} requests, ${(http.requests / (http.durationUs / 1e6)).toFixed(0)} req/s, p50 ${ms(http.p50Us)}, ` +
          `p99 ${ms(http.p99Us)}, ${http.errors} errors`,
      );
    }
    fleet.takeLatencies();
    console.log(
      `Websockets: ${fleet.echoes} echoes, ${fleet.drops} sockets dropped by the proxy, ${fleet.lost} echoes lost ` +
        `(unanswered after ${LOST_AFTER_MS / 1000} s, or owed by a dropped socket)`,
    );
    console.log(judge(samples));
  } finally {
    await proxy?.stop();
    await target.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * "flat" or "growing", from the samples after the warm-up, split in thirds: RSS is growing if the
 * last third's mean exceeds the first third's by more than 8 MiB and 10% (V8 settles its heap in
 * steps, and a machine's noise is a few MiB); fds are growing if their mean rose by more than 5
 * (a leak of one socket per request would add thousands).
 */
function judge(samples: Sample[]): string {
  const steady = samples.filter((sample) => sample.atS > WARMUP_S);
  if (steady.length < 3) return `Verdict: too short to judge (${steady.length} samples after the warm-up; run longer).`;
  const third = Math.max(1, Math.floor(steady.length / 3));
  const mean = (list: Sample[], pick: (s: Sample) => number) => list.reduce((sum, s) => sum + pick(s), 0) / list.length;
  const first = steady.slice(0, third);
  const last = steady.slice(-third);
  const rssFirst = mean(first, (s) => s.usage.rssBytes);
  const rssLast = mean(last, (s) => s.usage.rssBytes);
  const fdsFirst = mean(first, (s) => s.usage.fds);
  const fdsLast = mean(last, (s) => s.usage.fds);
  const slope = slopePerMinute(steady.map((s) => [s.atS, s.usage.rssBytes]));
  const rssGrowing = rssLast - rssFirst > Math.max(8 * 1048576, rssFirst * 0.1);
  const fdsGrowing = fdsLast - fdsFirst > 5;
  const detail =
    `RSS ${mib(rssFirst)} → ${mib(rssLast)} (trend ${slope >= 0 ? '+' : ''}${mib(slope)}/min), ` +
    `fds ${fdsFirst.toFixed(1)} → ${fdsLast.toFixed(1)} (means of the first and last thirds after the warm-up)`;
  return `Verdict: ${rssGrowing || fdsGrowing ? 'growing' : 'flat'}: ${detail}`;
}

/** Least-squares slope of bytes over time, per minute. */
function slopePerMinute(points: [seconds: number, bytes: number][]): number {
  const n = points.length;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const num = points.reduce((sum, [x, y]) => sum + (x - mx) * (y - my), 0);
  const den = points.reduce((sum, [x]) => sum + (x - mx) ** 2, 0);
  return den === 0 ? 0 : (num / den) * 60;
}

main().catch((error: unknown) => {
  console.error(`bench/proxy-soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
