/**
 * Freeing the database's old exports once saving goes quiet.
 *
 * Every save exports the whole database into a new buffer (sql.js has no other way out), which is
 * garbage once it is on disk. V8 frees such a buffer only in a full collection, and it starts one
 * in an idle process only about 20 s into a quiet spell (its memory reducer). So a hub that had
 * just saved 100 accounts one by one kept 14 MiB of old exports resident for those 20 s: 92 MiB
 * RSS 10 s after going idle instead of 78 (bench/hub-memory.ts). Once saves have produced
 * `WORTH_COLLECTING_BYTES` and then paused for `QUIET_MS`, one full collection frees them: about
 * 15 ms with the hub's 18 MiB heap, during which the event loop (and so the proxy) waits, as it does
 * for the end of V8's own full collections. A class in full swing saves every few seconds (activity
 * timestamps), so that is about one collection a minute.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export const WORTH_COLLECTING_BYTES = 4 * 1024 * 1024;
export const QUIET_MS = 1000;

let exportedBytes = 0;
let quietTimer: NodeJS.Timeout | undefined;
let fullCollection: (() => void) | undefined;

/** Counts a finished save's export, and collects once saves go quiet with enough of them behind. */
export function exportWritten(bytes: number): void {
  exportedBytes += bytes;
  if (exportedBytes < WORTH_COLLECTING_BYTES) return;
  clearTimeout(quietTimer);
  quietTimer = setTimeout(() => {
    quietTimer = undefined;
    exportedBytes = 0;
    collect();
  }, QUIET_MS);
  // Garbage is no reason to keep the process alive.
  quietTimer.unref();
}

function collect(): void {
  if (fullCollection === undefined) {
    // Node keeps V8's `gc` behind a flag; a context made after setting it has the function.
    setFlagsFromString('--expose-gc');
    fullCollection = runInNewContext('gc') as () => void;
  }
  fullCollection();
}
