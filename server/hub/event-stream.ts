/**
 * Sends events to one client as server-sent events (`data: <JSON>` blocks), for as long as it stays.
 *
 * A client that stops reading (a laptop lid closed, a tablet asleep) must not make the hub hold an
 * ever-growing queue for it: once more than `maxBufferedBytes` wait unsent, the client is dropped.
 * EventSource reconnects by itself when it wakes, and starts again from a fresh snapshot.
 * A comment line every `heartbeatMs` keeps idle connections from being closed by proxies and NATs,
 * and lets a browser notice a hub that went away.
 */
import type { ServerResponse } from 'node:http';

export interface EventStreamOptions {
  heartbeatMs: number;
  maxBufferedBytes: number;
  /** Called once if the client is dropped for not reading. */
  onDropped?: () => void;
}

/**
 * Answers `res` with an event stream fed by `subscribe`, which gets the function that sends one
 * event and returns the function that stops the feed. Everything is released when the client goes.
 */
export function streamEvents<Event>(
  res: ServerResponse,
  subscribe: (send: (event: Event) => void) => () => void,
  options: EventStreamOptions,
): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache' });
  let open = true;
  let unsubscribe = () => {};
  const heartbeat = setInterval(() => write(': heartbeat\n\n'), options.heartbeatMs);
  const close = () => {
    if (!open) return;
    open = false;
    clearInterval(heartbeat);
    unsubscribe();
  };
  function write(chunk: string): void {
    if (!open) return;
    // writableLength counts what the response and its socket still hold: what the client has not taken.
    if (res.writableLength > options.maxBufferedBytes) {
      close();
      options.onDropped?.();
      res.destroy();
      return;
    }
    res.write(chunk);
  }
  res.on('close', close);
  unsubscribe = subscribe((event) => write(`data: ${JSON.stringify(event)}\n\n`));
  // Dropped while the first events were sent, before there was a feed to stop: stop it now.
  if (!open) unsubscribe();
}
