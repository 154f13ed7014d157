import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { configReference, describeAllowed, schemaNodeAt } from '../../../server/config/reference.js';
import { configSchema } from '../../../server/config/schema.js';

const REGENERATE =
  'node --import tsx -e "import(\'./server/config/reference.ts\').then(async (m) => ' +
  '(await import(\'node:fs\')).writeFileSync(\'docs/config-reference.md\', m.configReference()))"';

/**
 * The repository root, found by walking up: tests also run compiled from dist/test/, and dist/ holds a
 * copy of package.json, so the marker is tsconfig.json.
 */
function repositoryRoot(): string {
  let folder = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(folder, 'tsconfig.json'))) {
    const parent = path.dirname(folder);
    assert.notEqual(parent, folder, 'tsconfig.json not found above the test file');
    folder = parent;
  }
  return folder;
}

/** Every key path in a parsed config, arrays of objects shown as `services[]`. */
function leafPaths(): string[] {
  const sample = configSchema.parse({
    network: { tls: { cert: 'c', key: 'k' } },
    services: [{ name: 'x', apiToken: 'x'.repeat(16) }],
  });
  const paths: string[] = [];
  const walk = (value: unknown, prefix: string): void => {
    if (Array.isArray(value) && typeof value[0] === 'object') return walk(value[0], `${prefix}[]`);
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && !prefix.endsWith('environment')) {
      for (const [key, inner] of Object.entries(value)) walk(inner, prefix ? `${prefix}.${key}` : key);
      return;
    }
    paths.push(prefix);
  };
  walk(sample, '');
  return paths;
}

describe('configReference', () => {
  it('matches docs/config-reference.md', () => {
    const file = path.join(repositoryRoot(), 'docs', 'config-reference.md');
    const committed = existsSync(file) ? readFileSync(file, 'utf8') : '';
    assert.ok(
      committed === configReference(),
      `docs/config-reference.md is out of date with server/config/schema.ts. From the repository root, run: ${REGENERATE}`,
    );
  });

  it('documents every key with its allowed values and default or requirement', () => {
    const reference = configReference();
    const paths = leafPaths();
    assert.ok(paths.length >= 20, `expected every leaf, got ${paths.join(', ')}`);
    for (const key of paths) {
      const start = reference.indexOf(`# \`${key}\`\n`);
      assert.notEqual(start, -1, `missing heading for ${key}`);
      const block = reference.slice(start, reference.indexOf('\n#', start + 1));
      assert.match(block, /\n- Allowed: /, key);
      assert.match(block, /\n- (Default: |Required in )/, key);
    }
  });

  it('shows help text, defaults and environment variables', () => {
    const reference = configReference();
    assert.match(reference, /### `network\.port`\n\nPort of the public listener; 0 picks a free port\.\n\n- Allowed: an integer from 0 to 65535\n- Default: `8000`\n- Environment variable: `LECTERN_PORT`\n/);
    assert.match(reference, /### `spawner\.launchMode`[^#]*- Allowed: one of "auto", "singleuser", "lab", "notebook", "server"\n- Default: `"auto"`/);
    assert.match(reference, /#### `spawner\.stopTimeouts\.interrupt`/);
    assert.match(reference, /### `services\[\]\.apiToken`[^#]*- Required in each `services` entry/);
  });

  it('does not depend on the machine that generated it', () => {
    const reference = configReference();
    assert.ok(!reference.includes(os.homedir()), 'the dataDir default must be described, not computed');
    assert.match(reference, /%APPDATA%\\Lectern/);
  });
});

describe('describeAllowed', () => {
  it('phrases the schema the way error messages use it', () => {
    assert.equal(describeAllowed(schemaNodeAt(['network', 'port'])), 'an integer from 0 to 65535');
    assert.equal(describeAllowed(schemaNodeAt(['spawner', 'stopTimeouts', 'kill'])), 'a positive number of seconds');
    assert.equal(describeAllowed(schemaNodeAt(['services', 0, 'admin'])), 'true or false');
    assert.equal(describeAllowed(schemaNodeAt(['spawner', 'args'])), 'a list of strings');
    assert.equal(describeAllowed(schemaNodeAt(['nothing', 'here'])), 'a valid value');
  });
});
