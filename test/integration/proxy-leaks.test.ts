/**
 * `lectern proxy` under the failures that leaked sockets and memory in configurable-http-proxy
 * (CHP#388, #434, #557): clients and targets that vanish mid-request, mid-upload and mid-websocket,
 * and clients that give up on a target too busy to answer (a request, a websocket handshake),
 * thousands of times each; a target process killed with websockets open; then a 1 GiB upload. The proxy runs as its own process, as JupyterHub
 * runs it, and is measured from outside through the kernel: its open file descriptors
 * (`/proc/<pid>/fd`) and its resident memory (`VmRSS`). No debug endpoint, no `--expose-gc`.
 *
 * What "no leak" means here, and the tolerances (generous on purpose: this must not be flaky on a
 * busy 2-core machine, and a real leak is orders of magnitude larger):
 * - After each phase and a settle (up to SETTLE_MS, while the target's keep-alive timeout closes the
 *   pool's idle upstream sockets), the proxy's fd count is back within FD_TOLERANCE of its baseline
 *   after warm-up. One leaked socket per failed request would be +1,000.
 * - The target sees no connection left open by the proxy (within FD_TOLERANCE): a proxy that
 *   forgets to close the upstream side leaks the target's sockets, not only its own.
 * - The phases run twice. RSS (the mean of the samples after each phase of a round) is within
 *   RSS_TOLERANCE of RSS after the warm-up, and the second round's within RSS_ROUND_TOLERANCE of the
 *   first's. A leaked 16 KiB buffer per failure would be +160 MiB a round. V8 growing its heap to
 *   a working size is not a leak: that is +20–35 MiB over the warm-up for both CHP and lectern
 *   proxy here, flat from then on (checked at 10,000 per phase), hence the tolerances.
 * - A 1 GiB upload streams through with the proxy's RSS growing by less than UPLOAD_RSS_LIMIT: a
 *   proxy that buffers would need a gigabyte.
 *
 * `LECTERN_PROXY_UNDER_TEST=chp` runs the same against configurable-http-proxy 5.3, which is how the
 * harness was checked; `LECTERN_LEAK_ROUNDS` scales the 1,000 per phase (for a quick local run).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, WebSocketServer } from 'ws';
import {
  processUsage,
  projectRoot,
  proxyUnderTest,
  startProxyProcess,
  type ProcessUsage,
  type ProxyProcess,
} from '../helpers/proxy-process.js';

const ROUNDS = Number(process.env.LECTERN_LEAK_ROUNDS ?? 1_000);
/** Enough for V8 to grow its heap and the pools to their working size before the baseline. */
const WARMUP_ROUNDS = 400;
/** Operations in flight at once: enough to overlap failures, few enough for a 2-core machine. */
const CONCURRENCY = 50;
const FD_TOLERANCE = 8;
const RSS_TOLERANCE = 64 * 1024 * 1024;
const RSS_ROUND_TOLERANCE = 24 * 1024 * 1024;
const UPLOAD_RSS_LIMIT = 200 * 1024 * 1024;
const UPLOAD_BYTES = 1024 * 1024 * 1024;
/** How long the target keeps an idle keep-alive connection: the proxy's pool empties this fast. */
const TARGET_KEEP_ALIVE_MS = 500;
const SETTLE_MS = 10_000;
/** How long a client waits for the proxy to end what the target cut short, before calling it hung. */
const HANG_MS = 3_000;
/** A phase stops early after this many hangs: a proxy that hangs every request would take minutes. */
const MAX_HANGS = 20;
const ROUTE = '/user/leaky';
const CHUNK = Buffer.alloc(16 * 1024, 'x');
const DOOMED_SOCKETS = 200;
/** A websocket echo server in a process of its own, to be killed with SIGKILL; prints its port. */
const KILLABLE_TARGET = `
  const server = require('node:http').createServer((req, res) => res.end('ok'));
  new (require('ws').WebSocketServer)({ server }).on('connection', (ws) => ws.on('message', (m) => ws.send(m)));
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

/** The target: a single-user server stand-in whose every misbehaviour is chosen by the request path. */
class Target {
  readonly server: http.Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  /** Every TCP connection the proxy holds open to us, upgraded ones included. */
  readonly sockets = new Set<Socket>();
  /**
   * Responses still being written, uploads still being read, websockets still open, and requests
   * and websocket handshakes the target is sitting on without answering.
   */
  open = { streams: 0, uploads: 0, websockets: 0, unanswered: 0, handshakes: 0 };
  /** The sockets of unanswered requests and handshakes, so a phase can let them go when it is measured. */
  private readonly held = new Set<Socket>();
  /** Ids of requests whose body or response has started flowing: the moment to vanish. */
  private readonly started = new Map<string, () => void>();
  uploadedBytes = 0;
  port = 0;

  constructor() {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = TARGET_KEEP_ALIVE_MS;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      if (req.url?.includes('/ws/hang')) {
        // A server too busy to answer (a frozen kernel host, a stopped process): the handshake
        // reaches it and nothing comes back.
        this.open.handshakes++;
        this.hold(socket, () => this.open.handshakes--);
        this.markStarted(new URL(req.url, 'http://target').searchParams.get('id'));
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.open.websockets++;
        ws.once('close', () => this.open.websockets--);
        ws.on('error', () => undefined);
        if (req.url?.includes('/ws/die')) {
          // Dies once the client has said something, alternating a clean FIN with a reset, as a
          // killed process with unread data would.
          const reset = req.url.includes('reset');
          ws.once('message', () => (reset ? socket.resetAndDestroy() : socket.destroy()));
          ws.send('hello');
        } else {
          ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
        }
      });
    });
  }

  async listen(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Resolves when request `id` has reached the target and started flowing. */
  whenStarted(id: string): Promise<void> {
    return new Promise((resolve) => this.started.set(id, resolve));
  }

  forget(id: string): void {
    this.started.delete(id);
  }

  private hold(socket: Socket, onClose: () => void): void {
    this.held.add(socket);
    socket.on('error', () => undefined);
    // Busy, but its TCP stack still reads: that is how it learns the proxy hung up, and it then
    // closes its half (Node's HTTP server allows half-open sockets, so it must do so itself).
    socket.resume();
    socket.once('end', () => socket.end());
    socket.once('close', () => {
      this.held.delete(socket);
      onClose();
    });
  }

  /** Ends every request and handshake the target was sitting on, as the busy server finally dying would. */
  releaseHeld(): void {
    for (const socket of this.held) socket.destroy();
  }

  private markStarted(id: string | null): void {
    if (id === null) return;
    this.started.get(id)?.();
    this.started.delete(id);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://target');
    const id = url.searchParams.get('id');
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    if (url.pathname.endsWith('/stream')) {
      // An endless download (bounded at a minute, longer than any settle, so a stream the proxy
      // forgot to close is still open when counted): the client leaves in the middle.
      this.open.streams++;
      res.once('close', () => this.open.streams--);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.write(CHUNK);
      let writes = 0;
      const timer = setInterval(() => {
        if (++writes > 3_000 || res.destroyed) {
          clearInterval(timer);
          res.end();
        } else if (!res.writableNeedDrain) {
          // Only while the proxy reads: a stalled stream must not pile up in the test's memory.
          res.write(CHUNK);
        }
      }, 20);
      res.once('close', () => clearInterval(timer));
    } else if (url.pathname.endsWith('/upload') || url.pathname.endsWith('/discard')) {
      // Reads and discards the body; answers with the byte count if it ever ends.
      this.open.uploads++;
      let bytes = 0;
      req.once('close', () => this.open.uploads--);
      req.on('data', (chunk: Buffer) => {
        if (bytes === 0) this.markStarted(id);
        bytes += chunk.length;
        this.uploadedBytes += chunk.length;
      });
      req.once('end', () => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ bytes }));
      });
    } else if (url.pathname.endsWith('/hang')) {
      // Never answers: the client gives up first.
      this.open.unanswered++;
      this.hold(req.socket, () => this.open.unanswered--);
      this.markStarted(id);
    } else if (url.pathname.endsWith('/die')) {
      // Promises 1 MiB, sends 16 KiB, and drops the connection.
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(1024 * 1024) });
      res.write(CHUNK, () => {
        const socket = req.socket;
        setTimeout(() => (url.searchParams.has('reset') ? socket.resetAndDestroy() : socket.destroy()), 5);
      });
    } else {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
    }
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** How each operation of a phase ended, counted. */
type Tally = Map<string, number>;

/** Runs `op` `count` times, `CONCURRENCY` at a time; stops early after MAX_HANGS hangs. */
async function many(count: number, op: (i: number) => Promise<string>): Promise<Tally> {
  const tally: Tally = new Map();
  let next = 0;
  const worker = async () => {
    while (next < count && (tally.get('hung') ?? 0) < MAX_HANGS) {
      const outcome = await op(next++);
      tally.set(outcome, (tally.get(outcome) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return tally;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

function show(tally: Tally): string {
  return [...tally.entries()].map(([outcome, n]) => `${outcome} ${n}`).join(', ');
}

/** Settles with a deadline: `fn` is given `done`, and the result is `'hung'` if it is not called in time. */
function withDeadline(ms: number, fn: (done: (outcome: string) => void, cleanup: (f: () => void) => void) => void): Promise<string> {
  return new Promise((resolve) => {
    const cleanups: (() => void)[] = [];
    let settled = false;
    const done = (outcome: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const f of cleanups) f();
      resolve(outcome);
    };
    const timer = setTimeout(() => done('hung'), ms);
    fn(done, (f) => cleanups.push(f));
  });
}

describe(`${proxyUnderTest().name} leaks nothing when clients and targets vanish`, () => {
  const target = new Target();
  let proxy: ProxyProcess;
  let proxyPort = 0;
  let baseline: ProcessUsage;
  let afterWarmup: ProcessUsage;

  before(async () => {
    await target.listen();
    proxy = await startProxyProcess({ command: proxyUnderTest(), logLevel: 'error' });
    proxyPort = Number(new URL(proxy.url).port);
    await proxy.addRoute(ROUTE, `http://127.0.0.1:${target.port}`);
  });

  after(async () => {
    await proxy?.stop();
    await target.close();
  });

  // --- the five ways to vanish, one operation each -------------------------------------------

  const clientAbortsMidResponse = (i: number) =>
    withDeadline(10_000, (done, cleanup) => {
      const req = http.get({ host: '127.0.0.1', port: proxyPort, path: `${ROUTE}/stream?id=r${i}`, agent: false });
      cleanup(() => req.destroy());
      req.on('error', () => done('error before the body'));
      req.on('response', (res) => {
        res.on('error', () => undefined);
        res.once('data', () => done(res.statusCode === 200 ? 'left mid-body' : `status ${res.statusCode}`));
      });
    });

  const clientAbortsMidUpload = (i: number) =>
    withDeadline(10_000, (done, cleanup) => {
      const id = `u${i}`;
      const req = http.request({
        host: '127.0.0.1',
        port: proxyPort,
        method: 'POST',
        path: `${ROUTE}/upload?id=${id}`,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(1024 * 1024) },
        agent: false,
      });
      cleanup(() => {
        req.destroy();
        target.forget(id);
      });
      req.on('error', () => done('error before the target saw the body'));
      req.on('response', (res) => {
        res.resume();
        done(`answered ${res.statusCode} mid-upload`);
      });
      void target.whenStarted(id).then(() => done('left mid-upload'));
      req.write(CHUNK);
      req.write(CHUNK);
    });

  const targetDiesMidResponse = (i: number) =>
    withDeadline(HANG_MS, (done, cleanup) => {
      const how = i % 2 === 0 ? 'reset' : 'fin';
      const req = http.get({ host: '127.0.0.1', port: proxyPort, path: `${ROUTE}/die?id=d${i}&${how}`, agent: false });
      // The client's own deadline must not be what frees the proxy's socket: a hang is reported.
      cleanup(() => req.destroy());
      req.on('error', () => done('error before the headers'));
      req.on('response', (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('error', () => undefined);
        res.once('close', () => {
          if (res.statusCode !== 200) done(`status ${res.statusCode}`);
          else done(res.complete || bytes >= 1024 * 1024 ? 'complete?!' : 'cut short');
        });
      });
    });

  const targetDiesWithWebsocketOpen = (i: number) =>
    withDeadline(HANG_MS, (done, cleanup) => {
      const how = i % 2 === 0 ? 'reset' : 'fin';
      const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}${ROUTE}/ws/die?${how}`);
      cleanup(() => ws.terminate());
      let greeted = false;
      ws.on('error', () => undefined);
      ws.once('message', () => {
        greeted = true;
        ws.send('bye');
      });
      ws.once('close', () => done(greeted ? 'closed after the target died' : 'closed before the greeting'));
    });

  const clientGivesUpBeforeTheAnswer = (i: number) =>
    withDeadline(10_000, (done, cleanup) => {
      const id = `h${i}`;
      const req = http.get({ host: '127.0.0.1', port: proxyPort, path: `${ROUTE}/hang?id=${id}`, agent: false });
      cleanup(() => {
        req.destroy();
        target.forget(id);
      });
      req.on('error', () => done('error before the target saw it'));
      req.on('response', (res) => {
        res.resume();
        done(`answered ${res.statusCode}`);
      });
      void target.whenStarted(id).then(() => done('gave up waiting'));
    });

  const clientGivesUpDuringHandshake = (i: number) =>
    withDeadline(10_000, (done, cleanup) => {
      const id = `w${i}`;
      const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}${ROUTE}/ws/hang?id=${id}`);
      // terminate() while connecting aborts the handshake: a browser tab closed, or JupyterLab
      // giving up on a kernel's websocket to retry it.
      cleanup(() => {
        ws.terminate();
        target.forget(id);
      });
      ws.on('error', () => undefined);
      ws.once('unexpected-response', (_req, res) => done(`answered ${res.statusCode}`));
      void target.whenStarted(id).then(() => done('gave up during the handshake'));
    });

  const clientDropsWebsocket = (i: number) =>
    withDeadline(10_000, (done, cleanup) => {
      const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}${ROUTE}/ws/echo`);
      cleanup(() => ws.terminate());
      ws.on('error', () => done('error'));
      ws.once('open', () => ws.send(`ping ${i}`));
      // terminate() drops the TCP connection with no close frame, as a closed laptop lid does.
      ws.once('message', () => done('dropped after an echo'));
    });

  /** Each phase with the outcomes that count as handled; the first is the one the phase is about. */
  const phases: [name: string, op: (i: number) => Promise<string>, expected: string[]][] = [
    ['client aborts mid-response', clientAbortsMidResponse, ['left mid-body']],
    ['client aborts mid-upload', clientAbortsMidUpload, ['left mid-upload']],
    // A reset can reach the proxy before it has read the target's headers (the kernel drops what
    // was unread), and then a 503 is the right answer.
    ['target destroys the socket mid-response', targetDiesMidResponse, ['cut short', 'status 503']],
    ['target dies while a websocket is open', targetDiesWithWebsocketOpen, ['closed after the target died']],
    ['client drops a websocket', clientDropsWebsocket, ['dropped after an echo']],
    ['client gives up before the target answers', clientGivesUpBeforeTheAnswer, ['gave up waiting']],
    // Last: a proxy that leaks here keeps both ends until the target answers; the phase lets the
    // target's held sockets go once it is measured, so the next round starts clean either way.
    ['client gives up during a websocket handshake the target does not answer', clientGivesUpDuringHandshake, ['gave up during the handshake']],
  ];
  /** RSS after each phase's settle, per round: one sample is at the mercy of when V8 last collected. */
  const phaseRss: number[][] = [];
  const meanRss = (round: number) => {
    const samples = phaseRss[round - 1] ?? [];
    return samples.reduce((sum, rss) => sum + rss, 0) / Math.max(1, samples.length);
  };

  /** Waits until the proxy's fds are back near `reference` and the target holds nothing open. */
  async function settle(reference: ProcessUsage): Promise<ProcessUsage> {
    const deadline = Date.now() + SETTLE_MS;
    let usage = processUsage(proxy.pid);
    while (Date.now() < deadline) {
      usage = processUsage(proxy.pid);
      const targetIdle = Object.values(target.open).every((count) => count === 0);
      if (usage.fds <= reference.fds + FD_TOLERANCE && target.sockets.size <= FD_TOLERANCE && targetIdle) return usage;
      await sleep(200);
    }
    return usage;
  }

  function describeUsage(usage: ProcessUsage): string {
    return `${usage.fds} fds, RSS ${(usage.rssBytes / 1024 / 1024).toFixed(1)} MiB; target: ${target.sockets.size} sockets, ${JSON.stringify(target.open)}`;
  }

  it(`warms up: ${WARMUP_ROUNDS} of each failure, then a baseline`, async (t) => {
    // The first measure, before anything: what an idle proxy holds.
    await sleep(500);
    baseline = processUsage(proxy.pid);
    t.diagnostic(`idle: ${describeUsage(baseline)}`);
    for (const [, op] of phases) await many(WARMUP_ROUNDS, op);
    target.releaseHeld();
    afterWarmup = await settle(baseline);
    // The warm-up's pools and buffers are part of a working proxy; compare the runs with this.
    t.diagnostic(`after warm-up: ${describeUsage(afterWarmup)}`);
    assert.ok(afterWarmup.fds <= baseline.fds + FD_TOLERANCE, `fds ${baseline.fds} → ${afterWarmup.fds} after the warm-up`);
  });

  for (const round of [1, 2]) {
    for (const [name, op, expected] of phases) {
      it(`round ${round}: ${name}, ${ROUNDS} times: the fds come back and the target is left with nothing open`, async (t) => {
        assert.ok(afterWarmup, 'the warm-up ran');
        const started = Date.now();
        const tally = await many(ROUNDS, op);
        const usage = await settle(afterWarmup);
        (phaseRss[round - 1] ??= []).push(usage.rssBytes);
        t.diagnostic(`${name}: ${show(tally)} in ${((Date.now() - started) / 1000).toFixed(1)} s; settled at ${describeUsage(usage)}`);
        const targetSockets = target.sockets.size;
        const targetOpen = { ...target.open };
        // Measured: now what the target sat on may go, and whatever the proxy kept with it.
        target.releaseHeld();
        await settle(afterWarmup);
        const handled = expected.reduce((sum, outcome) => sum + (tally.get(outcome) ?? 0), 0);
        assert.equal(handled, ROUNDS, `every operation ended as ${expected.join(' or ')}: ${show(tally)}`);
        assert.ok((tally.get(expected[0] ?? '') ?? 0) > 0, `the phase happened as intended at least once: ${show(tally)}`);
        assert.ok(!proxy.exited(), `the proxy is still running:\n${proxy.output()}`);
        assert.ok(usage.fds <= afterWarmup.fds + FD_TOLERANCE, `proxy fds ${afterWarmup.fds} → ${usage.fds} (tolerance ${FD_TOLERANCE})`);
        assert.ok(targetSockets <= FD_TOLERANCE, `the target still has ${targetSockets} connections from the proxy`);
        assert.deepEqual(
          targetOpen,
          { streams: 0, uploads: 0, websockets: 0, unanswered: 0, handshakes: 0 },
          'the proxy closed every upstream stream',
        );
      });
    }
    it(`round ${round}: RSS stays near RSS after the warm-up`, (t) => {
      const rss = meanRss(round);
      const growth = rss - afterWarmup.rssBytes;
      t.diagnostic(
        `RSS after warm-up ${mib(afterWarmup.rssBytes)}, after round ${round}'s phases ${(phaseRss[round - 1] ?? []).map(mib).join(', ')} ` +
          `(mean ${growth >= 0 ? '+' : ''}${mib(growth)})`,
      );
      assert.ok(growth < RSS_TOLERANCE, `RSS grew by ${mib(growth)} over ${round * phases.length * ROUNDS} failures (tolerance ${mib(RSS_TOLERANCE)})`);
      if (round === 2) {
        // The second round repeats the first: a steady proxy spends it about where it spent the first.
        const first = meanRss(1);
        assert.ok(rss - first < RSS_ROUND_TOLERANCE, `RSS kept growing: a mean of ${mib(first)} in round 1, ${mib(rss)} in round 2`);
      }
    });
  }

  it(`a target process killed with ${DOOMED_SOCKETS} websockets open: every client is closed, and the fds come back`, async (t) => {
    const child = spawn(process.execPath, ['-e', KILLABLE_TARGET], { cwd: projectRoot(), stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = once(child, 'exit');
    try {
      const [line] = (await once(child.stdout.setEncoding('utf8'), 'data')) as [string];
      await proxy.addRoute('/user/doomed', `http://127.0.0.1:${Number(line)}`);
      const before = processUsage(proxy.pid);
      const closed: Promise<string>[] = [];
      const opened = await Promise.all(
        Array.from({ length: DOOMED_SOCKETS }, (_, i) =>
          withDeadline(10_000, (done) => {
            const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}/user/doomed/api/kernels/${i}/channels`);
            ws.on('error', () => undefined);
            ws.once('open', () => ws.send('hi'));
            ws.once('message', () => done('echoed'));
            closed.push(new Promise((resolve) => ws.once('close', () => resolve('closed'))));
          }),
        ),
      );
      assert.ok(opened.every((outcome) => outcome === 'echoed'), `every socket echoed before the kill: ${opened.filter((o) => o !== 'echoed').length} did not`);
      const during = processUsage(proxy.pid);
      child.kill('SIGKILL');
      await exited;
      const outcomes = await Promise.all(closed.map((close) => Promise.race([close, sleep(HANG_MS).then(() => 'hung')])));
      const usage = await settle(afterWarmup);
      t.diagnostic(`fds ${before.fds} before, ${during.fds} with ${DOOMED_SOCKETS} websockets, ${usage.fds} after the kill`);
      assert.equal(outcomes.filter((outcome) => outcome === 'closed').length, DOOMED_SOCKETS, 'every client saw its websocket close');
      assert.ok(usage.fds <= afterWarmup.fds + FD_TOLERANCE, `proxy fds ${afterWarmup.fds} → ${usage.fds} after the kill`);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('still proxies a plain request after all that', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: proxyPort, path: `${ROUTE}/hello`, agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on('error', reject);
    });
    assert.deepEqual(answer, { status: 200, body: 'ok' });
  });

  it('streams a 1 GiB upload to a target that discards it, without holding it in memory', async (t: TestContext) => {
    const before = processUsage(proxy.pid);
    let peak = before.rssBytes;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, processUsage(proxy.pid).rssBytes);
      } catch {
        // The proxy died; the upload's own failure says so.
      }
    }, 50);
    const startedAt = Date.now();
    try {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1',
          port: proxyPort,
          method: 'PUT',
          path: `${ROUTE}/discard`,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(UPLOAD_BYTES) },
          agent: false,
        });
        req.on('error', reject);
        req.on('response', (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        // Generated, never stored: one 1 MiB buffer written 1,024 times, at the pace the proxy reads.
        const block = Buffer.alloc(1024 * 1024, 'y');
        let sent = 0;
        const pump = () => {
          while (sent < UPLOAD_BYTES) {
            sent += block.length;
            if (!req.write(block)) {
              req.once('drain', pump);
              return;
            }
          }
          req.end();
        };
        pump();
      });
      assert.equal(answer.status, 200, answer.body);
      assert.deepEqual(JSON.parse(answer.body), { bytes: UPLOAD_BYTES });
    } finally {
      clearInterval(sampler);
    }
    const growth = peak - before.rssBytes;
    const seconds = (Date.now() - startedAt) / 1000;
    t.diagnostic(
      `1 GiB in ${seconds.toFixed(1)} s (${(1024 / seconds).toFixed(0)} MiB/s); proxy RSS ${(before.rssBytes / 1048576).toFixed(1)} MiB, ` +
        `peak ${(peak / 1048576).toFixed(1)} MiB (+${(growth / 1048576).toFixed(1)} MiB)`,
    );
    assert.ok(growth < UPLOAD_RSS_LIMIT, `RSS grew by ${(growth / 1048576).toFixed(1)} MiB during a 1 GiB upload`);
  });
});
