import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { OPENAPI_FILE } from '../../../server/hub/api/index.js';
import { RENDERER_DIR } from '../../../server/hub/admin.js';
import { installRoot } from '../../../server/package-info.js';
import { FORK_SERVER_SCRIPT } from '../../../server/spawner/fork/fork-server.js';
import { SERVERS_JUPYTER_CONFIG } from '../../../server/spawner/local-spawners.js';
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

  it('ships every file the hub reads from its install folder, and unpacks those Python runs', async () => {
    const config = parse(await readFile(join(projectRoot(), 'electron-builder.yml'), 'utf8')) as { files: string[]; asarUnpack: string[] };
    // Matched as electron-builder matches them, with its own minimatch.
    const require = createRequire(createRequire(import.meta.url).resolve('app-builder-lib/package.json'));
    const { minimatch } = require('minimatch') as { minimatch: (path: string, pattern: string) => boolean };
    const matches = (patterns: string[], file: string) =>
      patterns.some((pattern) => !pattern.startsWith('!') && minimatch(file, pattern)) &&
      !patterns.some((pattern) => pattern.startsWith('!') && minimatch(file, pattern.slice(1)));
    const readByNode = [OPENAPI_FILE, SERVERS_JUPYTER_CONFIG, join(RENDERER_DIR, 'index.html')];
    const runByPython = [FORK_SERVER_SCRIPT, join(dirname(FORK_SERVER_SCRIPT), 'kernel-forks.py')];
    for (const file of [...readByNode, ...runByPython]) {
      assert.ok(existsSync(file), `${file} exists`);
      assert.ok(matches(config.files, relative(installRoot, file)), `${relative(installRoot, file)} is in the app (files)`);
    }
    for (const file of runByPython) {
      const inApp = relative(installRoot, file);
      assert.ok(matches(config.asarUnpack, inApp), `${inApp} is unpacked beside the archive, where Python can read it (asarUnpack)`);
    }
  });
});
