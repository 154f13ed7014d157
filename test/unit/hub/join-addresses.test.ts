import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { JoinAddresses, UnknownAddressError } from '../../../server/hub/join-addresses.js';
import type { LanAddress } from '../../../server/lan/addresses.js';
import { Database } from '../../../server/store/database.js';
import { SettingsRepository } from '../../../server/store/settings.js';

const WIFI: LanAddress = { interfaceName: 'wlp2s0', address: '192.168.1.20', family: 'IPv4', kind: 'wifi' };
const DOCK: LanAddress = { interfaceName: 'enx00e04c', address: '10.0.0.5', family: 'IPv4', kind: 'ethernet' };

describe('JoinAddresses', () => {
  let root: string;
  let file: string;
  let db: Database;
  let interfaces: LanAddress[];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'lectern-join-'));
    file = join(root, 'lectern.sqlite');
    db = await Database.open(file);
  });
  after(async () => {
    await db.close();
    await rm(root, { recursive: true, force: true });
  });

  const joinAddresses = (database: Database, ip = '0.0.0.0') =>
    new JoinAddresses({
      network: { ip, baseUrl: '/', tls: undefined },
      port: () => 8000,
      settings: new SettingsRepository(database),
      db: database,
      interfaces: () => interfaces,
    });

  it('offers the computer’s .local name once it is announced, and only where students can reach the hub', () => {
    interfaces = [WIFI, DOCK];
    const list = joinAddresses(db);
    assert.equal(list.list().nameUrl, null, 'nothing announced yet');
    list.setAnnouncedName('zoes-laptop.local');
    assert.equal(list.list().nameUrl, 'http://zoes-laptop.local:8000/');
    assert.deepEqual(list.lanIPv4(), ['192.168.1.20', '10.0.0.5'], 'what the name stands for');
    const local = joinAddresses(db, '127.0.0.1');
    local.setAnnouncedName('zoes-laptop.local');
    assert.equal(local.list().nameUrl, null, 'a hub kept to this computer has no address on the network');
    assert.deepEqual(local.lanIPv4(), []);
  });

  it('prefers the first address until the teacher chooses', () => {
    interfaces = [WIFI, DOCK];
    const list = joinAddresses(db).list();
    assert.deepEqual(list.addresses, [
      { address: '192.168.1.20', url: 'http://192.168.1.20:8000/', kind: 'wifi', interfaceName: 'wlp2s0', preferred: true },
      { address: '10.0.0.5', url: 'http://10.0.0.5:8000/', kind: 'ethernet', interfaceName: 'enx00e04c', preferred: false },
    ]);
    assert.equal(list.preferred?.address, '192.168.1.20');
  });

  it('remembers the teacher’s choice on disk, and falls back while the machine lacks that address', async () => {
    interfaces = [WIFI, DOCK];
    const chosen = await joinAddresses(db).prefer('10.0.0.5');
    assert.equal(chosen.preferred?.url, 'http://10.0.0.5:8000/');

    const reopened = await Database.open(join(root, 'lectern.sqlite'));
    try {
      assert.equal(joinAddresses(reopened).list().preferred?.address, '10.0.0.5', 'after a restart');
    } finally {
      await reopened.close();
    }
    interfaces = [WIFI];
    assert.equal(joinAddresses(db).list().preferred?.address, '192.168.1.20', 'undocked: the best guess');
    interfaces = [WIFI, DOCK];
    assert.equal(joinAddresses(db).list().preferred?.address, '10.0.0.5', 'docked again: the choice is back');
  });

  it('refuses an address students cannot reach the hub at', async () => {
    interfaces = [WIFI, DOCK];
    await assert.rejects(joinAddresses(db).prefer('172.16.0.1'), UnknownAddressError);
    await assert.rejects(joinAddresses(db, '10.0.0.5').prefer('192.168.1.20'), /Choose one of: 10\.0\.0\.5\./, 'bound to one address, only that one');
    interfaces = [];
    await assert.rejects(joinAddresses(db).prefer('192.168.1.20'), /this machine is on no network/);
    assert.deepEqual(joinAddresses(db).list(), { addresses: [], preferred: null, nameUrl: null });
  });
});
