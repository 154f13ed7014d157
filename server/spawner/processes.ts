/**
 * What the operating system can tell about the servers' processes: how much memory is free, when
 * a process started (a PID plus its start time names one process for good, where a PID alone may
 * be reused after a crash), and how much CPU and memory a server's process group uses.
 *
 * Linux reads /proc; macOS asks `ps`. Elsewhere the answers are null, and callers do without.
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

export interface GroupUsage {
  /** CPU time used so far by the group's live processes, in seconds. */
  cpuSeconds: number;
  memoryBytes: number;
  processes: number;
}

/**
 * The summed usage of every process in each of the process groups `pgids` (a server and its
 * kernels), from one pass over the process table however many servers run.
 */
export async function processGroupsUsage(pgids: ReadonlySet<number>): Promise<Map<number, GroupUsage>> {
  const usage = new Map<number, GroupUsage>();
  const add = (pgid: number, cpuSeconds: number, memoryBytes: number) => {
    if (!pgids.has(pgid)) return;
    const group = usage.get(pgid) ?? { cpuSeconds: 0, memoryBytes: 0, processes: 0 };
    group.cpuSeconds += cpuSeconds;
    group.memoryBytes += memoryBytes;
    group.processes += 1;
    usage.set(pgid, group);
  };
  if (pgids.size === 0) return usage;
  if (process.platform === 'linux') {
    const ticksPerSecond = 100; // USER_HZ, 100 on every Linux Node supports
    const pageSize = 4096;
    for (const entry of await readdir('/proc').catch(() => [])) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null);
      if (!stat) continue;
      const fields = statFields(stat);
      add(Number(fields[2]), (Number(fields[11]) + Number(fields[12])) / ticksPerSecond, Number(fields[21]) * pageSize);
    }
  } else if (process.platform === 'darwin') {
    const out = await run('ps', ['-A', '-o', 'pgid=,rss=,time=']);
    for (const line of (out ?? '').split('\n')) {
      const [group, rssKib, time] = line.trim().split(/\s+/);
      add(Number(group), cpuTimeSeconds(time ?? ''), Number(rssKib) * 1024);
    }
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
