/**
 * Which address students should use to join, among this machine's. A laptop on Wi-Fi with a VPN
 * and a docking station has several, and only the teacher knows which network the class is on: the
 * teacher's choice is kept in the settings table, so the dashboard, the tray and `lectern start`
 * show that one first, lesson after lesson. Until the teacher chooses, or while the machine does not
 * have the chosen address (another classroom, another network), the best guess is the first address
 * (see `lanAddresses()` for the order).
 */
import net from 'node:net';
import type { LecternConfig } from '../config/schema.js';
import { lanAddresses, type LanAddress } from '../lan/addresses.js';
import { hubUrlAt, joinUrls, type JoinUrl } from '../lan/join-url.js';
import type { Database } from '../store/database.js';
import type { SettingsRepository } from '../store/settings.js';

const PREFERRED_SETTING = 'joinUrl.preferredAddress';

export interface JoinAddress extends JoinUrl {
  /** The network interface the address belongs to; null for loopback or an address the OS does not list. */
  interfaceName: string | null;
  preferred: boolean;
}

export interface JoinAddressList {
  /** One per address students could reach the hub at, in Lectern's order of likelihood. */
  addresses: JoinAddress[];
  /** The one to show students; null when there is none (no network, hub on all interfaces). */
  preferred: JoinAddress | null;
  /**
   * The hub at this machine's multicast DNS name (`http://laptop.local:8000/`), which stays the
   * same when the network gives the machine another address; null unless the name is announced and
   * students can reach the hub over the network.
   */
  nameUrl: string | null;
}

export class UnknownAddressError extends Error {
  override readonly name = 'UnknownAddressError';
}

export interface JoinAddressesDeps {
  network: Pick<LecternConfig['network'], 'ip' | 'baseUrl' | 'tls'>;
  /** The public listener's port, once bound. */
  port: () => number;
  settings: SettingsRepository;
  db: Database;
  /** This machine's LAN addresses now (they change as the laptop moves between networks). */
  interfaces?: () => LanAddress[];
}

export class JoinAddresses {
  private readonly interfaces: () => LanAddress[];
  /** The `.local` name announced for this machine (see lan/mdns.ts), once it is. */
  private announcedName: string | null = null;

  constructor(private readonly deps: JoinAddressesDeps) {
    this.interfaces = deps.interfaces ?? (() => lanAddresses());
  }

  list(): JoinAddressList {
    const { network } = this.deps;
    const interfaces = this.interfaces();
    const urls = joinUrls({ bindIp: network.ip, port: this.deps.port(), baseUrl: network.baseUrl, tls: network.tls !== undefined, addresses: interfaces });
    const chosen = this.deps.settings.get<string>(PREFERRED_SETTING);
    const preferredAddress = urls.find((url) => url.address === chosen)?.address ?? urls[0]?.address;
    const addresses = urls.map((url) => ({
      ...url,
      interfaceName: interfaces.find((entry) => entry.address === url.address)?.interfaceName ?? null,
      preferred: url.address === preferredAddress,
    }));
    const reachable = addresses.some((entry) => entry.kind !== 'loopback');
    const nameUrl = this.announcedName && reachable ? hubUrlAt(this.announcedName, { port: this.deps.port(), baseUrl: network.baseUrl, tls: network.tls !== undefined }) : null;
    return { addresses, preferred: addresses.find((entry) => entry.preferred) ?? null, nameUrl };
  }

  /** The machine's IPv4 addresses students may reach the hub at: what its `.local` name stands for. */
  lanIPv4(): string[] {
    return this.list()
      .addresses.filter((entry) => entry.kind !== 'loopback' && net.isIPv4(entry.address))
      .map((entry) => entry.address);
  }

  /** Records the `.local` name announced for this machine (null: none is). */
  setAnnouncedName(name: string | null): void {
    this.announcedName = name;
  }

  /** Remembers `address` as the one to show students; it must be one of `list()`'s. */
  async prefer(address: string): Promise<JoinAddressList> {
    const known = this.list().addresses.map((entry) => entry.address);
    if (!known.includes(address)) {
      throw new UnknownAddressError(
        `${address} is not an address students can reach this hub at. Choose one of: ${known.join(', ') || 'none (this machine is on no network)'}.`,
      );
    }
    this.deps.settings.set(PREFERRED_SETTING, address);
    await this.deps.db.commit();
    return this.list();
  }
}
