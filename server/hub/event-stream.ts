/**
 * The hub's one writer of server-sent events (`data: <JSON>` blocks): the dashboard's live feed, a
 * server's start progress, a roster import's progress.
 *
 * A client that stops reading (a laptop lid closed, a tablet asleep) must not make the hub hold an
 * ever-growing queue for it: once more than `maxBufferedBytes` wait unsent, the client is dropped.
 * EventSource reconnects by itself when it wakes, and starts again from a fresh snapshot.
 * A comment line every `heartbeatMs` keeps idle connections from being closed by proxies and NATs,
 * and lets a browser notice a hub that went away.
 */
import type { ServerResponse } from 'node:http';

export interface EventStreamOptions {
  /** Default 15 s. */
  heartbeatMs?: number;
  /** Default 512 KiB: about a minute of a busy class's usage samples on the dashboard's feed. */
  maxBufferedBytes?: number;
  /** Called once if the client is dropped for not reading. */
  onDropped?: () => void;
  /** Called once when the stream ends, whoever ends it: the client going, a drop, or `end()`. */
  onClose?: () => void;
}

export interface EventStream<Event> {
  /** Sends one event; does nothing once the stream has ended. */
  send(event: Event): void;
  /** Ends the stream (its last event sent). */
  end(): void;
  readonly open: boolean;
}

const DEFAULT_HEARTBEAT_MS = 15_000;
const DEFAULT_MAX_BUFFERED_BYTES = 512 * 1024;

/** Answers `res` with an event stream, and returns what feeds and ends it. */
export function openEventStream<Event>(res: ServerResponse, options: EventStreamOptions = {}): EventStream<Event> {
  const maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  // As JupyterHub sends it: server-sent events are UTF-8 by definition.
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  // The client knows at once that the stream is open, before the first event.
  res.flushHeaders();
  let open = true;
  const heartbeat = setInterval(() => write(': heartbeat\n\n'), options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  const close = () => {
    if (!open) return;
    open = false;
    clearInterval(heartbeat);
    options.onClose?.();
  };
  function write(chunk: string): void {
    if (!open) return;
    // writableLength counts what the response and its socket still hold: what the client has not taken.
    if (res.writableLength > maxBufferedBytes) {
      close();
      options.onDropped?.();
      res.destroy();
      return;
    }
    res.write(chunk);
  }
  res.on('close', close);
  return {
    send: (event) => write(`data: ${JSON.stringify(event)}\n\n`),
    end: () => {
      if (!open) return;
      close();
      res.end();
    },
    get open() {
      return open;
    },
  };
}

/**
 * Answers `res` with an event stream fed by `subscribe`, which gets the function that sends one
 * event and returns the function that stops the feed. Everything is released when the client goes.
 */
export function streamEvents<Event>(res: ServerResponse, subscribe: (send: (event: Event) => void) => () => void, options: EventStreamOptions = {}): void {
  let unsubscribe = () => {};
  const stream = openEventStream<Event>(res, { ...options, onClose: () => unsubscribe() });
  unsubscribe = subscribe(stream.send);
  // Dropped while the first events were sent, before there was a feed to stop: stop it now.
  if (!stream.open) unsubscribe();
}
