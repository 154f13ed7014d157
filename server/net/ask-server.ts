/**
 * The hub's one way to ask a Jupyter server something over loopback HTTP: whether it is up yet,
 * what its kernels are doing, whether a server adopted from an earlier run still lives, and to shut
 * down. It never throws: the answer, or null when none came (refused, reset, or nothing within
 * `timeoutMs`). No connection is kept for later: servers come and go, and a pooled socket to one
 * that stopped would only fail the next question.
 */
import { request, type IncomingHttpHeaders } from 'node:http';

export interface ServerAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body, when asked for (`readBody`); '' otherwise. */
  body: string;
}

export interface AskOptions {
  method?: 'GET' | 'POST';
  /** Sent as `Authorization: token …`. */
  token?: string;
  timeoutMs: number;
  /** Read the body (as UTF-8, at most `MAX_BODY_BYTES`); otherwise it is discarded. */
  readBody?: boolean;
}

/** More than any kernel list or status a server sends: a body beyond it is cut and the answer is null. */
const MAX_BODY_BYTES = 4 * 2 ** 20;

export function askServer(url: string, options: AskOptions): Promise<ServerAnswer | null> {
  return new Promise((resolve) => {
    const headers = options.token ? { Authorization: `token ${options.token}` } : {};
    const req = request(url, { method: options.method ?? 'GET', headers, timeout: options.timeoutMs, agent: false }, (res) => {
      const answer = { status: res.statusCode ?? 599, headers: res.headers };
      if (!options.readBody) {
        res.resume();
        resolve({ ...answer, body: '' });
        return;
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > MAX_BODY_BYTES) req.destroy();
      });
      res.on('end', () => resolve({ ...answer, body }));
      res.on('error', () => resolve(null));
      res.on('close', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}
