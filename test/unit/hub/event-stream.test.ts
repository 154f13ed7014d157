import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { streamEvents } from '../../../server/hub/event-stream.js';

/** A feed the test pushes events into, counting subscriptions. */
class Feed {
  readonly senders = new Set<(event: unknown) => void>();
  subscribe = (send: (event: unknown) => void) => {
    send({ type: 'snapshot' });
    this.senders.add(send);
    return () => this.senders.delete(send);
  };
  push(event: unknown): void {
    for (const send of this.senders) send(event);
  }
}

describe('streamEvents', () => {
  let server: Server;
  let feed: Feed;
  let dropped = 0;

  before(async () => {
    feed = new Feed();
    server = createServer((_req, res) =>
      streamEvents(res, feed.subscribe, { heartbeatMs: 50, maxBufferedBytes: 256 * 1024, onDropped: () => dropped++ }),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const url = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  it('sends events as data blocks, with heartbeat comments, and unsubscribes when the client goes', async () => {
    const controller = new AbortController();
    const response = await fetch(url(), { signal: controller.signal });
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    feed.push({ type: 'users' });
    while (!text.includes(': heartbeat')) text += new TextDecoder().decode((await reader.read()).value);
    assert.ok(text.startsWith('data: {"type":"snapshot"}\n\ndata: {"type":"users"}\n\n'), text);
    assert.equal(feed.senders.size, 1);
    controller.abort();
    await reader.cancel().catch(() => undefined);
    while (feed.senders.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
  });

  it('drops a client that stops reading instead of queueing for it without end', async () => {
    const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET / HTTP/1.1\r\nHost: test\r\n\r\n');
    socket.pause(); // never reads: the kernel's buffers fill, then the response's own
    while (feed.senders.size === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const big = { type: 'usage', padding: 'x'.repeat(64 * 1024) };
    // Far more than any socket buffer: unless the stream drops the client, this all waits in memory.
    for (let i = 0; i < 2000 && feed.senders.size > 0; i++) {
      feed.push(big);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(feed.senders.size, 0, 'the slow client was unsubscribed');
    assert.equal(dropped, 1);
    socket.destroy();
  });
});
