/**
 * The URLs students type (or scan) to join: the hub's root on each address they can reach. The root,
 * not the login page, because the hub redirects there and a shorter URL is easier to copy off a
 * projector.
 */
import net from 'node:net';
import type { LanAddress, LanKind } from './addresses.js';

export interface JoinUrlOptions {
  /** The address the public listener is bound to (`network.ip`). */
  bindIp: string;
  /** The port it actually listens on: after `listen()`, so never 0. */
  port: number;
  /** `network.baseUrl`. */
  baseUrl: string;
  tls: boolean;
  /** This machine's LAN addresses, from `lanAddresses()`. */
  addresses: readonly LanAddress[];
}

export interface JoinUrl {
  address: string;
  url: string;
  /** `loopback` when only this machine can use the URL. */
  kind: LanKind | 'loopback';
}

/**
 * One URL per address students can reach: every LAN address for a wildcard bind (IPv4 ones only for
 * `0.0.0.0`, which does not accept IPv6), the bound address for a specific one, and a loopback URL
 * when the hub is kept to this machine. Empty when the hub listens on all interfaces but the machine
 * is on no network: there is nothing a student could type.
 */
export function joinUrls(options: JoinUrlOptions): JoinUrl[] {
  const { port, addresses } = options;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`joinUrls needs the port the listener is bound to, got ${port}`);
  }
  const bindIp = options.bindIp.trim().replace(/^\[(.*)\]$/, '$1');
  const url = (host: string): string => hubUrlAt(host, options);

  if (bindIp === '0.0.0.0' || bindIp === '::' || bindIp === '') {
    const reachable = bindIp === '0.0.0.0' ? addresses.filter((entry) => entry.family === 'IPv4') : addresses;
    return reachable.map((entry) => ({ address: entry.address, url: url(entry.address), kind: entry.kind }));
  }
  if (isLoopback(bindIp)) return [{ address: bindIp, url: url(bindIp), kind: 'loopback' }];
  const known = addresses.find((entry) => sameAddress(entry.address, bindIp));
  return [{ address: bindIp, url: url(bindIp), kind: known?.kind ?? 'other' }];
}

/** The hub's root at `host` (an address or a name such as `laptop.local`), with its port and base URL. */
export function hubUrlAt(host: string, { port, baseUrl, tls }: Pick<JoinUrlOptions, 'port' | 'baseUrl' | 'tls'>): string {
  const base = `/${baseUrl.replace(/^\/+/, '')}`.replace(/\/?$/, '/');
  const portPart = port === (tls ? 443 : 80) ? '' : `:${port}`;
  return `${tls ? 'https' : 'http'}://${formatHost(host)}${portPart}${base}`;
}

function formatHost(host: string): string {
  // A zone id's "%" must itself be percent-encoded inside a URL (RFC 6874).
  return net.isIPv6(host) ? `[${host.replace(/%/g, '%25')}]` : host;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (net.isIPv4(host) && host.startsWith('127.'));
}

function sameAddress(a: string, b: string): boolean {
  // IPv6 has many spellings of one address; compare a canonical form.
  const canonical = (address: string): string => {
    if (!net.isIPv6(address)) return address;
    try {
      return new URL(`http://[${address}]/`).hostname;
    } catch {
      return address.toLowerCase();
    }
  };
  return canonical(a) === canonical(b);
}
