import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EnvironmentCandidate } from '../../../server/spawner/discovery.js';
import { launchPlanProvider, resolveLaunch, type LaunchSettings } from '../../../server/spawner/launch-plan.js';

/** An environment as discovery reports it, with only what the plan depends on. */
function environment(path: string, modes: EnvironmentCandidate['modes'], packages: EnvironmentCandidate['packages']): EnvironmentCandidate {
  return {
    path,
    python: `${path}/bin/python3`,
    source: 'conda',
    foundBy: 'test',
    alsoFoundAs: [],
    pythonVersion: '3.12.1',
    packages,
    modes,
    problems: [],
    notes: [],
    singleuserScript: modes.includes('singleuser') ? `${path}/bin/jupyterhub-singleuser` : null,
  };
}

const debian = environment('/usr', ['singleuser', 'notebook', 'server'], { jupyterhub: '3.0.0', notebook: '6.4.12', jupyter_server: '1.23.3', ipykernel: '6.17.0' });
const conda = environment('/home/t/miniconda3', ['lab', 'notebook', 'server'], { jupyterlab: '4.2.0', notebook: '7.2.0', jupyter_server: '2.14.0', ipykernel: '6.29.0' });

const settings = (overrides: Partial<LaunchSettings>): LaunchSettings => ({ command: null, python: null, launchMode: 'auto', ...overrides });

describe('launch plan', () => {
  const looked: (readonly string[])[] = [];
  const find = async (options: { configured?: readonly string[] } = {}) => {
    looked.push(options.configured ?? []);
    return [debian, conda];
  };

  it('runs the best mode of the best environment when nothing is configured', async () => {
    const launch = await resolveLaunch(settings({}), { find });
    assert.equal(launch.problem, null);
    assert.equal(launch.plan?.mode, 'singleuser');
    assert.deepEqual(launch.plan?.command, ['/usr/bin/jupyterhub-singleuser']);
    assert.equal(launch.plan?.singleuserApp, 'notebook.notebookapp.NotebookApp', 'Debian has only the classic Notebook to serve pages');
  });

  it('follows a configured launch mode, in the environment that has it', async () => {
    const launch = await resolveLaunch(settings({ launchMode: 'lab' }), { find });
    assert.equal(launch.plan?.mode, 'lab');
    assert.deepEqual(launch.plan?.command, ['/home/t/miniconda3/bin/python3', '-s', '-m', 'jupyterlab']);
  });

  it('follows a configured environment, and its best mode', async () => {
    const launch = await resolveLaunch(settings({ python: '/home/t/miniconda3' }), { find });
    assert.equal(launch.plan?.mode, 'lab');
    assert.equal(launch.plan?.environment?.path, '/home/t/miniconda3');
    assert.deepEqual(looked.at(-1), ['/home/t/miniconda3'], 'the configured path is searched too');
  });

  it('refuses, saying why, when the configured environment cannot do what was asked', async () => {
    const wrongMode = await resolveLaunch(settings({ python: '/usr', launchMode: 'lab' }), { find });
    assert.equal(wrongMode.plan, null, 'never silently something else');
    assert.match(wrongMode.problem ?? '', /cannot run JupyterLab/);
    const missing = await resolveLaunch(settings({ python: '/opt/nothing' }), { find });
    assert.equal(missing.plan, null);
    assert.match(missing.problem ?? '', /not a Python environment Lectern found/);
    const noMode = await resolveLaunch(settings({ launchMode: 'lab' }), { find: async () => [debian] });
    assert.match(noMode.problem ?? '', /no environment found can run JupyterLab/);
  });

  it('says how to get Jupyter when the machine has none', async () => {
    const launch = await resolveLaunch(settings({}), { find: async () => [] });
    assert.equal(launch.plan, null);
    assert.match(launch.problem ?? '', /Install Jupyter/);
  });

  describe('with a configured command', () => {
    let dir = '';
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'lectern-launch-'));
      // A console script of the Debian environment, and a program that is not a Python one.
      await writeFile(join(dir, 'jupyter-lab'), '#!/usr/bin/python3\nimport sys\n');
      await writeFile(join(dir, 'wrapper'), '#!/bin/sh\nexec jupyterhub-singleuser "$@"\n');
      await chmod(join(dir, 'jupyter-lab'), 0o755);
      await chmod(join(dir, 'wrapper'), 0o755);
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('reads the mode from the program name and the environment from its #! line', async () => {
      const launch = await resolveLaunch(settings({ command: [join(dir, 'jupyter-lab'), '--debug'] }), {
        find: async () => [{ ...debian, python: '/usr/bin/python3' }],
      });
      assert.equal(launch.plan?.mode, 'lab');
      assert.deepEqual(launch.plan?.command, [join(dir, 'jupyter-lab'), '--debug']);
      assert.equal(launch.command?.python, '/usr/bin/python3');
      assert.equal(launch.command?.environment, '/usr');
    });

    it('runs an unknown program as a jupyterhub-singleuser, or in the mode configured', async () => {
      const wrapper = await resolveLaunch(settings({ command: [join(dir, 'wrapper')] }), { find });
      assert.equal(wrapper.plan?.mode, 'singleuser');
      assert.equal(wrapper.plan?.environment, null);
      assert.equal(wrapper.plan?.ui, 'unknown');
      assert.equal(wrapper.environments.length, 0, 'a program that is not a Python one needs no discovery');
      const asServer = await resolveLaunch(settings({ command: [join(dir, 'wrapper')], launchMode: 'server' }), { find });
      assert.equal(asServer.plan?.mode, 'server');
    });

    it('says a missing program is missing', async () => {
      const launch = await resolveLaunch(settings({ command: ['no-such-jupyter-program'] }), { find });
      assert.equal(launch.plan, null);
      assert.match(launch.problem ?? '', /spawner.command "no-such-jupyter-program" was not found/);
    });
  });

  it('is resolved once, but looked for again after finding nothing', async () => {
    let calls = 0;
    let machine: EnvironmentCandidate[] = [];
    const refreshes: boolean[] = [];
    const provider = launchPlanProvider(settings({}), {
      find: async (options = {}) => {
        calls++;
        refreshes.push(options.refresh ?? false);
        return machine;
      },
    });
    assert.equal((await provider()).plan, null);
    machine = [conda];
    assert.equal((await provider()).plan?.mode, 'lab', 'the teacher installed Jupyter: no restart needed');
    await provider();
    assert.equal(calls, 2, 'a working plan is kept');
    assert.deepEqual(refreshes, [false, true]);
  });
});
