import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ConnectionGuard, connectionLimits, fileDescriptorLimit, isLoopback } from '../../../server/proxy/connection-guard.js';
import { silentLogger } from '../../../server/logging/logger.js';

describe('connection caps from the file-descriptor limit', () => {
  it('keeps descriptors back, and a share of the connections for the hub’s own pages', () => {
    assert.deepEqual(connectionLimits(256), { descriptors: 256, connections: 112, forServers: 84, websockets: 63, perClient: 16 });
    const large = connectionLimits(65_536);
    assert.ok(large.connections * 2 < 65_536 && large.forServers < large.connections && large.websockets < large.forServers);
    assert.equal(connectionLimits(Infinity).connections, Infinity);
  });

  it('reads this process’s own soft limit', () => {
    const shell = Number(execFileSync('/bin/sh', ['-c', 'ulimit -Sn'], { encoding: 'utf8' }).trim());
    assert.equal(fileDescriptorLimit(), Number.isInteger(shell) ? shell : Infinity);
  });

  it('knows loopback addresses, IPv4-mapped included', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(address), true, address);
    for (const address of ['192.168.1.20', '::ffff:10.0.0.5', 'fe80::1', undefined]) assert.equal(isLoopback(address), false, String(address));
  });
});

describe('the connection guard', () => {
  let server: Server;
  let port: number;
  const guard = new ConnectionGuard({ descriptors: 100, connections: 4, forServers: 3, websockets: 1, perClient: 16 }, silentLogger);
  const sockets: Socket[] = [];
  let held = 0;

  before(async () => {
    // `/hold` is never answered: a connection busy with a request, which is not idle.
    server = createServer({ keepAlive: true }, (req, res) => {
      if (req.url === '/hold') held++;
      else res.end('ok');
    });
    guard.attach(server, 'hub');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Opens a connection and sends one keep-alive request; resolves with whether it was answered. */
  const ask = (path = '/'): Promise<boolean> =>
    new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      sockets.push(socket);
      socket.once('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`));
      socket.once('data', () => resolve(true));
      socket.once('close', () => resolve(false));
      socket.once('error', () => resolve(false));
    });

  it('makes room for a new connection by closing idle keep-alive ones', async () => {
    for (let i = 0; i < 4; i++) assert.equal(await ask(), true);
    assert.equal(await ask(), true, 'the fifth is answered: an idle one was closed for it');
  });

  it('refuses a connection when none is idle, lets requests through to servers only within their share, and counts websockets', async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    void Promise.all([ask('/hold'), ask('/hold'), ask('/hold'), ask('/hold')]);
    while (held < 4) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(guard.mayForward(), false, 'four connections are open, more than the servers’ three');
    assert.equal(await ask(), false, 'a fifth is refused: none of the four is idle');
    const upgraded = sockets[0] as Socket;
    assert.equal(guard.admitWebsocket(upgraded), true);
    assert.equal(guard.admitWebsocket(sockets[1] as Socket), false, 'one websocket at most');
    upgraded.destroy();
    await new Promise((resolve) => upgraded.once('close', resolve));
    assert.equal(guard.admitWebsocket(sockets[1] as Socket), true, 'a closed websocket makes room');
  });
});
