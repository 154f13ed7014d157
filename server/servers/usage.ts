/**
 * What each server takes of the machine: CPU and memory of its whole process tree (the sandbox, the
 * server, its kernels and whatever they started, whatever their process group), measured for every
 * server in one pass over the process table. And the per-student memory limit
 * (`spawner.memoryLimitMb`): a server whose tree goes over it loses its largest kernel, so that one
 * runaway notebook cannot take the teacher's laptop and the whole class down with it.
 */
import { processTree, treeUsage, type ProcessEntry, type TreeUsage } from '../spawner/processes.js';

/** The processes of the server's child (a kernel, a terminal) that holds the most memory, with all of its own. */
export function largestKernel(table: readonly ProcessEntry[], serverPid: number): { pid: number; processes: ProcessEntry[]; memoryBytes: number } | null {
  let largest: { pid: number; processes: ProcessEntry[]; memoryBytes: number } | null = null;
  for (const child of table.filter((entry) => entry.ppid === serverPid && entry.pid !== serverPid)) {
    const processes = processTree(table, child.pid);
    const { memoryBytes } = treeUsage(processes);
    if (!largest || memoryBytes > largest.memoryBytes) largest = { pid: child.pid, processes, memoryBytes };
  }
  return largest;
}

/** Stops `processes` at once (SIGKILL): a kernel over the memory limit would not free memory on a gentler signal in time. */
export function killProcesses(processes: readonly ProcessEntry[]): void {
  for (const entry of processes) {
    try {
      process.kill(entry.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** CPU use between two readings of a tree's CPU seconds, in percent of one core. */
export function cpuPercent(previous: { cpuSeconds: number; at: number } | undefined, now: { cpuSeconds: number; at: number }): number {
  const seconds = previous ? (now.at - previous.at) / 1000 : 0;
  return previous && seconds > 0 ? Math.max(0, ((now.cpuSeconds - previous.cpuSeconds) / seconds) * 100) : 0;
}

/** What the student is told when their kernel was stopped for using too much memory. */
export function memoryLimitNotice(used: TreeUsage, limitMb: number): string {
  const usedMb = Math.round(used.memoryBytes / 2 ** 20);
  return (
    `A kernel of yours was stopped: your server used ${usedMb} MiB of memory, more than the ${limitMb} MiB each student may use. ` +
    'Its variables are lost; run the notebook again, with less data at once (for example a sample of it).'
  );
}
