/**
 * The addresses students could reach this machine at, for the join URL and QR code.
 *
 * Interface names are all we have to tell Wi-Fi from a VPN, and every OS names them differently, so
 * the kind is a guess: it orders and labels addresses for the teacher, it never hides a reachable one.
 * Virtual bridges for containers and VMs are dropped: students are never on those networks.
 */
import os from 'node:os';

export type LanKind = 'wifi' | 'ethernet' | 'vpn' | 'other';

export interface LanAddress {
  interfaceName: string;
  address: string;
  family: 'IPv4' | 'IPv6';
  kind: LanKind;
}

/** Host-only and container networks: reachable from this machine only. Checked before the kinds. */
const HOST_ONLY = [
  /^docker/i, // Docker's default bridge
  /^br-[0-9a-f]/i, // Docker user-defined networks
  /^veth/, // container ends of veth pairs (case-sensitive: Windows has "vEthernet")
  /^virbr/i, // libvirt
  /^lxc(br)?/i,
  /^lxdbr/i,
  /^podman/i,
  /^cni/i,
  /^flannel/i,
  /^cali/i,
  /^vmnet/i, // VMware host-only / NAT
  /^vboxnet/i, // VirtualBox host-only
  /^bridge\d+$/i, // macOS Internet Sharing and VM bridges
  /^(awdl|llw|anpi|ap)\d+$/i, // macOS AirDrop, low-latency WLAN, Apple internal
  /^vEthernet \((WSL|Default Switch)/i, // Hyper-V NAT switches on Windows
  /VirtualBox Host-Only/i,
  /VMware Network Adapter/i,
];

const KINDS: readonly [LanKind, RegExp][] = [
  // VPN first: "OpenVPN Wi-Fi bridge" style names are tunnels whatever else they mention.
  ['vpn', /^(tun|tap|utun|wg|ppp|ipsec|tailscale|zt|nordlynx|proton)|vpn|wireguard|tailscale|zerotier/i],
  ['wifi', /^wl|wi-?fi|wlan|wireless|airport/i],
  // macOS names every port enN; en0 is the built-in Wi-Fi on every current MacBook.
  ['wifi', /^en0$/],
  ['ethernet', /^(eth\d|en[opsx]|en\d|em\d)|ethernet|local area connection/i],
];

/** The kind of network an interface name suggests, or `null` for host-only networks students cannot reach. */
export function classifyInterface(name: string): LanKind | null {
  if (HOST_ONLY.some((pattern) => pattern.test(name))) return null;
  return KINDS.find(([, pattern]) => pattern.test(name))?.[0] ?? 'other';
}

/**
 * This machine's LAN addresses: no loopback, no IPv6 link-local (it needs a zone id no phone
 * browser accepts), no container or VM bridges. IPv4 first, since that is what people can type; VPN
 * and self-assigned (169.254.x.x, no DHCP answer) addresses last within a family, since students are
 * rarely on those; otherwise in the order the OS lists them.
 */
export function lanAddresses(
  interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces(),
): LanAddress[] {
  const found: LanAddress[] = [];
  for (const [interfaceName, infos] of Object.entries(interfaces)) {
    const kind = classifyInterface(interfaceName);
    if (kind === null || !infos) continue;
    for (const info of infos) {
      if (info.internal) continue;
      if (info.family === 'IPv6' && isLinkLocalIPv6(info.address)) continue;
      if (info.family === 'IPv4' && info.address.startsWith('127.')) continue;
      found.push({ interfaceName, address: info.address, family: info.family, kind });
    }
  }
  const unlikely = (entry: LanAddress): boolean => entry.kind === 'vpn' || entry.address.startsWith('169.254.');
  const rank = (entry: LanAddress): number => (entry.family === 'IPv4' ? 0 : 2) + (unlikely(entry) ? 1 : 0);
  // Array.prototype.sort is stable, so the OS order survives within a rank.
  return found.sort((a, b) => rank(a) - rank(b));
}

/** fe80::/10. */
function isLinkLocalIPv6(address: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(address);
}
