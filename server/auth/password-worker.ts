/**
 * Runs bcrypt in a worker thread. bcryptjs is pure JavaScript and takes ~100 ms per hash: on the main
 * thread that would stall the in-process proxy, and with it every student's notebook, at each login.
 */
import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';

export type PasswordRequest =
  | { op: 'hash'; password: string; cost: number }
  | { op: 'verify'; password: string; hash: string };
export type PasswordJob = PasswordRequest & { id: number };

export type PasswordResult = { id: number; ok: true; value: string | boolean } | { id: number; ok: false; error: string };

parentPort?.on('message', (job: PasswordJob) => {
  const reply = (result: PasswordResult): void => parentPort?.postMessage(result);
  const work = job.op === 'hash' ? bcrypt.hash(job.password, job.cost) : bcrypt.compare(job.password, job.hash);
  work.then(
    (value) => reply({ id: job.id, ok: true, value }),
    (error: unknown) => reply({ id: job.id, ok: false, error: String(error) }),
  );
});
