import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { type ProcessEntry, processTable, processTree, proportionalMemoryBytes, treeUsage } from '../../../server/spawner/processes.js';

const MB = 1_000_000;

function entry(pid: number, ppid: number, memoryMb = 1, cpuSeconds = 1): ProcessEntry {
  return { pid, ppid, cpuSeconds, memoryBytes: memoryMb * MB };
}

describe('process trees', () => {
  // 1 (init) ─┬─ 100 hub-spawned wrapper ── 101 jupyter ─┬─ 102 kernel ── 103 kernel's child
  //           │                                          └─ 104 kernel
  //           └─ 200 another student's server ── 201 its kernel
  const table = [
    entry(1, 0),
    entry(201, 200, 300),
    entry(103, 102, 5),
    entry(100, 1, 2),
    entry(101, 100, 80),
    entry(102, 101, 377),
    entry(200, 1, 80),
    entry(104, 101, 60),
  ];

  const rows: { why: string; root: number; pids: number[] }[] = [
    { why: 'a server counts its kernels and their children, whatever their group or session', root: 100, pids: [100, 101, 102, 104, 103] },
    { why: "another student's server, in another branch, is not counted", root: 200, pids: [200, 201] },
    { why: 'a process with no children is a tree of one', root: 103, pids: [103] },
    { why: 'a server whose process is gone has no tree', root: 999, pids: [] },
  ];
  for (const { why, root, pids } of rows) {
    it(why, () => {
      const tree = processTree(table, root);
      assert.deepEqual(
        tree.map((p) => p.pid),
        pids,
      );
    });
  }

  it('ends on a cycle of parents (a PID reused while the table was read)', () => {
    const cyclic = [entry(10, 12), entry(11, 10), entry(12, 11), entry(13, 13), entry(14, 13)];
    assert.deepEqual(
      processTree(cyclic, 10).map((p) => p.pid),
      [10, 11, 12],
    );
    assert.deepEqual(
      processTree(cyclic, 13).map((p) => p.pid),
      [13, 14],
    );
  });

  it('sums a tree', () => {
    assert.deepEqual(treeUsage(processTree(table, 100)), { cpuSeconds: 5, memoryBytes: 524 * MB, processes: 5 });
    assert.deepEqual(treeUsage([]), { cpuSeconds: 0, memoryBytes: 0, processes: 0 });
  });
});

// A server with a kernel, in small: the parent (started in a group of its own, as the hub starts a
// server) starts a child in a session of its own, as jupyter_client starts a kernel. The child
// touches 60 MB and says so. So that a failed or killed run leaves nothing behind, the parent exits
// when the test closes its stdin, and the child once its parent is gone.
const KERNEL = `
const keep = Buffer.alloc(60e6, 1);
const parent = Number(process.argv[1]);
process.stdout.write('ready\\n');
setInterval(() => { try { process.kill(parent, 0); } catch { process.exit(keep.length > 0 ? 0 : 1); } }, 500);
`;
const SERVER = `
const { spawn } = require('node:child_process');
const kernel = spawn(process.execPath, ['-e', ${JSON.stringify(KERNEL)}, String(process.pid)], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
kernel.stdout.once('data', () => process.stdout.write('ready ' + kernel.pid + '\\n'));
process.stdin.on('end', () => process.exit()).resume();
`;

/** The process group and session of `pid`, from /proc/<pid>/stat (the fields after ppid). */
async function groupAndSession(pid: number): Promise<{ group: number; session: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { group: Number(fields[2]), session: Number(fields[3]) };
}

describe('the process table', { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
  let server: ChildProcess | undefined;
  let kernelPid: number | undefined;
  after(() => {
    server?.stdin?.destroy();
    for (const pid of [kernelPid, server?.pid]) {
      try {
        if (pid) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  // The timeout only keeps a broken run from hanging the suite: a loaded machine may take seconds.
  it("counts a kernel in its own session as part of its server's tree", { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, ['-e', SERVER], { detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
    server = child;
    const serverPid = child.pid;
    assert.ok(serverPid);
    const lines = createInterface({ input: child.stdout });
    const ready = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`the test server exited (${code}) before it was ready`)));
    });
    lines.close();
    kernelPid = Number(/^ready (\d+)$/.exec(ready)?.[1]);
    assert.ok(kernelPid, `unexpected line: ${ready}`);

    // The group-based count summed the server's group only, which the kernel is not in.
    const serverIds = await groupAndSession(serverPid);
    const kernelIds = await groupAndSession(kernelPid);
    assert.equal(serverIds.group, serverPid);
    assert.notEqual(kernelIds.group, serverIds.group);
    assert.notEqual(kernelIds.session, serverIds.session);

    const tree = processTree(await processTable(), serverPid);
    assert.deepEqual(
      tree.map((p) => p.pid),
      [serverPid, kernelPid],
    );
    const kernel = tree.find((p) => p.pid === kernelPid);
    assert.ok(kernel && kernel.memoryBytes >= 60 * MB, `the kernel's resident memory: ${kernel?.memoryBytes}`);
    const usage = treeUsage(tree);
    assert.ok(usage.memoryBytes > 60 * MB);
    assert.equal(usage.processes, 2);
  });

  it('counts pages a forked child shares with its parent once, where resident memory counts them twice', { timeout: 60_000 }, async () => {
    // 64 MiB written by the parent, then shared copy-on-write with a child that writes nothing.
    const forked = spawn('/usr/bin/python3', ['-c', "import os, sys, time\nb = b'x' * (64 * 2**20)\nif os.fork() == 0:\n    time.sleep(60)\nelse:\n    print('forked', flush=True)\n    time.sleep(60)"], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        forked.stdout?.once('data', () => resolve());
        forked.once('exit', (code) => reject(new Error(`python exited (${code}) before it forked`)));
      });
      const tree = processTree(await processTable(), forked.pid as number);
      assert.equal(tree.length, 2, 'the parent and its child');
      const resident = treeUsage(tree).memoryBytes;
      const proportional = await proportionalMemoryBytes(tree.map((entry) => entry.pid));
      assert.ok(proportional !== null);
      assert.ok(resident > 128 * MB, `resident memory counts the shared 64 MiB twice: ${resident}`);
      assert.ok(proportional >= 64 * MB && proportional < resident - 48 * MB, `each page once: ${proportional} of ${resident}`);
    } finally {
      for (const entry of processTree(await processTable(), forked.pid as number)) process.kill(entry.pid, 'SIGKILL');
    }
  });
});
