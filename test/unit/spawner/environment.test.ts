import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findExecutable, keptHubEnvironment } from '../../../server/spawner/environment.js';

describe('single-user server environment', () => {
  it('keeps only the allow-listed variables of the hub, never its secrets', () => {
    const kept = keptHubEnvironment(
      { PATH: '/usr/bin', LANG: 'C.UTF-8', CONFIGPROXY_AUTH_TOKEN: 'x', AWS_SECRET_ACCESS_KEY: 'y', ELECTRON_RUN_AS_NODE: '1', HOME: '/root' },
      'linux',
    );
    assert.deepEqual(kept, { PATH: '/usr/bin', LANG: 'C.UTF-8' });
  });

  it('keeps what Python needs to start on Windows', () => {
    const kept = keptHubEnvironment({ SYSTEMROOT: 'C:\\Windows', PATHEXT: '.EXE', USERPROFILE: 'C:\\Users\\t' }, 'win32');
    assert.deepEqual(kept, { SYSTEMROOT: 'C:\\Windows', PATHEXT: '.EXE' });
  });

  it('finds a command on PATH, or says it is not there', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lectern-path-'));
    try {
      const tool = join(dir, 'jupyterhub-singleuser');
      await writeFile(tool, '#!/bin/sh\n');
      await chmod(tool, 0o755);
      assert.equal(findExecutable('jupyterhub-singleuser', `/nonexistent:${dir}`, 'linux'), tool);
      assert.equal(findExecutable('jupyterhub-singleuser', '/nonexistent', 'linux'), null);
      assert.equal(findExecutable(tool, '', 'linux'), tool);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
