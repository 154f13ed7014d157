/**
 * What the operating system can tell about the servers' processes: how much memory is free, when
 * a process started (a PID plus its start time names one process for good, where a PID alone may
 * be reused after a crash), and how much CPU and memory a server uses.
 *
 * A server's usage is that of its whole process tree, found by parent PID: the process the hub
 * spawned (perhaps a sandbox wrapper), the Jupyter server under it, its kernels and their children.
 * Not its process group or session: jupyter_client starts every kernel in a session of its own, so
 * counting the group missed the kernels, where the memory is (a 377 MB kernel showed as 138 MB).
 *
 * Linux reads /proc; macOS asks `ps`. Elsewhere the answers are null or empty, and callers do without.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { freemem } from 'node:os';

/** Memory the machine can give a new process without swapping, in bytes. */
export async function availableMemoryBytes(): Promise<number> {
  if (process.platform === 'linux') {
    const meminfo = await readFile('/proc/meminfo', 'utf8').catch(() => '');
    const kib = /^MemAvailable:\s+(\d+) kB/m.exec(meminfo)?.[1];
    if (kib) return Number(kib) * 1024;
  }
  return freemem();
}

/** An opaque stamp of when `pid` started, or null if it is not running (or the OS cannot say). */
export async function processStartTime(pid: number): Promise<string | null> {
  if (process.platform === 'linux') {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    return stat ? (statFields(stat)[19] ?? null) : null;
  }
  if (process.platform === 'darwin') {
    const out = await run('ps', ['-o', 'lstart=', '-p', String(pid)]);
    return out?.trim() || null;
  }
  return null;
}

/** One process as the OS lists it. */
export interface ProcessEntry {
  pid: number;
  ppid: number;
  /** CPU time used so far (user + system), in seconds. */
  cpuSeconds: number;
  /** Resident memory, in bytes. */
  memoryBytes: number;
}

// Reading the /proc/<pid>/stat files a batch at a time rather than one by one took a table of ~1000
// processes from 180 ms to 100 ms (medians of 30, a loaded 2-core machine; 84 processes: 69 ms to
// 10 ms). Batches of 256 or all at once were no faster, and hold more reads in flight. Each read in
// flight holds a file descriptor, every 5 seconds: a batch stays well inside the descriptors the
// hub keeps back from connections (32 at a limit of 256, proxy/connection-guard.ts), or a teacher
// logging in while students use up the connections could find none left for the database.
const PROC_READ_BATCH = 16;

/**
 * Every process on the machine, from one pass over the process table (Linux /proc, macOS
 * `ps -A -o pid=,ppid=,rss=,time=`); empty elsewhere. Read the table once per sample and find
 * every server's tree in it, rather than one pass per server.
 */
export async function processTable(): Promise<ProcessEntry[]> {
  if (process.platform === 'linux') {
    const ticksPerSecond = 100; // USER_HZ, 100 on every Linux Node supports
    const pageSize = 4096;
    const pids = (await readdir('/proc').catch(() => [])).filter((entry) => /^\d+$/.test(entry));
    const table: ProcessEntry[] = [];
    for (let i = 0; i < pids.length; i += PROC_READ_BATCH) {
      const stats = await Promise.all(
        // A process may exit between the listing and the read: it is simply not in the table.
        pids.slice(i, i + PROC_READ_BATCH).map((pid) => readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null)),
      );
      stats.forEach((stat, j) => {
        if (!stat) return;
        const fields = statFields(stat);
        table.push({
          pid: Number(pids[i + j]),
          ppid: Number(fields[1]),
          cpuSeconds: (Number(fields[11]) + Number(fields[12])) / ticksPerSecond,
          memoryBytes: Number(fields[21]) * pageSize,
        });
      });
    }
    return table;
  }
  if (process.platform === 'darwin') {
    const table: ProcessEntry[] = [];
    for (const line of ((await run('ps', ['-A', '-o', 'pid=,ppid=,rss=,time='])) ?? '').split('\n')) {
      const [pid, ppid, rssKib, time] = line.trim().split(/\s+/);
      if (!pid || !ppid || !rssKib || !time) continue;
      table.push({ pid: Number(pid), ppid: Number(ppid), cpuSeconds: cpuTimeSeconds(time), memoryBytes: Number(rssKib) * 1024 });
    }
    return table;
  }
  return [];
}

/**
 * `root` and all its descendants in `table` (root first), or [] if root is not in the table.
 * Pure. Each call indexes the table by parent, which for 100 servers over 1000 processes costs
 * about a millisecond in all: cheaper to redo than to cache. A PID reused while the table was read
 * can make a cycle of parents; each process is visited once, so the walk still ends.
 */
export function processTree(table: readonly ProcessEntry[], root: number): ProcessEntry[] {
  const rootEntry = table.find((entry) => entry.pid === root);
  if (!rootEntry) return [];
  const children = new Map<number, ProcessEntry[]>();
  for (const entry of table) {
    const siblings = children.get(entry.ppid);
    if (siblings) siblings.push(entry);
    else children.set(entry.ppid, [entry]);
  }
  const tree = [rootEntry];
  const seen = new Set([root]);
  // Breadth first: the loop also visits the entries pushed while it runs.
  for (const parent of tree) {
    for (const child of children.get(parent.pid) ?? []) {
      if (seen.has(child.pid)) continue;
      seen.add(child.pid);
      tree.push(child);
    }
  }
  return tree;
}

export interface TreeUsage {
  /** CPU time used so far by the tree's live processes, in seconds. */
  cpuSeconds: number;
  /**
   * Resident memory summed over the processes: pages they share (a forked child's) count once per
   * process, so this errs high, the safe side for a figure a teacher acts on.
   */
  memoryBytes: number;
  processes: number;
}

/**
 * The memory the processes take together, each page counted once: their proportional set size
 * (Linux: `Pss` in /proc/<pid>/smaps_rollup), where a page shared by several processes is split
 * between them. Resident memory counts a shared page in full in every process that maps it, so a
 * server and its kernels (which share Python's libraries), or servers forked from one parent,
 * would be counted many times over. Null where the OS does not say (macOS, Windows, Linux before
 * 4.14), or when a process's figures cannot be read: the caller then counts resident memory.
 */
export async function proportionalMemoryBytes(pids: readonly number[]): Promise<number | null> {
  if (process.platform !== 'linux') return null;
  let total = 0;
  for (let i = 0; i < pids.length; i += PROC_READ_BATCH) {
    const rollups = await Promise.all(
      pids.slice(i, i + PROC_READ_BATCH).map((pid) =>
        readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch((error: NodeJS.ErrnoException) =>
          // A process that exited meanwhile takes nothing; one that cannot be read spoils the sum.
          error.code === 'ENOENT' || error.code === 'ESRCH' ? '' : null,
        ),
      ),
    );
    for (const rollup of rollups) {
      if (rollup === null) return null;
      const kib = /^Pss:\s+(\d+) kB$/m.exec(rollup)?.[1];
      if (rollup !== '' && kib === undefined) return null;
      total += Number(kib ?? 0) * 1024;
    }
  }
  return total;
}

/** The summed usage of a tree. Pure. */
export function treeUsage(tree: readonly ProcessEntry[]): TreeUsage {
  const usage: TreeUsage = { cpuSeconds: 0, memoryBytes: 0, processes: 0 };
  for (const entry of tree) {
    usage.cpuSeconds += entry.cpuSeconds;
    usage.memoryBytes += entry.memoryBytes;
    usage.processes += 1;
  }
  return usage;
}

/** The fields of /proc/<pid>/stat after the command name (which may itself contain spaces). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** `[[dd-]hh:]mm:ss.cc` as ps prints CPU time, in seconds. */
function cpuTimeSeconds(time: string): number {
  const [days, clock] = time.includes('-') ? time.split('-') : ['0', time];
  return (clock ?? '').split(':').reduce((total, part) => total * 60 + Number(part), 0) + Number(days) * 86_400;
}

function run(command: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 5000 }, (error, stdout) => resolve(error ? null : stdout));
  });
}
