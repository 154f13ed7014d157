/**
 * The `lectern` command as a teacher runs it: a real child process on a temp data dir.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LECTERN_CLI, startCli } from '../helpers/cli.js';
import { HttpClient } from '../helpers/http-client.js';
import { projectRoot } from '../helpers/hub.js';
import { pidAlive, serverPid } from '../helpers/processes.js';
import { startServer } from '../helpers/student-server.js';
import { until } from '../helpers/wait.js';

const CLI = LECTERN_CLI;
const SERVICE_TOKEN = 'cli-test-service-token-0123456789';

function lectern(args: string[], input = '') {
  const result = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', env: { ...process.env, LECTERN_CONFIG: '' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the lectern command', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lectern-cli-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('stops at a wrong config key with one message naming it and what is allowed', async () => {
    const config = join(dir, 'bad.yaml');
    await writeFile(config, 'network:\n  prot: 8000\n');
    const result = lectern(['start', '--config', config, '--data-dir', join(dir, 'bad-data')]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /unknown key "network\.prot" \(allowed: ip, port, baseUrl, tls, serverOrigins, serverPorts\)/);
  });

  it('names a bad option value after the option', () => {
    const result = lectern(['start', '--port', 'eighty', '--data-dir', join(dir, 'bad-data')]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /--port must be an integer/);
  });

  it('adds and lists users while no hub is running, password from stdin or generated once', () => {
    const data = join(dir, 'offline');
    const added = lectern(['users', 'add', 'Alice', '--data-dir', data], 'alice-password-1\n');
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /Created account alice\./);
    assert.doesNotMatch(added.stdout, /alice-password-1/, 'a password the teacher typed is not echoed');

    const generated = lectern(['users', 'add', 'bob', '--admin', '--data-dir', data]);
    assert.equal(generated.code, 0, generated.stderr);
    assert.match(generated.stdout, /Created admin account bob\.\nPassword: [a-z]+-[a-z]+-[a-z]+-\d\d\n/);

    const again = lectern(['users', 'add', 'alice', '--data-dir', data], 'another-password\n');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /User alice already exists/);

    const listed = lectern(['users', 'list', '--data-dir', data]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^alice\s+stopped/m);
    assert.match(listed.stdout, /^bob\s+yes\s+stopped/m);
  });

  it('starts with join URLs, a QR code and a first admin login; users commands go through the running hub', async () => {
    const data = join(dir, 'online');
    const hub = await startCli(['--data-dir', data]);
    try {
      const banner = hub.stdout();
      assert.match(banner, /Students join at:|No network address found/);
      assert.match(banner, /[█▀▄]/, 'a QR code in the terminal');
      assert.match(banner, /Students are isolated: each server runs in a bubblewrap sandbox\./);
      const password = /Your admin account: teacher {3}password: (\S+)/.exec(banner)?.[1];
      assert.ok(password, banner);
      assert.equal(hub.stderr().includes(password), false, 'the one-time password is not logged');

      const teacher = new HttpClient(hub.origin);
      const login = await teacher.logIn('teacher', password);
      assert.equal(login.status, 302);

      const added = lectern(['users', 'add', 'carol', '--data-dir', data], 'carol-password-1\n');
      assert.equal(added.code, 0, added.stderr);
      const listed = lectern(['users', 'list', '--data-dir', data]);
      assert.match(listed.stdout, /^carol\s+stopped/m);
      assert.match(listed.stdout, /^teacher\s+yes/m);
      assert.equal((await new HttpClient(hub.origin).logIn('carol', 'carol-password-1')).status, 302);

      const second = lectern(['start', '--ip', '127.0.0.1', '--port', '0', '--data-dir', data]);
      assert.equal(second.code, 1);
      assert.match(second.stderr, /Another Lectern \(pid \d+\) is using/);
    } finally {
      hub.child.kill('SIGINT');
      assert.equal(await hub.exited, 0);
    }
  });

  it('hands out a folder and collects the work through the running hub', async () => {
    const data = join(dir, 'handouts');
    const offline = lectern(['handout', 'list', '--data-dir', data]);
    assert.equal(offline.code, 1);
    assert.match(offline.stderr, /No hub is running on .*Start it \(lectern start\) first/);
    const hub = await startCli(['--data-dir', data]);
    try {
      assert.equal(lectern(['users', 'add', 'dora', '--data-dir', data], 'dora-password-1\n').code, 0);
      const lesson = join(dir, 'lesson-files');
      await mkdir(join(lesson, 'data'), { recursive: true });
      await writeFile(join(lesson, 'intro.md'), '# Intro');
      await writeFile(join(lesson, 'data', 'cities.csv'), 'city\nOslo\n');
      await writeFile(join(lesson, '.DS_Store'), 'not handed out');
      const created = lectern(['handout', 'create', 'lesson 1', '--from', lesson, '--due', '2099-01-01T09:00:00Z', '--data-dir', data]);
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout, /Handed out lesson 1, version 1, to 1 students/);
      const copy = join(data, 'users', 'dora', 'home', 'lesson 1');
      await until('dora to have the handout', async () => (await readFile(join(copy, 'data', 'cities.csv'), 'utf8').catch(() => '')) === 'city\nOslo\n');
      await assert.rejects(readFile(join(copy, '.DS_Store')), 'hidden files are not handed out');
      assert.match(lectern(['handout', 'list', '--data-dir', data]).stdout, /^lesson 1 {2}\(version 1, everyone, due 2099-01-01T09:00:00.000Z\)$/m);

      await writeFile(join(copy, 'intro.md'), '# Intro\n\nMy notes');
      const zip = join(dir, 'lesson-1.zip');
      const collected = lectern(['collect', 'lesson 1', '--output', zip, '--data-dir', data]);
      assert.equal(collected.code, 0, collected.stderr);
      assert.match(collected.stdout, /Collected 1 students' work\./);
      const names = spawnSync('/usr/bin/python3', ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.read("lesson 1/dora/intro.md").decode())', zip], { encoding: 'utf8' });
      assert.equal(names.stdout.trim(), '# Intro\n\nMy notes');
      const unknown = lectern(['collect', 'lesson 9', '--data-dir', data]);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /There is no handout called "lesson 9"/);
    } finally {
      hub.child.kill('SIGINT');
      assert.equal(await hub.exited, 0);
    }
  });

  it('warns at start when students cannot be isolated, with what it means and how to fix it', async () => {
    const refusing = join(projectRoot(), 'test/fixtures/sandbox/no-user-namespaces');
    const hub = await startCli(['--data-dir', join(dir, 'no-sandbox')], { env: { PATH: `${refusing}:${process.env.PATH ?? ''}` } });
    try {
      const banner = hub.stdout();
      assert.match(banner, /WARNING: Students are not isolated: every student’s server runs as your own user/);
      assert.match(banner, /bubblewrap cannot make a sandbox on this system \("bwrap: setting up uid map: Permission denied"\)/);
      assert.match(banner, /sudo sysctl kernel\.apparmor_restrict_unprivileged_userns=0/);
    } finally {
      hub.child.kill('SIGINT');
      assert.equal(await hub.exited, 0);
    }
  });

  it('stops cleanly on Ctrl-C while it is still starting', async () => {
    const child = spawn(process.execPath, [CLI, 'start', '--ip', '127.0.0.1', '--port', '0', '--data-dir', join(dir, 'early-stop')], {
      env: { ...process.env, LECTERN_CONFIG: '', LECTERN_SERVER_PORTS: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Its first log line: the data dir is being set up, the banner is still to come.
    await new Promise<void>((resolve) => child.stderr.on('data', (chunk: Buffer) => String(chunk).includes('database migrated') && resolve()));
    child.kill('SIGINT');
    assert.equal(await exited, 0, 'a clean stop, not killed by the signal');
  });

  it('stops every student server and exits 0 on SIGTERM', async () => {
    const data = join(dir, 'sigterm');
    const config = join(dir, 'sigterm.yaml');
    await writeFile(
      config,
      [
        'services:',
        `  - { name: automation, apiToken: ${SERVICE_TOKEN}, admin: true }`,
        'spawner:',
        `  command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(join(projectRoot(), 'test/fixtures/servers/fake-server.mjs'))}]`,
        '  environment: { FAKE_SERVER_MODE: ok }',
      ].join('\n'),
    );
    const hub = await startCli(['--config', config, '--data-dir', data]);
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${hub.origin}/hub/api${path}`, { ...init, headers: { Authorization: `token ${SERVICE_TOKEN}` } });
    assert.equal((await api('/users/dana', { method: 'POST', body: '{"password":"dana-password-1"}' })).status, 201);
    await startServer(api, '/users/dana/server');
    const pid = serverPid(hub.stderr(), 'dana');
    assert.ok(pidAlive(pid));

    hub.child.kill('SIGTERM');
    assert.equal(await hub.exited, 0);
    assert.equal(pidAlive(pid), false, "the student's server is gone");
    assert.doesNotMatch(hub.stderr(), new RegExp(SERVICE_TOKEN), 'the service token is not logged');
  });

  it('keeps an acknowledged user after kill -9, and the database opens cleanly', async () => {
    const data = join(dir, 'kill9');
    const config = join(dir, 'kill9.yaml');
    await writeFile(config, `services:\n  - { name: automation, apiToken: ${SERVICE_TOKEN}, admin: true }\n`);
    const hub = await startCli(['--config', config, '--data-dir', data]);
    const created = await fetch(`${hub.origin}/hub/api/users/erin`, {
      method: 'POST',
      headers: { Authorization: `token ${SERVICE_TOKEN}` },
      body: '{"password":"erin-password-1"}',
    });
    assert.equal(created.status, 201);
    hub.child.kill('SIGKILL');
    await hub.exited;

    const listed = lectern(['users', 'list', '--data-dir', data]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^erin\s/m);
    const restarted = await startCli(['--config', config, '--data-dir', data]);
    try {
      assert.equal((await new HttpClient(restarted.origin).logIn('erin', 'erin-password-1')).status, 302);
    } finally {
      restarted.child.kill('SIGTERM');
      assert.equal(await restarted.exited, 0);
    }
  });

  it('restarts itself when the teacher asks, to apply a setting read only at start', async () => {
    const config = join(dir, 'restart.yaml');
    await writeFile(config, ['services:', `  - { name: automation, apiToken: ${SERVICE_TOKEN}, admin: true }`].join('\n'));
    const hub = await startCli(['--config', config, '--data-dir', join(dir, 'restart')]);
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    const api = (origin: string, path: string, init: RequestInit = {}) =>
      fetch(`${origin}/hub/api${path}`, { ...init, headers: { Authorization: `token ${SERVICE_TOKEN}` } });
    try {
      const changed = await api(hub.origin, '/lectern/settings', { method: 'PATCH', body: JSON.stringify({ changes: { 'network.port': port } }) });
      assert.equal(changed.status, 200);
      const before = (await (await api(hub.origin, '/lectern/settings')).json()) as { canRestart: boolean; pendingRestart: string[] };
      assert.deepEqual([before.canRestart, before.pendingRestart], [true, ['network.port']]);

      const restart = await api(hub.origin, '/lectern/restart', { method: 'POST' });
      assert.equal(restart.status, 202);
      const moved = `http://127.0.0.1:${port}`;
      for (;;) {
        if (hub.stdout().includes(`Teacher dashboard: ${moved}/`)) break;
        if (hub.child.exitCode !== null) assert.fail(`lectern exited during the restart:\n${hub.stderr()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.match(hub.stderr(), /Restarting Lectern to apply the new settings/);
      const after = (await (await api(moved, '/lectern/settings')).json()) as { pendingRestart: string[] };
      assert.deepEqual(after.pendingRestart, [], 'the new port is in effect');
    } finally {
      hub.child.kill('SIGINT');
      assert.equal(await hub.exited, 0);
    }
  });

  it('exits with a clear message when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = lectern(['start', '--ip', '127.0.0.1', '--port', String(port), '--data-dir', join(dir, 'busy')]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`Cannot listen for the hub on 127\\.0\\.0\\.1:${port}: address already in use \\(EADDRINUSE\\): another program is listening there\\. Stop it, or choose another port\\.`));
    } finally {
      blocker.close();
    }
  });
});
