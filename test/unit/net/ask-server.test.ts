/** The hub's questions to a Jupyter server: the answer, its body when asked for, and null when none comes. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { askServer } from '../../../server/net/ask-server.js';

describe('asking a server', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/silent') return; // never answers
      res.writeHead(req.headers.authorization === 'token t0k3n' ? 200 : 403, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ method: req.method }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('answers with the status and headers, and the body only when asked for', async () => {
    const plain = await askServer(`${base}/api`, { timeoutMs: 2000 });
    assert.equal(plain?.status, 403);
    assert.equal(plain?.body, '');
    const read = await askServer(`${base}/api/shutdown`, { method: 'POST', token: 't0k3n', timeoutMs: 2000, readBody: true });
    assert.equal(read?.status, 200);
    assert.equal(read?.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(read?.body ?? ''), { method: 'POST' });
  });

  it('is null when nothing answers: a server that is gone, or one that says nothing in time', async () => {
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const port = (gone.address() as AddressInfo).port;
    await new Promise((resolve) => gone.close(resolve));
    assert.equal(await askServer(`http://127.0.0.1:${port}/`, { timeoutMs: 2000 }), null);
    assert.equal(await askServer(`${base}/silent`, { timeoutMs: 100 }), null);
  });
});
