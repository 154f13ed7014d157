import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdleCuller, idleServers, readKernels, type KernelCheck, type RunningServer } from '../../../server/culler/idle-culler.js';
import { silentLogger } from '../../../server/logging/logger.js';

const HOUR = 3_600_000;
const server = (user: string, lastActivity: number): RunningServer => ({ user, name: '', lastActivity, apiBase: '', token: '' });
const QUIET: KernelCheck = { working: false, lastActivity: null };

describe('the idle culler', () => {
  it('finds servers idle for longer than the timeout, by an injected clock', () => {
    const now = 10 * HOUR;
    const servers = [server('alice', now - 2 * HOUR), server('bob', now - HOUR / 2), server('carol', now - HOUR)];
    assert.deepEqual(idleServers(servers, now, HOUR).map((s) => s.user), ['alice']);
  });

  it('stops the idle, spares the active and the working, and restarts the working one’s idle clock', async () => {
    let now = 10 * HOUR;
    const stopped: string[] = [];
    const noted: [string, number][] = [];
    const culler = new IdleCuller({
      idleTimeoutMs: HOUR,
      everyMs: 60_000,
      running: () => [server('alice', 8 * HOUR), server('bob', 8 * HOUR), server('carol', 10 * HOUR - 60_000)],
      stop: async (user) => {
        stopped.push(user);
      },
      noteActivity: (user, _name, at) => noted.push([user, at]),
      log: silentLogger,
      clock: () => now,
      checkKernels: async (s) => (s.user === 'bob' ? { working: true, why: 'a kernel is busy' } : QUIET),
    });
    assert.deepEqual(await culler.cullOnce(), ['alice/']);
    assert.deepEqual(stopped, ['alice']);
    assert.deepEqual(noted, [['bob', now]], 'bob’s busy kernel counts as use now');
    now += 2 * HOUR;
    stopped.length = 0;
    await culler.cullOnce();
    assert.deepEqual(stopped.sort(), ['alice', 'carol'], 'carol, idle now too, is stopped; bob’s busy kernel still protects him');
  });

  it('counts idle time from when the kernel last did something, not from the last request', async () => {
    const now = 10 * HOUR;
    const stopped: string[] = [];
    const noted: [string, number][] = [];
    const finished = { dora: now - HOUR / 2, emil: now - 2 * HOUR };
    const culler = new IdleCuller({
      idleTimeoutMs: HOUR,
      everyMs: 60_000,
      // Both sent their long cell five hours ago; Dora's finished half an hour ago, Emil's two hours ago.
      running: () => [server('dora', 5 * HOUR), server('emil', 5 * HOUR)],
      stop: async (user) => {
        stopped.push(user);
      },
      noteActivity: (user, _name, at) => noted.push([user, at]),
      log: silentLogger,
      clock: () => now,
      checkKernels: async (s) => ({ working: false, lastActivity: finished[s.user as keyof typeof finished] }),
    });
    assert.deepEqual(await culler.cullOnce(), ['emil/']);
    assert.deepEqual(noted, [['dora', finished.dora]]);
  });

  it('runs one pass at a time', async () => {
    let release = () => {};
    let stops = 0;
    const culler = new IdleCuller({
      idleTimeoutMs: 1,
      everyMs: 60_000,
      running: () => [server('alice', 0)],
      stop: () => {
        stops++;
        return new Promise<void>((resolve) => (release = resolve));
      },
      noteActivity: () => {},
      log: silentLogger,
      clock: () => HOUR,
      checkKernels: async () => QUIET,
    });
    const first = culler.cullOnce();
    const second = culler.cullOnce();
    await new Promise((resolve) => setImmediate(resolve));
    release();
    assert.deepEqual(await first, await second);
    assert.equal(stops, 1);
  });
});

describe('reading a server’s kernel list', () => {
  const kernel = (execution_state: unknown, last_activity = '2026-12-02T10:00:00.000000Z') => ({ id: 'k', execution_state, last_activity });

  it('is quiet only when every kernel is idle or dead, since the latest kernel activity', () => {
    assert.deepEqual(readKernels([]), { working: false, lastActivity: null });
    assert.deepEqual(readKernels([kernel('idle', '2026-12-02T10:00:00Z'), kernel('dead', '2026-12-02T11:00:00.123456Z')]), {
      working: false,
      lastActivity: Date.parse('2026-12-02T11:00:00.123Z'),
    });
  });

  it('counts busy, starting, restarting, unknown and missing states as working', () => {
    for (const state of ['busy', 'starting', 'restarting', 'autorestarting', undefined, 7]) {
      const check = readKernels([kernel('idle'), kernel(state)]);
      assert.equal(check?.working, true, `a kernel in state ${String(state)}`);
    }
    assert.deepEqual(readKernels([kernel('starting')]), { working: true, why: 'a kernel is starting' });
  });

  it('has no verdict for an answer that is not a kernel list', () => {
    assert.equal(readKernels({ message: 'Forbidden' }), undefined);
    assert.equal(readKernels(null), undefined);
  });
});
