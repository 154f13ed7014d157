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

/** The summed usage of every process in process group `pgid` (a server and its kernels). */
export async function processGroupUsage(pgid: number): Promise<GroupUsage | null> {
  if (process.platform === 'linux') {
    const ticksPerSecond = 100; // USER_HZ, 100 on every Linux Node supports
    const pageSize = 4096;
    const usage: GroupUsage = { cpuSeconds: 0, memoryBytes: 0, processes: 0 };
    for (const entry of await readdir('/proc').catch(() => [])) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null);
      if (!stat) continue;
      const fields = statFields(stat);
      if (Number(fields[2]) !== pgid) continue;
      usage.cpuSeconds += (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
      usage.memoryBytes += Number(fields[21]) * pageSize;
      usage.processes += 1;
    }
    return usage.processes > 0 ? usage : null;
  }
  if (process.platform === 'darwin') {
    const out = await run('ps', ['-A', '-o', 'pgid=,rss=,time=']);
    if (out === null) return null;
    const usage: GroupUsage = { cpuSeconds: 0, memoryBytes: 0, processes: 0 };
    for (const line of out.split('\n')) {
      const [group, rssKib, time] = line.trim().split(/\s+/);
      if (Number(group) !== pgid) continue;
      usage.cpuSeconds += cpuTimeSeconds(time ?? '');
      usage.memoryBytes += Number(rssKib) * 1024;
      usage.processes += 1;
    }
    return usage.processes > 0 ? usage : null;
  }
  return null;
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
