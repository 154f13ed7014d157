import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LanAddress } from '../../../server/lan/addresses.js';
import { joinUrls } from '../../../server/lan/join-url.js';

const ADDRESSES: LanAddress[] = [
  { interfaceName: 'wlp2s0', address: '192.168.1.20', family: 'IPv4', kind: 'wifi' },
  { interfaceName: 'eth0', address: '10.0.0.5', family: 'IPv4', kind: 'ethernet' },
  { interfaceName: 'wlp2s0', address: 'fd00::20', family: 'IPv6', kind: 'wifi' },
];

const base = { port: 8000, baseUrl: '/', tls: false, addresses: ADDRESSES };

describe('joinUrls', () => {
  it('gives one URL per IPv4 LAN address when bound to 0.0.0.0', () => {
    assert.deepEqual(joinUrls({ ...base, bindIp: '0.0.0.0' }), [
      { address: '192.168.1.20', url: 'http://192.168.1.20:8000/', kind: 'wifi' },
      { address: '10.0.0.5', url: 'http://10.0.0.5:8000/', kind: 'ethernet' },
    ]);
  });

  it('adds IPv6 addresses, in brackets, when bound to ::', () => {
    assert.deepEqual(joinUrls({ ...base, bindIp: '::' }).map((entry) => entry.url), [
      'http://192.168.1.20:8000/',
      'http://10.0.0.5:8000/',
      'http://[fd00::20]:8000/',
    ]);
    assert.equal(joinUrls({ ...base, bindIp: '[::]' }).length, 3);
  });

  it('gives just the bound address when bound to a specific one', () => {
    assert.deepEqual(joinUrls({ ...base, bindIp: '10.0.0.5' }), [{ address: '10.0.0.5', url: 'http://10.0.0.5:8000/', kind: 'ethernet' }]);
    assert.deepEqual(joinUrls({ ...base, bindIp: 'FD00:0:0::20' }), [
      { address: 'FD00:0:0::20', url: 'http://[FD00:0:0::20]:8000/', kind: 'wifi' },
    ]);
    assert.deepEqual(joinUrls({ ...base, bindIp: '172.16.0.9' }), [{ address: '172.16.0.9', url: 'http://172.16.0.9:8000/', kind: 'other' }]);
  });

  it('gives only a loopback URL when the hub is kept to this machine', () => {
    assert.deepEqual(joinUrls({ ...base, bindIp: '127.0.0.1' }), [{ address: '127.0.0.1', url: 'http://127.0.0.1:8000/', kind: 'loopback' }]);
    assert.deepEqual(joinUrls({ ...base, bindIp: '::1' }), [{ address: '::1', url: 'http://[::1]:8000/', kind: 'loopback' }]);
    assert.deepEqual(joinUrls({ ...base, bindIp: 'localhost' }), [{ address: 'localhost', url: 'http://localhost:8000/', kind: 'loopback' }]);
  });

  it('leaves out the port when it is the scheme default', () => {
    assert.equal(joinUrls({ ...base, bindIp: '10.0.0.5', port: 80 })[0]?.url, 'http://10.0.0.5/');
    assert.equal(joinUrls({ ...base, bindIp: '10.0.0.5', port: 443, tls: true })[0]?.url, 'https://10.0.0.5/');
    assert.equal(joinUrls({ ...base, bindIp: '10.0.0.5', port: 443 })[0]?.url, 'http://10.0.0.5:443/');
    assert.equal(joinUrls({ ...base, bindIp: '10.0.0.5', port: 80, tls: true })[0]?.url, 'https://10.0.0.5:80/');
    assert.equal(joinUrls({ ...base, bindIp: '127.0.0.1', port: 80 })[0]?.url, 'http://127.0.0.1/');
  });

  it('uses https with TLS and includes the base URL', () => {
    assert.equal(joinUrls({ ...base, bindIp: '0.0.0.0', tls: true, baseUrl: '/class/' })[0]?.url, 'https://192.168.1.20:8000/class/');
    assert.equal(joinUrls({ ...base, bindIp: '0.0.0.0', baseUrl: 'class' })[0]?.url, 'http://192.168.1.20:8000/class/');
  });

  it('is empty when bound to all interfaces on a machine with no network', () => {
    assert.deepEqual(joinUrls({ ...base, bindIp: '0.0.0.0', addresses: [] }), []);
  });

  it('refuses a port that was not bound yet', () => {
    assert.throws(() => joinUrls({ ...base, bindIp: '0.0.0.0', port: 0 }), RangeError);
    assert.throws(() => joinUrls({ ...base, bindIp: '0.0.0.0', port: 70000 }), RangeError);
  });
});
