import assert from 'node:assert/strict';
import type os from 'node:os';
import { describe, it } from 'node:test';
import { classifyInterface, lanAddresses } from '../../../server/lan/addresses.js';

type Interfaces = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

function v4(address: string, internal = false): os.NetworkInterfaceInfo {
  return { address, netmask: '255.255.255.0', family: 'IPv4', mac: '00:11:22:33:44:55', internal, cidr: `${address}/24` };
}
function v6(address: string, internal = false): os.NetworkInterfaceInfo {
  return { address, netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '00:11:22:33:44:55', internal, cidr: `${address}/64`, scopeid: 0 };
}

/** Shapes of os.networkInterfaces() as seen on a teacher's laptop on each OS. */
const LINUX: Interfaces = {
  lo: [v4('127.0.0.1', true), v6('::1', true)],
  enp0s31f6: [v4('10.0.0.5'), v6('fe80::1234:5678:9abc:def0')],
  wlp2s0: [v4('192.168.1.20'), v6('fd00::20'), v6('fe80::aaaa')],
  docker0: [v4('172.17.0.1')],
  'br-3f2a1b9c8d7e': [v4('172.18.0.1')],
  veth1a2b3c: [v6('fe80::bbbb')],
  virbr0: [v4('192.168.122.1')],
  wg0: [v4('10.8.0.2')],
  tun0: [v4('10.9.0.2')],
};

const MACOS: Interfaces = {
  lo0: [v4('127.0.0.1', true), v6('::1', true), v6('fe80::1', true)],
  en0: [v6('fe80::10:abcd'), v4('192.168.1.30'), v6('2001:db8::30')],
  en5: [v4('10.0.0.30')],
  awdl0: [v6('fe80::dddd')],
  llw0: [v6('fe80::eeee')],
  utun0: [v6('fe80::ffff')],
  utun3: [v4('100.64.0.3')],
  bridge100: [v4('192.168.2.1')],
  vmnet8: [v4('172.16.5.1')],
};

const WINDOWS: Interfaces = {
  'Wi-Fi': [v6('fe80::abcd:1'), v4('192.168.1.40')],
  Ethernet: [v4('10.0.0.40')],
  'Ethernet 2': [v4('169.254.10.20')],
  'vEthernet (WSL (Hyper-V firewall))': [v4('172.20.0.1')],
  'vEthernet (Default Switch)': [v4('172.21.0.1')],
  'VirtualBox Host-Only Network': [v4('192.168.56.1')],
  'OpenVPN Data Channel Offload': [v4('10.10.0.4')],
  'Loopback Pseudo-Interface 1': [v4('127.0.0.1', true), v6('::1', true)],
};

describe('classifyInterface', () => {
  it('recognises Linux names', () => {
    assert.equal(classifyInterface('wlan0'), 'wifi');
    assert.equal(classifyInterface('wlp2s0'), 'wifi');
    assert.equal(classifyInterface('wlx00c0ca123456'), 'wifi');
    assert.equal(classifyInterface('eth0'), 'ethernet');
    assert.equal(classifyInterface('enp0s31f6'), 'ethernet');
    assert.equal(classifyInterface('eno1'), 'ethernet');
    assert.equal(classifyInterface('ens33'), 'ethernet');
    assert.equal(classifyInterface('tun0'), 'vpn');
    assert.equal(classifyInterface('tap0'), 'vpn');
    assert.equal(classifyInterface('wg0'), 'vpn');
    assert.equal(classifyInterface('ppp0'), 'vpn');
    assert.equal(classifyInterface('tailscale0'), 'vpn');
    assert.equal(classifyInterface('br0'), 'other', 'a bridge to the real LAN is reachable');
    for (const hostOnly of ['docker0', 'br-3f2a1b9c8d7e', 'veth1a2b3c', 'virbr0', 'lxcbr0', 'vboxnet0']) {
      assert.equal(classifyInterface(hostOnly), null, hostOnly);
    }
  });

  it('recognises macOS names', () => {
    assert.equal(classifyInterface('en0'), 'wifi');
    assert.equal(classifyInterface('en5'), 'ethernet');
    assert.equal(classifyInterface('utun3'), 'vpn');
    assert.equal(classifyInterface('ipsec0'), 'vpn');
    for (const hostOnly of ['awdl0', 'llw0', 'bridge100', 'vmnet8', 'anpi0', 'ap1']) {
      assert.equal(classifyInterface(hostOnly), null, hostOnly);
    }
  });

  it('recognises Windows names', () => {
    assert.equal(classifyInterface('Wi-Fi'), 'wifi');
    assert.equal(classifyInterface('Wi-Fi 2'), 'wifi');
    assert.equal(classifyInterface('WLAN'), 'wifi');
    assert.equal(classifyInterface('Wireless Network Connection'), 'wifi');
    assert.equal(classifyInterface('Ethernet'), 'ethernet');
    assert.equal(classifyInterface('Ethernet 3'), 'ethernet');
    assert.equal(classifyInterface('Local Area Connection'), 'ethernet');
    assert.equal(classifyInterface('vEthernet (External Switch)'), 'ethernet');
    assert.equal(classifyInterface('OpenVPN Data Channel Offload'), 'vpn');
    assert.equal(classifyInterface('NordLynx'), 'vpn');
    assert.equal(classifyInterface('Tailscale'), 'vpn');
    assert.equal(classifyInterface('Bluetooth Network Connection'), 'other');
    for (const hostOnly of ['vEthernet (WSL)', 'vEthernet (Default Switch)', 'VirtualBox Host-Only Network #2', 'VMware Network Adapter VMnet8']) {
      assert.equal(classifyInterface(hostOnly), null, hostOnly);
    }
  });
});

describe('lanAddresses', () => {
  it('lists a Linux laptop: no loopback, link-local or container bridges; IPv4 first, VPN last', () => {
    assert.deepEqual(lanAddresses(LINUX), [
      { interfaceName: 'enp0s31f6', address: '10.0.0.5', family: 'IPv4', kind: 'ethernet' },
      { interfaceName: 'wlp2s0', address: '192.168.1.20', family: 'IPv4', kind: 'wifi' },
      { interfaceName: 'wg0', address: '10.8.0.2', family: 'IPv4', kind: 'vpn' },
      { interfaceName: 'tun0', address: '10.9.0.2', family: 'IPv4', kind: 'vpn' },
      { interfaceName: 'wlp2s0', address: 'fd00::20', family: 'IPv6', kind: 'wifi' },
    ]);
  });

  it('lists a MacBook', () => {
    assert.deepEqual(lanAddresses(MACOS), [
      { interfaceName: 'en0', address: '192.168.1.30', family: 'IPv4', kind: 'wifi' },
      { interfaceName: 'en5', address: '10.0.0.30', family: 'IPv4', kind: 'ethernet' },
      { interfaceName: 'utun3', address: '100.64.0.3', family: 'IPv4', kind: 'vpn' },
      { interfaceName: 'en0', address: '2001:db8::30', family: 'IPv6', kind: 'wifi' },
    ]);
  });

  it('lists a Windows laptop, self-assigned addresses after the real ones', () => {
    assert.deepEqual(lanAddresses(WINDOWS), [
      { interfaceName: 'Wi-Fi', address: '192.168.1.40', family: 'IPv4', kind: 'wifi' },
      { interfaceName: 'Ethernet', address: '10.0.0.40', family: 'IPv4', kind: 'ethernet' },
      { interfaceName: 'Ethernet 2', address: '169.254.10.20', family: 'IPv4', kind: 'ethernet' },
      { interfaceName: 'OpenVPN Data Channel Offload', address: '10.10.0.4', family: 'IPv4', kind: 'vpn' },
    ]);
  });

  it('is empty on a machine with no network', () => {
    assert.deepEqual(lanAddresses({ lo: [v4('127.0.0.1', true)] }), []);
    assert.deepEqual(lanAddresses({}), []);
  });

  it('reads this machine by default', () => {
    for (const entry of lanAddresses()) {
      assert.ok(entry.family === 'IPv4' || entry.family === 'IPv6');
      assert.ok(!entry.address.startsWith('127.') && entry.address !== '::1');
    }
  });
});
