import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configSchema } from '../../../server/config/schema.js';
import { LiveSettings, SettingsError } from '../../../server/hub/live-settings.js';
import { silentLogger } from '../../../server/logging/logger.js';
import { Database } from '../../../server/store/database.js';
import { SettingsRepository } from '../../../server/store/settings.js';

describe('LiveSettings', () => {
  let root: string;
  let db: Database;
  let store: SettingsRepository;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'lectern-live-settings-'));
    db = await Database.open(join(root, 'lectern.sqlite'));
    store = new SettingsRepository(db);
  });
  after(async () => {
    await db.close();
    await rm(root, { recursive: true, force: true });
  });

  it('changes live settings in the running configuration, saves every change, and leaves restart ones pending', async () => {
    const given = configSchema.parse({ dataDir: root });
    const settings = await LiveSettings.open(given, { store, db, log: silentLogger });
    const heard: string[] = [];
    settings.onChange(['culler.idleTimeout'], () => void heard.push('culler'));
    settings.onChange(['network.port'], () => void heard.push('port'));

    assert.deepEqual(await settings.change({ 'culler.idleTimeout': 600, 'network.port': 9000 }), {
      applied: ['culler.idleTimeout'],
      needsRestart: ['network.port'],
    });
    assert.equal(settings.running.culler.idleTimeout, 600);
    assert.equal(settings.running.network.port, 8000, 'the port waits for a restart');
    assert.equal(settings.effective().network.port, 9000);
    assert.deepEqual(settings.pendingRestart(), ['network.port']);
    assert.deepEqual(heard, ['culler'], 'only the parts holding a live setting are told');
    assert.equal(given.culler.idleTimeout, 3600, "the caller's configuration is never changed");
    assert.deepEqual(store.configOverrides(), { 'culler.idleTimeout': 600, 'network.port': 9000 });

    assert.deepEqual(await settings.change({ 'network.port': 8000 }), { applied: ['network.port'], needsRestart: [] });
    assert.deepEqual(settings.pendingRestart(), [], 'back to the value it runs with');
  });

  it('refuses a change with problems whole, saving nothing', async () => {
    const settings = await LiveSettings.open(configSchema.parse({ dataDir: root }), { store, db, log: silentLogger });
    const saved = store.configOverrides();
    await assert.rejects(settings.change({ 'culler.idleTimeout': 60, 'spawner.activeServerLimit': -1 }), (error: unknown) => {
      assert.ok(error instanceof SettingsError);
      assert.deepEqual(error.problems, [{ key: 'spawner.activeServerLimit', message: 'must be an integer of at least 0' }]);
      return true;
    });
    assert.deepEqual(store.configOverrides(), saved);
    assert.equal(settings.running.culler.idleTimeout, 600);
  });

  it('starts from the saved changes, and drops one that no longer validates, with a warning', async () => {
    store.setConfigOverrides({ ...store.configOverrides(), 'spawner.launchMode': 'docker' });
    const warnings: string[] = [];
    const log = { ...silentLogger, warn: (message: string) => void warnings.push(message) };
    const settings = await LiveSettings.open(configSchema.parse({ dataDir: root }), { store, db, log });
    assert.equal(settings.running.culler.idleTimeout, 600);
    assert.equal(settings.running.spawner.launchMode, 'auto');
    assert.match(warnings[0] ?? '', /the setting spawner\.launchMode changed on the settings page is dropped, as it must be one of/);
    assert.ok(!('spawner.launchMode' in store.configOverrides()), 'and forgotten');
  });
});
