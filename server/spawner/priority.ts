/**
 * Students' servers and their kernels run at "below normal" CPU priority, so the hub's pages, logins
 * and proxy get the CPU first while a class starts its servers.
 *
 * A server's nice value (nice 10 on Linux and macOS, BELOW_NORMAL_PRIORITY_CLASS on Windows) is
 * inherited by everything it starts. On Linux with autogroup scheduling (Ubuntu's and Debian's
 * desktops) that is not enough: CPU is shared between sessions first, and nice counts only within
 * one. Every server is a session of its own, and Jupyter starts each kernel in a new session too, so
 * each session's own nice (`/proc/PID/autogroup`) is lowered as well: the server's at its start,
 * a kernel's at the next usage sample (every few seconds), where it is found in the server's tree.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { constants, setPriority } from 'node:os';
import type { Logger } from '../logging/logger.js';

/** The nice value of students' servers (10 on Linux and macOS). */
export const BELOW_NORMAL = constants.priority.PRIORITY_BELOW_NORMAL;

/** Lowers a process (a server just started), and on Linux its session, to below-normal priority. */
export function lowerPriority(pid: number, log: Logger): void {
  try {
    setPriority(pid, BELOW_NORMAL);
    if (process.platform === 'linux' && existsSync(autogroupFile(pid))) writeFileSync(autogroupFile(pid), String(BELOW_NORMAL));
  } catch (error) {
    log.warn('could not lower a server’s CPU priority: the hub may answer slowly while servers start', { pid, error: (error as Error).message });
  }
}

/**
 * Lowers the sessions of `pids` (a student's server and its kernels) that are not lowered yet.
 * Linux with autogroup scheduling only; elsewhere, and for processes gone meanwhile, nothing.
 */
export async function lowerSessions(pids: readonly number[]): Promise<void> {
  if (process.platform !== 'linux') return;
  await Promise.all(
    pids.map(async (pid) => {
      // "/autogroup-123 nice 0"; the file is missing without autogroup scheduling.
      const group = await readFile(autogroupFile(pid), 'utf8').catch(() => null);
      if (group === null || / nice (\d+)$/m.exec(group.trim())?.[1] === String(BELOW_NORMAL)) return;
      await writeFile(autogroupFile(pid), String(BELOW_NORMAL)).catch(() => undefined);
    }),
  );
}

function autogroupFile(pid: number): string {
  return `/proc/${pid}/autogroup`;
}
