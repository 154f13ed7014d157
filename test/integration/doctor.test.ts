/**
 * `lectern doctor` as a teacher runs it: a real child process, on a temp data dir, with its port
 * taken by another program, on this machine's real Pythons.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { projectRoot } from '../helpers/hub.js';

const CLI = join(projectRoot(), 'dist/server/cli/main.js');

function lectern(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, LECTERN_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('lectern doctor', { skip: !existsSync('/usr/bin/jupyterhub-singleuser') && 'needs Debian jupyterhub' }, () => {
  let dataDir: string;
  let squatter: Server;
  let port: number;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'lectern-doctor-'));
    squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen({ host: '0.0.0.0', port: 0 }, resolve));
    port = (squatter.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise((resolve) => squatter.close(resolve));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('names the environment it would use, the data dir, and the port someone else holds', async () => {
    const { code, stdout, stderr } = await lectern(['doctor', '--data-dir', dataDir, '--port', String(port)]);
    assert.equal(stderr, '');
    // The port is taken: that stops Lectern from starting, so the doctor fails.
    assert.equal(code, 1, stdout);

    assert.match(stdout, /^Lectern \d+\.\d+\.\d+\S* doctor: Node v\d+/);
    // Debian's Jupyter, found although a pyenv python3 without Jupyter comes first on PATH.
    assert.match(stdout, /python: +\/usr\/bin\/python3\n.*packages: jupyterhub 3\.0\.0, jupyter_server 1\.23\.\d+, notebook 6\.4\.\d+, ipykernel/);
    assert.match(stdout, /Chosen: mode singleuser, environment #\d+ \/usr\n {2}command: +\/usr\/bin\/jupyterhub-singleuser/);
    assert.match(stdout, /students see: the Notebook \(JUPYTERHUB_SINGLEUSER_APP=notebook\.notebookapp\.NotebookApp\)/);
    if (existsSync('/root/.pyenv/shims/python3')) {
      assert.match(stdout, /also as: +\/root\/\.pyenv\/shims\/python3 \(path\).*\n.*problem: +No Jupyter in this environment/);
    }

    assert.match(stdout, /why: +jupyterhub-singleuser 3\.0\.0 from \/usr \(Python 3\.\d+\.\d+, system\): the best mode available/);
    assert.ok(stdout.includes(`Data dir: ${dataDir}\n  exists, writable, `), stdout);
    assert.match(stdout, /\d+(\.\d)? [KMGT]iB free/);
    assert.ok(stdout.includes(`Listening address: 0.0.0.0:${port}\n  IN USE: Port ${port} is in use on 0.0.0.0`), stdout);
    assert.match(stdout, /Problems \(1\):\n {2}- Port \d+ is in use/);
    // The writability check leaves nothing behind.
    assert.deepEqual(await readdir(dataDir), []);
  });

  it('passes when the port is free', async () => {
    const { code, stdout } = await lectern(['doctor', '--data-dir', join(dataDir, 'not-yet'), '--ip', '127.0.0.1', '--port', '0']);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /does not exist yet, writable/);
    assert.match(stdout, /chosen at start/);
    assert.match(stdout, /listens on 127\.0\.0\.1 only: students on other machines cannot reach it/);
    assert.match(stdout, /No problems found/);
  });
});
