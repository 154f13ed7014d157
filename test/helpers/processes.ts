/** Process checks shared by the integration tests. */

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid the hub logged when it started `user`'s server. */
export function serverPid(logText: string, user: string): number {
  const pid = Number(new RegExp(`started server for ${user} pid=(\\d+)`).exec(logText)?.[1]);
  if (!(pid > 0)) throw new Error(`no server start logged for ${user}`);
  return pid;
}
