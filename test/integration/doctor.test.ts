/**
 * The doctor's report, on this machine's real Pythons: `lectern doctor` as a teacher runs it (a real
 * child process, on a temp data dir, with its port taken by another program), and the same report
 * from a running hub's API (`GET /hub/api/lectern/doctor`), as the teacher GUI asks for it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DoctorReport } from '../../server/doctor/report.js';
import { debianJupyterPackages, singleuserPages } from '../helpers/debian-jupyter.js';
import { projectRoot, startTestHub, type TestHub } from '../helpers/hub.js';

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

const NEEDS_DEBIAN_JUPYTERHUB = { skip: !existsSync('/usr/bin/jupyterhub-singleuser') && 'needs Debian jupyterhub' };

describe('lectern doctor', NEEDS_DEBIAN_JUPYTERHUB, () => {
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
    // Debian's Jupyter, found although a pyenv python3 without Jupyter comes first on PATH, with every
    // Jupyter package it has (whichever this machine has).
    const packages = /python: +\/usr\/bin\/python3\n.*packages: ([^\n]*)/.exec(stdout)?.[1] ?? '';
    const installed = debianJupyterPackages();
    for (const [name, version] of Object.entries(installed)) assert.ok(packages.includes(`${name} ${version}`), `${name} ${version} in: ${packages}`);
    assert.match(stdout, /Chosen: mode singleuser, environment #\d+ \/usr\n {2}command: +\/usr\/bin\/jupyterhub-singleuser/);
    assert.ok(stdout.includes(`students see: ${singleuserPages(installed).words}\n`), stdout);
    if (existsSync('/root/.pyenv/shims/python3')) {
      assert.match(stdout, /also as: +\/root\/\.pyenv\/shims\/python3 \(path\).*\n.*problem: +No Jupyter in this environment/);
    }

    assert.match(stdout, /why: +jupyterhub-singleuser 3\.0\.0 from \/usr \(Python 3\.\d+\.\d+, system\): the best mode available/);
    assert.match(stdout, /Fast start: yes\. Forked from a fork server that imports jupyterhub\.singleuser(, [\w., ]+)? \(\d+\.\d s here, once\)\./);
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

describe('GET /hub/api/lectern/doctor', NEEDS_DEBIAN_JUPYTERHUB, () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub();
  });
  after(() => t.stop());

  /** A request with `token`, checked against the OpenAPI description like the admin's. */
  const asToken = async (token: string, path: string): Promise<Response> => {
    const url = `${t.hub.url}hub/api${path}`;
    const response = await fetch(url, { headers: { Authorization: `token ${token}` } });
    t.recorder.record('GET', url, response);
    return response;
  };

  it('gives an admin the report, from the running hub’s point of view', async () => {
    const response = await t.api('/lectern/doctor');
    assert.equal(response.status, 200);
    const report = (await response.json()) as DoctorReport;

    assert.ok(report.environments.some((env) => env.path === '/usr' && env.modes.includes('singleuser')), JSON.stringify(report.environments));
    assert.equal(report.launch.plan?.mode, 'singleuser');
    assert.equal(report.launch.plan?.command[0], '/usr/bin/jupyterhub-singleuser');
    assert.equal(report.forking.forked, true, report.forking.detail);

    // The hub's own port (chosen at start: configured as 0) and its own lock are not problems.
    assert.equal(report.network.port, t.hub.port);
    assert.equal(report.network.portStatus, 'this-hub');
    assert.ok(report.network.joinUrls.includes(`http://127.0.0.1:${t.hub.port}/`), report.network.joinUrls.join(' '));
    assert.equal(report.dataDir.path, t.dataDir);
    assert.equal(report.dataDir.runningHubPid, process.pid);
    assert.equal(report.dataDir.problem, null);
    const aboutItself = [...report.problems, ...report.warnings].filter((text) => text.includes(String(t.hub.port)) || text.includes(t.dataDir));
    assert.deepEqual(aboutItself, []);
    assert.deepEqual(report.problems, []);
  });

  it('refuses anyone without the admin-ui scope, and a refresh that is neither true nor false', async () => {
    await t.addUser('alice', 'alice-password-1');
    const created = await t.api('/users/alice/tokens', { method: 'POST', body: '{}' });
    const { token } = (await created.json()) as { token: string };
    const refused = await asToken(token, '/lectern/doctor');
    assert.equal(refused.status, 403);
    assert.match(((await refused.json()) as { message: string }).message, /requires any of \[admin-ui\]/);

    const bad = await t.api('/lectern/doctor?refresh=maybe');
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /refresh must be true or false, not "maybe"/);
  });
});
