/**
 * `lectern start` as a teacher runs it: a real child process, on loopback, with students' servers'
 * origins on ports the system chooses.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from './hub.js';

export const LECTERN_CLI = join(projectRoot(), 'dist/server/cli/main.js');
const START_TIMEOUT_MS = 120_000;

export interface RunningCli {
  child: ChildProcess;
  /** `http://127.0.0.1:PORT`, from the banner. */
  origin: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

export interface CliOptions {
  /** More environment variables. */
  env?: NodeJS.ProcessEnv;
  /** Start it under `ulimit -n` of this many open files (soft and hard). */
  fileLimit?: number;
}

/** Starts `lectern start ARGS` (port 0 unless ARGS name one) and waits until it prints where it runs. */
export async function startCli(args: string[], options: CliOptions = {}): Promise<RunningCli> {
  const command = [LECTERN_CLI, 'start', '--ip', '127.0.0.1', ...(args.includes('--port') ? [] : ['--port', '0']), ...args];
  const env = { ...process.env, LECTERN_CONFIG: '', LECTERN_SERVER_PORTS: '0', ...options.env };
  const stdio: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe'];
  // The shell sets the limit, then becomes node (exec), so the child's PID is the hub's.
  const child =
    options.fileLimit === undefined
      ? spawn(process.execPath, command, { env, stdio })
      : spawn('/bin/sh', ['-c', `ulimit -n ${options.fileLimit} && exec "$0" "$@"`, process.execPath, ...command], { env, stdio });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const origin = await new Promise<string>((resolve, reject) => {
    // Generous: a loaded machine may take long; a hub that is not up by then is not coming.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`lectern start did not come up within ${START_TIMEOUT_MS / 1000} s:\n${stdout}\n${stderr}`));
    }, START_TIMEOUT_MS);
    const check = () => {
      const match = /Teacher dashboard: (http:\/\/[\d.:]+)\//.exec(stdout);
      if (match?.[1] && stdout.includes('Press Ctrl-C')) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => reject(new Error(`lectern start exited with ${code}:\n${stderr}`)));
  });
  return { child, origin, stdout: () => stdout, stderr: () => stderr, exited };
}
