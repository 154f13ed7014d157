import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { schemaNodeAt } from '../../../server/config/reference.js';
import { configSchema } from '../../../server/config/schema.js';
import { applyOverrides, EDITABLE_SETTINGS, previewImport, settingModels, withChanges } from '../../../server/config/settings.js';

const config = () => configSchema.parse({ dataDir: '/srv/lectern' });

describe('the settings table', () => {
  it('names only keys the config schema has, each once', () => {
    const keys = EDITABLE_SETTINGS.map((setting) => setting.key);
    assert.equal(new Set(keys).size, keys.length);
    for (const key of keys) assert.ok(schemaNodeAt(key.split('.')), `${key} is in the schema`);
  });

  it('has the keys the settings page is for, and says which wait for a restart', () => {
    const restart = Object.fromEntries(EDITABLE_SETTINGS.map((setting) => [setting.key, setting.restartRequired]));
    assert.deepEqual(restart, {
      'auth.loginMode': true,
      'auth.joinApproval': false,
      'auth.minPasswordLength': false,
      'culler.enabled': false,
      'culler.idleTimeout': false,
      'spawner.concurrentSpawnLimit': false,
      'spawner.activeServerLimit': false,
      'spawner.minFreeMemoryMb': false,
      'spawner.memoryLimitMb': false,
      'spawner.courseData': false,
      'spawner.isolation': true,
      'spawner.python': true,
      'spawner.launchMode': true,
      'network.port': true,
      'network.ip': true,
    });
  });

  it("describes each setting in a teacher's words, with the schema's type, bounds and choices", () => {
    const models = Object.fromEntries(settingModels(config()).map((model) => [model.key, model]));
    assert.deepEqual(models['network.port'], {
      key: 'network.port',
      label: 'Port',
      description: 'The number after the address students type. 0 picks a free one each time Lectern starts (the address then changes).',
      value: 8000,
      type: 'integer',
      min: 0,
      max: 65535,
      restartRequired: true,
    });
    assert.equal(models['culler.idleTimeout']?.type, 'number');
    assert.equal(models['culler.enabled']?.type, 'boolean');
    assert.deepEqual(models['spawner.launchMode']?.options, ['auto', 'singleuser', 'lab', 'notebook', 'server']);
    assert.equal(models['spawner.launchMode']?.type, 'enum');
    assert.equal(models['spawner.python']?.type, 'string');
    assert.equal(models['spawner.python']?.nullable, true);
    assert.equal(models['spawner.concurrentSpawnLimit']?.min, 1);
    assert.equal(models['spawner.concurrentSpawnLimit']?.max, undefined, 'no made-up maximum');
    assert.deepEqual(models['culler.idleTimeout']?.display, { unit: 'minutes', factor: 60 }, 'seconds are shown as minutes');
    for (const model of Object.values(models)) {
      assert.ok(model.description.length > 10, `${model.key} has help text`);
      // The config file's words stay out of the teacher's: no keys, no JSON, no binary units.
      assert.doesNotMatch(`${model.label} ${model.description}`, /\b(null|MiB|loginMode|auth\.|spawner\.)|"/, model.key);
      if (model.options) assert.deepEqual(Object.keys(model.choices ?? {}).sort(), [...model.options].sort(), `${model.key}: every choice in words`);
    }
  });
});

describe('withChanges', () => {
  it('applies valid changes to a copy, validated as a whole', () => {
    const before = config();
    const result = withChanges(before, { 'culler.idleTimeout': 900, 'spawner.python': '/opt/conda' });
    assert.ok(result.ok);
    assert.equal(result.config.culler.idleTimeout, 900);
    assert.equal(result.config.spawner.python, '/opt/conda');
    assert.equal(before.culler.idleTimeout, 3600, 'the original is untouched');
  });

  it('takes a course data folder only where one is, by its full path', () => {
    const folder = tmpdir();
    const taken = withChanges(config(), { 'spawner.courseData': folder });
    assert.ok(taken.ok);
    assert.equal(taken.config.spawner.courseData, folder);
    assert.ok(withChanges(config(), { 'spawner.courseData': null }).ok, 'none');
    for (const wrong of [join(folder, 'no-such-folder-for-lectern'), 'course-data', fileURLToPath(import.meta.url)]) {
      const result = withChanges(config(), { 'spawner.courseData': wrong });
      assert.deepEqual(result.ok ? [] : result.problems, [{ key: 'spawner.courseData', message: 'must be the full path of a folder on this computer' }], wrong);
    }
  });

  it('reports every wrong value and unknown key, per key, and applies none', () => {
    const result = withChanges(config(), {
      'network.port': 70000,
      'culler.idleTimeout': -1,
      'spawner.launchMode': 'docker',
      'culler.enabled': 'yes',
      'dataDir': '/elsewhere',
      'spawner.concurrentSpawnLimit': 2,
    });
    assert.ok(!result.ok);
    assert.deepEqual(
      Object.fromEntries(result.problems.map((problem) => [problem.key, problem.message])),
      {
        dataDir: 'is not a setting the settings page can change: set it in the config file',
        'network.port': 'must be an integer from 0 to 65535',
        'culler.idleTimeout': 'must be a positive number of seconds',
        'culler.enabled': 'must be true or false',
        'spawner.launchMode': 'must be one of "auto", "singleuser", "lab", "notebook", "server"',
      },
    );
  });
});

describe('applyOverrides', () => {
  it('applies stored overrides, and drops one that no longer validates without losing the rest', () => {
    const { config: effective, kept, dropped } = applyOverrides(config(), {
      'network.port': 9000,
      'culler.idleTimeout': 'soon',
      'proxy.apiPort': 8001,
    });
    assert.equal(effective.network.port, 9000);
    assert.equal(effective.culler.idleTimeout, 3600);
    assert.deepEqual(kept, { 'network.port': 9000 });
    assert.deepEqual(
      dropped.map((problem) => problem.key),
      ['culler.idleTimeout', 'proxy.apiPort'],
    );
  });
});

describe('previewImport', () => {
  it('lists the editable settings a file changes, and every other key it sets', () => {
    const text = ['network:', '  port: 9000', '  baseUrl: /class/', 'culler:', '  idleTimeout: 3600', '  enabled: false', 'spawner:', '  environment: { A: "1" }', 'adminUsers: [teacher]'].join('\n');
    const preview = previewImport(config(), text);
    assert.deepEqual(preview.problems, []);
    assert.deepEqual(preview.changes, [
      { key: 'network.port', from: 8000, to: 9000, restartRequired: true },
      { key: 'culler.enabled', from: true, to: false, restartRequired: false },
    ]);
    assert.deepEqual(
      preview.configFileOnly.map((entry) => entry.key),
      ['network.baseUrl', 'spawner.environment', 'adminUsers'],
    );
    assert.match(preview.configFileOnly[0]?.message ?? '', /applies at next start from the config file/);
  });

  it('reports what is wrong with a file: syntax, shape, values', () => {
    assert.match(previewImport(config(), 'network: [port: 1').problems[0]?.message ?? '', /is not valid YAML at line 1/);
    assert.deepEqual(previewImport(config(), '- a list').problems, [{ key: '', message: 'must be a mapping of settings, as a Lectern config file is' }]);
    const wrong = previewImport(config(), 'network:\n  port: -1\n  prot: 80\n');
    assert.deepEqual(
      wrong.problems.map((problem) => problem.key).sort(),
      ['network.port', 'network.prot'],
    );
    assert.match(wrong.problems.find((problem) => problem.key === 'network.prot')?.message ?? '', /is not a Lectern setting \(allowed here: ip, port, baseUrl, tls, serverOrigins, serverPorts\)/);
    assert.deepEqual(wrong.changes, []);
    assert.deepEqual(previewImport(config(), '').problems, [], 'an empty file changes nothing');
  });
});
