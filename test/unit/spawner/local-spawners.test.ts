import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../../server/logging/logger.js';
import type { LaunchPlan } from '../../../server/spawner/discovery.js';
import type { LaunchResolution } from '../../../server/spawner/launch-plan.js';
import { localSpawners, readablePaths } from '../../../server/spawner/local-spawners.js';
import { decideIsolation } from '../../../server/spawner/sandbox/isolation.js';
import { SpawnError } from '../../../server/spawner/spawner.js';

function plan(command: string[], environment: LaunchPlan['environment'] = null): LaunchPlan {
  return { mode: 'singleuser', command, environment, ui: 'notebook', pathPrefix: [] };
}

describe('what a sandboxed server may read', () => {
  let dir: string;
  before(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'lectern-readable-')));
    await mkdir(join(dir, 'venv', 'bin'), { recursive: true });
    await symlink('/usr/bin/python3', join(dir, 'venv', 'bin', 'python'));
    await writeFile(join(dir, 'start-jupyter.py'), 'print(1)\n');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a venv, and the installation its python links to', async () => {
    const venv = join(dir, 'venv');
    const paths = await readablePaths(plan([join(venv, 'bin', 'python'), '-s', '-m', 'notebook'], { path: venv, python: join(venv, 'bin', 'python'), source: 'venv', pythonVersion: '3.11', packages: {} }));
    assert.deepEqual(paths.sort(), ['/usr', venv].sort());
  });

  it('a script a configured command names, and nothing it does not name', async () => {
    const paths = await readablePaths(plan(['/usr/bin/python3', join(dir, 'start-jupyter.py'), '--flag', join(dir, 'missing.py'), dir]));
    assert.deepEqual(paths.sort(), ['/usr', join(dir, 'start-jupyter.py')].sort(), 'a folder on the command line is not opened up');
  });
});

describe('local spawners', () => {
  const log = createLogger({ level: 'error', sink: () => {} });
  const found: LaunchResolution = { plan: plan(['/usr/bin/jupyterhub-singleuser']), reason: 'found', problem: null, environments: [], command: null, choice: null };
  const options = (launch: LaunchResolution, setting: 'auto' | 'sandbox', works: boolean) => ({
    settings: { args: [], environment: {}, stopTimeouts: { interrupt: 1, terminate: 1, kill: 1 }, courseData: null, forkServer: false },
    launch: async () => launch,
    isolation: async () => decideIsolation(setting, works ? { kind: 'bubblewrap', program: '/usr/bin/bwrap' } : { kind: null, reason: 'bubblewrap (bwrap) is not installed.', fix: null }),
    jupyterConfigDir: join(tmpdir(), `lectern-config-${process.pid}`),
    hidden: [],
    forkServerDir: join(tmpdir(), `lectern-fork-${process.pid}`),
    log,
  });
  after(() => rm(join(tmpdir(), `lectern-config-${process.pid}`), { recursive: true, force: true }));

  it('refuses to prepare a start when a sandbox is required and none works, with the reason', async () => {
    await assert.rejects(localSpawners(options(found, 'sandbox', false)).prepare(), (error: Error) => {
      assert.ok(error instanceof SpawnError);
      assert.match(error.message, /spawner\.isolation is "sandbox", but bubblewrap \(bwrap\) is not installed\./);
      return true;
    });
  });

  it('refuses when no Jupyter is found, saying so', async () => {
    const none: LaunchResolution = { ...found, plan: null, problem: 'No Python environment with Jupyter was found.' };
    await assert.rejects(localSpawners(options(none, 'auto', true)).prepare(), /Cannot start a Jupyter server: No Python environment with Jupyter was found\./);
  });

  it('writes the servers’ Jupyter config once, not at every start, which a server starting meanwhile would read half-written', async () => {
    const spawners = localSpawners(options(found, 'auto', true));
    const configFile = join(tmpdir(), `lectern-config-${process.pid}`, 'sandboxed', 'jupyter_notebook_config.json');
    await spawners.prepare();
    const first = await stat(configFile);
    await Promise.all([spawners.prepare(), spawners.prepare()]);
    const later = await stat(configFile);
    assert.deepEqual([later.ino, later.mtimeMs], [first.ino, first.mtimeMs]);
    assert.deepEqual(JSON.parse(await readFile(configFile, 'utf8')), { KernelManager: { transport: 'ipc' } });
  });

  it('prepares sandboxed starts where the sandbox works, and unsandboxed ones where it does not', async () => {
    assert.equal((await localSpawners(options(found, 'auto', true)).prepare()).sandbox, 'bubblewrap');
    assert.equal((await localSpawners(options(found, 'auto', false)).prepare()).sandbox, null);
  });
});
