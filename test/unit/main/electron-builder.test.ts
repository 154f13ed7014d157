import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { projectRoot } from '../../helpers/hub.js';

describe('electron-builder.yml', () => {
  it('is valid by electron-builder’s own schema', async () => {
    const require = createRequire(import.meta.url);
    const schema = JSON.parse(await readFile(require.resolve('app-builder-lib/scheme.json'), 'utf8')) as object;
    const config = parse(await readFile(join(projectRoot(), 'electron-builder.yml'), 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv({ allErrors: true, strict: false });
    const valid = ajv.validate(schema, config);
    assert.ok(valid, ajv.errorsText(ajv.errors, { separator: '\n' }));
  });

  it('builds a per-user Windows installer, Linux and macOS packages, with the fuses set', async () => {
    const config = parse(await readFile(join(projectRoot(), 'electron-builder.yml'), 'utf8')) as {
      nsis: { perMachine: boolean; allowElevation: boolean };
      linux: { target: string[] };
      mac: { target: string[] };
      electronFuses: Record<string, boolean>;
      extraMetadata: { main: string };
    };
    assert.equal(config.nsis.perMachine, false, 'no administrator rights needed');
    assert.equal(config.nsis.allowElevation, false);
    assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
    assert.deepEqual(config.mac.target, ['dmg']);
    assert.equal(config.electronFuses.runAsNode, false);
    assert.equal(config.electronFuses.onlyLoadAppFromAsar, true);
    assert.equal(config.electronFuses.enableNodeCliInspectArguments, false);
    assert.equal(config.extraMetadata.main, 'dist/main/main.js');
  });
});
