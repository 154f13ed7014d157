import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cpuPercent, largestKernel, memoryLimitNotice } from '../../../server/servers/usage.js';
import type { ProcessEntry } from '../../../server/spawner/processes.js';

const MB = 2 ** 20;
const entry = (pid: number, ppid: number, memoryMb: number): ProcessEntry => ({ pid, ppid, cpuSeconds: 0, memoryBytes: memoryMb * MB });

describe('a server over its memory limit', () => {
  // The sandbox (10) holds the server (11); the server runs two kernels and a terminal; the second
  // kernel started a worker of its own. Another student's server (20) is elsewhere in the table.
  const table = [entry(10, 1, 1), entry(11, 10, 80), entry(12, 11, 60), entry(13, 11, 300), entry(14, 13, 500), entry(15, 11, 5), entry(20, 1, 900)];

  it('loses its largest kernel, counted with what that kernel started', () => {
    const kernel = largestKernel(table, 11);
    assert.equal(kernel?.pid, 13);
    assert.deepEqual(kernel?.processes.map((process) => process.pid), [13, 14]);
    assert.equal(kernel?.memoryBytes, 800 * MB);
  });

  it('has nothing to stop when its server runs no kernel', () => {
    assert.equal(largestKernel([entry(11, 10, 80)], 11), null);
  });

  it('tells the student what happened, in numbers she can act on', () => {
    assert.match(memoryLimitNotice({ cpuSeconds: 0, memoryBytes: 946 * MB, processes: 5 }, 512), /used 946 MiB of memory, more than the 512 MiB each student may use/);
  });
});

describe('CPU use between two readings', () => {
  it('is the CPU seconds used per second, in percent of one core', () => {
    assert.equal(cpuPercent({ cpuSeconds: 10, at: 0 }, { cpuSeconds: 13, at: 2000 }), 150);
  });
  it('is 0 for a first reading, and never negative when a kernel’s time left the tree', () => {
    assert.equal(cpuPercent(undefined, { cpuSeconds: 13, at: 2000 }), 0);
    assert.equal(cpuPercent({ cpuSeconds: 10, at: 0 }, { cpuSeconds: 4, at: 2000 }), 0);
  });
});
