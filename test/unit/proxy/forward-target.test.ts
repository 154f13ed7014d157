import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseForwardTarget } from '../../../server/proxy/forward-target.js';

describe('parseForwardTarget', () => {
  it('parses http, https, ws and wss targets', () => {
    const plain = parseForwardTarget('http://127.0.0.1:9001');
    assert.deepEqual([plain.secure, plain.hostname, plain.port, plain.basePath, plain.hostHeader], [false, '127.0.0.1', 9001, '/', '127.0.0.1:9001']);
    const tls = parseForwardTarget('https://example.org/base?x=1');
    assert.deepEqual([tls.secure, tls.port, tls.basePath, tls.hostHeader], [true, 443, '/base?x=1', 'example.org']);
    assert.equal(parseForwardTarget('wss://h').secure, true);
    assert.equal(parseForwardTarget('ws://h').port, 80);
  });

  it('removes IPv6 brackets for connecting but keeps them in Host', () => {
    const target = parseForwardTarget('http://[::1]:8888/');
    assert.equal(target.hostname, '::1');
    assert.equal(target.hostHeader, '[::1]:8888');
  });

  it('reads a UNIX socket path from http+unix targets', () => {
    const target = parseForwardTarget('http+unix://%2Ftmp%2Fjupyter.sock/base');
    assert.equal(target.socketPath, '/tmp/jupyter.sock');
    assert.equal(target.basePath, '/base');
    assert.equal(target.wsTarget.socketPath, '/tmp/jupyter.sock');
  });

  it('refuses other schemes', () => {
    assert.throws(() => parseForwardTarget('ftp://h/'), TypeError);
  });
});
