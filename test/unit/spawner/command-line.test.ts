import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandLine } from '../../../server/spawner/command-line.js';
import type { LaunchPlan } from '../../../server/spawner/discovery.js';

const place = { port: 40123, servicePrefix: '/user/alice/', notebookDir: '/data/users/alice', defaultUrl: '' };
const hubEnvironment = { JUPYTERHUB_API_TOKEN: 'secret-token', JUPYTERHUB_USER: 'alice' };

function plan(mode: LaunchPlan['mode'], packages: Record<string, string> = {}): LaunchPlan {
  return {
    mode,
    command: ['/usr/bin/python3', '-m', 'x'],
    environment: { path: '/usr', python: '/usr/bin/python3', source: 'system', pythonVersion: '3.11.2', packages },
    ui: 'notebook',
    pathPrefix: [],
  };
}

describe('server command line', () => {
  it('gives jupyterhub-singleuser the JupyterHub environment and no arguments', () => {
    const launch = commandLine({ ...plan('singleuser'), singleuserApp: 'notebook.notebookapp.NotebookApp' }, place, hubEnvironment, 'secret-token');
    assert.deepEqual(launch.args, []);
    assert.equal(launch.environment.JUPYTERHUB_USER, 'alice');
    assert.equal(launch.environment.JUPYTERHUB_SINGLEUSER_APP, 'notebook.notebookapp.NotebookApp');
  });

  it('runs a plain server on loopback under the student prefix, with the token only in the environment', () => {
    const launch = commandLine(plan('lab', { jupyterlab: '4.2.0' }), { ...place, defaultUrl: '/lab/tree/welcome.ipynb' }, hubEnvironment, 'secret-token');
    assert.deepEqual(launch.args, [
      '--ServerApp.ip=127.0.0.1',
      '--ServerApp.port=40123',
      '--ServerApp.port_retries=0',
      '--ServerApp.base_url=/user/alice/',
      '--ServerApp.root_dir=/data/users/alice',
      '--ServerApp.open_browser=False',
      '--ServerApp.allow_remote_access=True',
      '--ServerApp.default_url=/lab/tree/welcome.ipynb',
    ]);
    assert.deepEqual(launch.environment, { JUPYTER_TOKEN: 'secret-token' }, 'no JupyterHub variables for a server that does not speak to the hub');
    assert.ok(!launch.args.join(' ').includes('secret-token'), 'a process list shows the arguments to every user');
  });

  it('uses the classic Notebook’s own option names for Notebook 6, and Jupyter Server’s for Notebook 7', () => {
    const classic = commandLine(plan('notebook', { notebook: '6.4.12' }), place, hubEnvironment, 't');
    assert.ok(classic.args.includes('--NotebookApp.notebook_dir=/data/users/alice'));
    assert.ok(classic.args.every((arg) => arg.startsWith('--NotebookApp.')));
    const seven = commandLine(plan('notebook', { notebook: '7.2.0' }), place, hubEnvironment, 't');
    assert.ok(seven.args.includes('--ServerApp.root_dir=/data/users/alice'));
  });
});
