/**
 * The teacher GUI's API types are generated from the hub's OpenAPI description: a change to the
 * description that is not regenerated fails here, before the GUI and the hub can drift apart.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

describe('the GUI’s API types', () => {
  it('are what openapi.yaml generates today', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lectern-api-types-'));
    try {
      const fresh = join(dir, 'openapi.ts');
      const cli = join('node_modules', 'openapi-typescript', 'bin', 'cli.js');
      const run = spawnSync(process.execPath, [cli, 'server/hub/api/openapi.yaml', '-o', fresh], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const committed = await readFile('renderer/api/openapi.ts', 'utf8');
      assert.ok(committed === (await readFile(fresh, 'utf8')), 'renderer/api/openapi.ts is stale: run `npm run generate:api-types`');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
