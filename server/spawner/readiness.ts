/**
 * Waiting for a freshly started server to answer. As JupyterHub's `wait_for_http_server`: any
 * answer that is not a 5xx means "up" (the single-user server answers its prefix with a redirect);
 * a refused connection means "not yet".
 */
import { askServer } from '../net/ask-server.js';

const MAX_PROBE_INTERVAL_MS = 50;

export interface ReadinessOptions {
  timeoutMs: number;
  /** Stops waiting early (e.g. the process died): the promise rejects with this signal's reason. */
  signal?: AbortSignal;
}

/** Resolves with the response's `X-JupyterHub-Version` header (or null) once `url` answers below 500. */
export async function waitForHttpServer(url: string, options: ReadinessOptions): Promise<string | null> {
  const deadline = Date.now() + options.timeoutMs;
  // A refused connection on loopback costs next to nothing, and every interval of waiting is time
  // the student stares at the progress page: probe often (a 1 s cap added ~120 ms per start).
  let delay = 20;
  for (;;) {
    options.signal?.throwIfAborted();
    const answer = await probe(url, Math.max(100, Math.min(2000, deadline - Date.now())));
    if (answer && answer.status < 500) return answer.version;
    if (Date.now() + delay > deadline) {
      throw new Error(`the server did not answer at ${url} within ${Math.round(options.timeoutMs / 1000)} s`);
    }
    await sleep(delay, options.signal);
    delay = Math.min(delay * 2, MAX_PROBE_INTERVAL_MS);
  }
}

async function probe(url: string, timeoutMs: number): Promise<{ status: number; version: string | null } | null> {
  const answer = await askServer(url, { timeoutMs });
  if (answer === null) return null;
  const version = answer.headers['x-jupyterhub-version'];
  return { status: answer.status, version: typeof version === 'string' ? version : null };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    // The listener goes with the timer: a start probes many times on the same signal.
    const abort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', abort, { once: true });
  });
}
