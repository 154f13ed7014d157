/**
 * Password hashing with bcrypt, off the event loop.
 *
 * bcrypt reads at most 72 bytes of a password and silently ignores the rest; we refuse such
 * passwords when they are set instead of truncating them, so two passwords that differ after byte 72
 * can never both be accepted.
 */
import { randomInt } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { PasswordJob, PasswordRequest, PasswordResult } from './password-worker.js';

/** bcrypt cost: OWASP's minimum for bcrypt; ~100 ms per hash here, so a class of 30 logs in within seconds. */
export const BCRYPT_COST = 10;
export const MAX_PASSWORD_BYTES = 72;

/** Why a password cannot be used, or null when it can. */
export function passwordProblem(password: string, minLength: number): string | null {
  if (password.length < minLength) return `Passwords must be at least ${minLength} characters long.`;
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
    return `Passwords can be at most ${MAX_PASSWORD_BYTES} bytes long (fewer characters for accented letters or emoji).`;
  }
  if (password.includes('\0')) return 'Passwords cannot contain a NUL character.';
  return null;
}

/**
 * How long a password worker may sit idle before it is stopped. Each one is a V8 isolate of its
 * own: two idle workers kept 16–17 MiB resident in an idle hub of 117–142 MiB (bench/hub-memory.ts).
 * Starting one again costs about 0.1 s of one core before its first hash, once per burst: students
 * logging in seconds apart keep the workers up, and opening the login page starts one (`prepare`).
 */
export const PASSWORD_WORKER_IDLE_MS = 5_000;

/** A job for the workers, with who waits for it; tried again once on another worker if its worker fails. */
interface Task {
  job: PasswordRequest;
  resolve: (value: string | boolean) => void;
  reject: (error: Error) => void;
  retried: boolean;
}

/**
 * A small pool of worker threads doing bcrypt, started on first use. Workers are unref'd while idle,
 * so an idle pool never keeps the process alive, and stopped once idle for `idleMs`.
 */
export class PasswordHasher {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Task & { worker: Worker }>();
  private readonly busy = new Map<Worker, number>();
  private readonly idleTimers = new Map<Worker, NodeJS.Timeout>();
  private nextId = 1;
  private closed = false;
  // A real hash of a random password, compared against when the user does not exist, so an unknown
  // name takes as long to refuse as a wrong password.
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly size = Math.max(1, Math.min(2, availableParallelism())),
    private readonly idleMs = PASSWORD_WORKER_IDLE_MS,
  ) {}

  hash(password: string): Promise<string> {
    return this.run({ op: 'hash', password, cost: BCRYPT_COST }) as Promise<string>;
  }

  /** True if `password` matches `hash`; with no hash (unknown user) it does equal work and says no. */
  async verify(password: string, hash: string | null | undefined): Promise<boolean> {
    // A password over bcrypt's limit can never have been set, so it is refused like an unknown user.
    if (!hash || Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
      this.dummyHash ??= this.hash(`dummy-${Math.random()}`);
      await this.run({ op: 'verify', password, hash: await this.dummyHash });
      return false;
    }
    return (await this.run({ op: 'verify', password, hash })) as boolean;
  }

  /**
   * Starts a worker ahead of a password about to be typed (a login page was opened), so that login
   * does not wait for one to start. Stopped again if left idle.
   */
  prepare(): void {
    if (this.closed || this.workers.length > 0) return;
    this.idle(this.addWorker());
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.idleTimers.values()) clearTimeout(timer);
    this.idleTimers.clear();
    await Promise.all(this.workers.map((worker) => worker.terminate()));
    this.workers.length = 0;
  }

  /** How many workers are running: for tests. */
  get running(): number {
    return this.workers.length;
  }

  private run(job: PasswordRequest): Promise<string | boolean> {
    return new Promise((resolve, reject) => this.post({ job, resolve, reject, retried: false }));
  }

  private post(task: Task): void {
    const id = this.nextId++;
    const worker = this.leastBusyWorker();
    this.busy.set(worker, (this.busy.get(worker) ?? 0) + 1);
    clearTimeout(this.idleTimers.get(worker));
    this.idleTimers.delete(worker);
    worker.ref();
    this.pending.set(id, { ...task, worker });
    worker.postMessage({ ...task.job, id } as PasswordJob);
  }

  /** An idle worker if there is one, else a new one while the pool has room, else the least busy. */
  private leastBusyWorker(): Worker {
    const idle = this.workers.find((worker) => (this.busy.get(worker) ?? 0) === 0);
    if (idle) return idle;
    if (this.workers.length < this.size) return this.addWorker();
    return this.workers.reduce((a, b) => ((this.busy.get(a) ?? 0) <= (this.busy.get(b) ?? 0) ? a : b));
  }

  private addWorker(): Worker {
    const worker = startWorker();
    worker.on('message', (result: PasswordResult) => this.settle(worker, result));
    // A worker that failed (one that could not start, at the process's file-descriptor limit) is
    // dropped, and its jobs go to another; the next job starts a new worker in its place.
    worker.on('error', (error) => this.drop(worker, error));
    worker.on('exit', (code) => this.drop(worker, new Error(`a password worker stopped (exit code ${code})`)));
    this.workers.push(worker);
    this.busy.set(worker, 0);
    return worker;
  }

  private drop(worker: Worker, error: Error): void {
    const index = this.workers.indexOf(worker);
    if (index === -1) return;
    this.workers.splice(index, 1);
    this.busy.delete(worker);
    clearTimeout(this.idleTimers.get(worker));
    this.idleTimers.delete(worker);
    for (const [id, task] of this.pending) {
      if (task.worker !== worker) continue;
      this.pending.delete(id);
      // Once more, on another worker: a login should not fail for a worker that could not start.
      if (task.retried || this.closed) task.reject(error);
      else this.post({ job: task.job, resolve: task.resolve, reject: task.reject, retried: true });
    }
  }

  /** Stops an idle worker; taken out of the pool first, so no job can reach it while it stops. */
  private retire(worker: Worker): void {
    this.idleTimers.delete(worker);
    if (this.busy.get(worker) !== 0) return;
    const index = this.workers.indexOf(worker);
    if (index === -1) return;
    this.workers.splice(index, 1);
    this.busy.delete(worker);
    void worker.terminate();
  }

  /** A worker with nothing to do: it no longer keeps the process alive, and stops after `idleMs`. */
  private idle(worker: Worker): void {
    worker.unref();
    this.idleTimers.set(worker, setTimeout(() => this.retire(worker), this.idleMs).unref());
  }

  private settle(worker: Worker, result: PasswordResult): void {
    const remaining = (this.busy.get(worker) ?? 1) - 1;
    this.busy.set(worker, remaining);
    if (remaining === 0) this.idle(worker);
    const waiter = this.pending.get(result.id);
    this.pending.delete(result.id);
    if (!waiter) return;
    if (result.ok) waiter.resolve(result.value);
    else waiter.reject(new Error(result.error));
  }
}

const WORDS = [
  'amber', 'apple', 'arrow', 'basil', 'beach', 'berry', 'birch', 'bison', 'blaze', 'brook', 'cabin', 'camel',
  'cedar', 'chalk', 'cider', 'cloud', 'clover', 'coral', 'crane', 'delta', 'dune', 'eagle', 'ember', 'fable',
  'fern', 'field', 'flint', 'frost', 'gecko', 'glade', 'grape', 'harbor', 'hazel', 'heron', 'honey', 'island',
  'jade', 'kayak', 'kiwi', 'lemon', 'lilac', 'lotus', 'maple', 'meadow', 'mango', 'mint', 'moss', 'nectar',
  'noble', 'oasis', 'olive', 'orbit', 'otter', 'panda', 'pearl', 'pepper', 'pine', 'planet', 'plum', 'prism',
  'quartz', 'raven', 'reef', 'river', 'robin', 'saffron', 'sage', 'shell', 'sierra', 'solar', 'spruce', 'stone',
  'storm', 'swift', 'tango', 'thyme', 'tiger', 'topaz', 'tulip', 'valley', 'velvet', 'violet', 'walnut', 'willow',
  'zebra', 'zinc',
];

/**
 * A password a student can read off a card and type on a tablet: three words and a number
 * (about 2^30 combinations, plenty behind login throttling, and far easier than random characters),
 * with more words when the configured minimum length asks for a longer one.
 */
export function generatePassword(minLength = 0, random: (max: number) => number = randomInt): string {
  // Each word once: "pearl-pearl-zinc" reads like a typo.
  const unused = [...WORDS];
  const take = (index: number): string => unused.splice(index, 1)[0] as string;
  const words = [take(random(unused.length)), take(random(unused.length)), take(random(unused.length))];
  let number = String(10 + random(90));
  const length = (): number => [...words, number].join('-').length;
  while (length() < minLength) {
    // Words while they fit under bcrypt's limit, then digits to reach the minimum exactly.
    const index = random(unused.length);
    if (length() + (unused[index] as string).length + 1 <= MAX_PASSWORD_BYTES) words.push(take(index));
    else number += String(random(10));
  }
  return [...words, number].join('-');
}

/**
 * A hashing worker, from the compiled code; or, when this module runs from source under tsx (the
 * fast test loop, `npm run test:unit`), from the TypeScript, after registering tsx in the worker,
 * which does not inherit it.
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./password-worker.js', import.meta.url));
  const source = JSON.stringify(new URL('./password-worker.ts', import.meta.url).href);
  return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${source}); })`, { eval: true });
}
