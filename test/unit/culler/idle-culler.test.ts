import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdleCuller, idleServers, type RunningServer } from '../../../server/culler/idle-culler.js';
import { silentLogger } from '../../../server/logging/logger.js';

const HOUR = 3_600_000;
const server = (user: string, lastActivity: number): RunningServer => ({ user, name: '', lastActivity, apiBase: '', token: '' });

describe('the idle culler', () => {
  it('finds servers idle for longer than the timeout, by an injected clock', () => {
    const now = 10 * HOUR;
    const servers = [server('alice', now - 2 * HOUR), server('bob', now - HOUR / 2), server('carol', now - HOUR)];
    assert.deepEqual(idleServers(servers, now, HOUR).map((s) => s.user), ['alice']);
  });

  it('stops the idle, spares the active and the busy', async () => {
    let now = 10 * HOUR;
    const stopped: string[] = [];
    const culler = new IdleCuller({
      idleTimeoutMs: HOUR,
      everyMs: 60_000,
      running: () => [server('alice', 8 * HOUR), server('bob', 8 * HOUR), server('carol', 10 * HOUR - 60_000)],
      stop: async (user) => {
        stopped.push(user);
      },
      log: silentLogger,
      clock: () => now,
      hasBusyKernel: async (s) => s.user === 'bob',
    });
    assert.deepEqual(await culler.cullOnce(), ['alice/']);
    assert.deepEqual(stopped, ['alice']);
    now += 2 * HOUR;
    stopped.length = 0;
    await culler.cullOnce();
    assert.deepEqual(stopped, ['alice', 'carol'], 'carol, idle now too, is stopped; bob’s busy kernel still protects him');
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
      log: silentLogger,
      clock: () => HOUR,
      hasBusyKernel: async () => false,
    });
    const first = culler.cullOnce();
    const second = culler.cullOnce();
    await new Promise((resolve) => setImmediate(resolve));
    release();
    assert.deepEqual(await first, await second);
    assert.equal(stops, 1);
  });
});
