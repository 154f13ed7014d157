/**
 * The settings page, export and import on a real hub: live changes take effect at once, restart-only
 * changes survive a restart on the same data dir and take effect then, wrong values change nothing,
 * and every export format is read by what it is for — the `.py` by the real Python and the real
 * JupyterHub 3.0, the values.yaml by a YAML parser, the Lectern file by Lectern — through the API
 * and through `lectern export`.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../server/config/load.js';
import { freeLoopbackPort } from '../../server/spawner/free-port.js';
import { fakeServer, projectRoot, startTestHub, type TestHub } from '../helpers/hub.js';
import { startJupyterHubWithConfig } from '../helpers/jupyterhub.js';
import { until } from '../helpers/wait.js';
import { startServer } from '../helpers/student-server.js';

const CLI = join(projectRoot(), 'dist/server/cli/main.js');

interface SettingsBody {
  settings: { key: string; value: unknown; restartRequired: boolean }[];
  pendingRestart: string[];
}

const json = (method: string, body: unknown): RequestInit => ({ method, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });

async function settingsOf(t: TestHub): Promise<{ values: Record<string, unknown>; pendingRestart: string[] }> {
  const response = await t.api('/lectern/settings');
  assert.equal(response.status, 200);
  const body = (await response.json()) as SettingsBody;
  return { values: Object.fromEntries(body.settings.map((setting) => [setting.key, setting.value])), pendingRestart: body.pendingRestart };
}

async function patch(t: TestHub, changes: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await t.api('/lectern/settings', json('PATCH', { changes }));
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}


/** Runs the `lectern` command; never synchronously, as the hub it talks to runs in this very process. */
async function lectern(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, LECTERN_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

describe('settings changed from the GUI', () => {
  it('apply live settings at once: the culler turned on with a short timeout stops an idle server', async () => {
    const t = await startTestHub({ ...fakeServer('ok'), culler: { enabled: false, every: 0.25 } });
    try {
      await t.addUser('alice', 'alice-password-1');
      await startServer(t.api, '/users/alice/server');
      const { status, body } = await patch(t, { 'culler.enabled': true, 'culler.idleTimeout': 1 });
      assert.equal(status, 200);
      assert.deepEqual(body, { applied: ['culler.enabled', 'culler.idleTimeout'], needsRestart: [] });
      await until('the culler to stop alice’s idle server', async () => ((await (await t.api('/users/alice')).json()) as { server: unknown }).server === null);
      const now = await settingsOf(t);
      assert.deepEqual(now.pendingRestart, []);
      assert.equal(now.values['culler.idleTimeout'], 1);
    } finally {
      await t.stop();
    }
  });

  it('apply the server limit at the next start', async () => {
    const t = await startTestHub({ ...fakeServer('ok'), culler: { enabled: false } });
    try {
      await t.addUser('alice', 'alice-password-1');
      await t.addUser('bob', 'bob-password-1');
      await startServer(t.api, '/users/alice/server');
      assert.equal((await patch(t, { 'spawner.activeServerLimit': 1 })).status, 200);
      const refused = await t.api('/users/bob/server', { method: 'POST' });
      assert.equal(refused.status, 429);
      assert.match(((await refused.json()) as { message: string }).message, /The class is full/);
    } finally {
      await t.stop();
    }
  });

  it('refuse wrong values with a problem per key, and save nothing', async () => {
    const t = await startTestHub();
    try {
      const before = await settingsOf(t);
      const { status, body } = await patch(t, {
        'culler.idleTimeout': 900,
        'network.port': 70_000,
        'spawner.launchMode': 'docker',
        'auth.minPasswordLength': 0,
        'network.baseUrl': '/elsewhere/',
      });
      assert.equal(status, 400);
      assert.equal(body.status, 400);
      assert.match(String(body.message), /^Nothing was changed: /);
      assert.deepEqual(
        Object.fromEntries((body.problems as { key: string; message: string }[]).map((problem) => [problem.key, problem.message])),
        {
          'network.baseUrl': 'is not a setting the settings page can change: set it in the config file',
          'network.port': 'must be an integer from 0 to 65535',
          'auth.minPasswordLength': 'must be an integer from 1 to 72',
          'spawner.launchMode': 'must be one of "auto", "singleuser", "lab", "notebook", "server"',
        },
      );
      assert.deepEqual(await settingsOf(t), before, 'not even the valid idle timeout was saved');
      const malformed = await t.api('/lectern/settings', json('PATCH', { 'culler.idleTimeout': 900 }));
      assert.equal(malformed.status, 400);
      assert.match(((await malformed.json()) as { message: string }).message, /Send \{"changes"/);
    } finally {
      await t.stop();
    }
  });

  it('need a restart for the port: saved, pending, and in effect when the hub starts again on the same data dir', async () => {
    const first = await startTestHub();
    let second: TestHub | undefined;
    try {
      const port = await freeLoopbackPort();
      const { status, body } = await patch(first, { 'network.port': port, 'culler.idleTimeout': 1200 });
      assert.equal(status, 200);
      assert.deepEqual(body, { applied: ['culler.idleTimeout'], needsRestart: ['network.port'] });
      const pending = await settingsOf(first);
      assert.deepEqual(pending.pendingRestart, ['network.port']);
      assert.equal(pending.values['network.port'], port, 'the value shown is the one saved');
      assert.notEqual(first.hub.port, port);
      // Embedded without a host that can start it again, the hub says it cannot restart itself.
      assert.equal(((await (await first.api('/lectern/settings')).json()) as { canRestart: boolean }).canRestart, false);
      const refused = await first.api('/lectern/restart', { method: 'POST' });
      assert.equal(refused.status, 400);
      assert.match(((await refused.json()) as { message: string }).message, /cannot restart itself: stop it and start it again/);

      await first.hub.dispose();
      // The same config (port 0 from the test helper), the same data dir: the saved port wins.
      second = await startTestHub({ dataDir: first.dataDir });
      assert.equal(second.hub.port, port);
      const restarted = await settingsOf(second);
      assert.deepEqual(restarted.pendingRestart, []);
      assert.equal(restarted.values['culler.idleTimeout'], 1200);
    } finally {
      await second?.stop();
      await first.stop();
    }
  });

  it('drop a saved change that no longer validates, with a warning, and keep the rest', async () => {
    const first = await startTestHub();
    let second: TestHub | undefined;
    try {
      assert.equal((await patch(first, { 'spawner.concurrentSpawnLimit': 3, 'culler.idleTimeout': 1200 })).status, 200);
      await first.hub.dispose();
      // Another version's idea of a setting: written straight into the data dir's settings table.
      const { Database } = await import('../../server/store/database.js');
      const { SettingsRepository } = await import('../../server/store/settings.js');
      const db = await Database.open(join(first.dataDir, 'lectern.sqlite'));
      const store = new SettingsRepository(db);
      store.setConfigOverrides({ ...store.configOverrides(), 'culler.idleTimeout': 'an hour' });
      await db.close();

      second = await startTestHub({ dataDir: first.dataDir });
      const { values } = await settingsOf(second);
      assert.equal(values['spawner.concurrentSpawnLimit'], 3);
      assert.equal(values['culler.idleTimeout'], 3600, "the config file's value");
      assert.ok(second.logLines.some((line) => /the setting culler\.idleTimeout changed on the settings page is dropped/.test(line)), second.logLines.join('\n'));
    } finally {
      await second?.stop();
      await first.stop();
    }
  });
});

describe('import of a Lectern config file', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub();
  });
  after(() => t.stop());

  const file = ['culler:', '  idleTimeout: 1500', 'spawner:', '  launchMode: lab', '  args: ["--debug"]', 'network:', '  baseUrl: /class/'].join('\n');

  it('previews what would change, and what only a config file can set', async () => {
    const response = await t.api('/lectern/import/preview', json('POST', { text: file }));
    assert.equal(response.status, 200);
    const preview = (await response.json()) as { changes: unknown[]; problems: unknown[]; configFileOnly: { key: string }[] };
    assert.deepEqual(preview.changes, [
      { key: 'culler.idleTimeout', from: 3600, to: 1500, restartRequired: false },
      { key: 'spawner.launchMode', from: 'auto', to: 'lab', restartRequired: true },
    ]);
    assert.deepEqual(preview.problems, []);
    assert.deepEqual(
      preview.configFileOnly.map((entry) => entry.key),
      ['spawner.args', 'network.baseUrl'],
    );
    assert.equal((await settingsOf(t)).values['culler.idleTimeout'], 3600, 'a preview changes nothing');
  });

  it('refuses a file with problems, whole', async () => {
    const response = await t.api('/lectern/import', json('POST', { text: `${file}\nculler:\n  every: -1\n` }));
    assert.equal(response.status, 400);
    const body = (await response.json()) as { problems: { key: string }[] };
    assert.equal(body.problems[0]?.key, '');
    assert.equal((await settingsOf(t)).values['culler.idleTimeout'], 3600);
  });

  it('imports the editable settings as the settings page would change them', async () => {
    const response = await t.api('/lectern/import', json('POST', { text: file }));
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { applied: ['culler.idleTimeout'], needsRestart: ['spawner.launchMode'] });
    const { values, pendingRestart } = await settingsOf(t);
    assert.equal(values['culler.idleTimeout'], 1500);
    assert.deepEqual(pendingRestart, ['spawner.launchMode']);
  });
});

describe('export', () => {
  let t: TestHub;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lectern-export-'));
    // The first start made the admin account, teacher.
    t = await startTestHub({ network: { baseUrl: '/class/' }, spawner: { defaultUrl: '/lab', activeServerLimit: 30 } });
    for (const name of ['zoë', 'li.wei', 'alice']) await t.addUser(encodeURIComponent(name), `${name}-password-1`);
    assert.equal((await t.api('/groups/physics-7b', json('POST', { users: ['alice', 'zoë'] }))).status, 201);
    assert.equal((await patch(t, { 'culler.idleTimeout': 1800 })).status, 200);
  });
  after(async () => {
    await t.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function download(format: string): Promise<{ text: string; disposition: string | null; type: string | null }> {
    const response = await t.api(`/lectern/export?format=${format}`);
    assert.equal(response.status, 200);
    return { text: await response.text(), disposition: response.headers.get('content-disposition'), type: response.headers.get('content-type') };
  }

  it('refuses a format it does not know', async () => {
    const response = await t.api('/lectern/export?format=tljh');
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { message: string }).message, /format must be one of lectern, jupyterhub, z2jh/);
  });

  it('gives a jupyterhub_config.py that Python compiles and JupyterHub 3.0 loads', async () => {
    const { text, disposition, type } = await download('jupyterhub');
    assert.equal(disposition, 'attachment; filename=jupyterhub_config.py');
    assert.match(type ?? '', /^text\/x-python; charset=utf-8/);
    assert.match(text, /^c\.Authenticator\.allowed_users\.update\(\{'teacher', 'zoë', 'li\.wei', 'alice'\}\)$/m);
    assert.match(text, /^c\.Authenticator\.admin_users\.update\(\{'teacher'\}\)$/m);
    assert.match(text, /'physics-7b': \['alice', 'zoë'\]/);
    assert.match(text, /--timeout=1800/, 'the change from the settings page is in the export');
    const file = join(dir, 'jupyterhub_config.py');
    await writeFile(file, text);

    const compiled = spawnSync('/usr/bin/python3', ['-c', 'import sys; f = sys.argv[1]; compile(open(f, encoding="utf-8").read(), f, "exec")', file], {
      encoding: 'utf8',
    });
    assert.equal(compiled.status, 0, compiled.stderr);

    // JupyterHub loads the whole file before its API answers: accounts, groups, roles, the culler's
    // service. jupyterhub-idle-culler is not installed here, so the culler's process exits at once
    // ("No module named jupyterhub_idle_culler"): JupyterHub logs that and keeps running, as it does
    // for any managed service that dies; on a real hub it is installed (the header says how).
    const jupyterhub = await startJupyterHubWithConfig(file, { baseUrl: '/class/' });
    try {
      const log = jupyterhub.stderr();
      assert.match(log, /Creating group physics-7b/);
      assert.match(log, /Role jupyterhub-idle-culler added to database/);
      assert.match(log, /Starting managed service jupyterhub-idle-culler/);
      assert.match(log, /JupyterHub is now running at http:\/\/127\.0\.0\.1:\d+\/class\//);
      const info = await fetch(jupyterhub.apiUrl);
      assert.equal(info.status, 200);
      assert.equal(((await info.json()) as { version: string }).version, '3.0.0');
    } finally {
      await jupyterhub.stop();
    }
  });

  it('gives a values.yaml for Zero to JupyterHub with the chart keys', async () => {
    const { text, disposition, type } = await download('z2jh');
    assert.equal(disposition, 'attachment; filename=values.yaml');
    assert.match(type ?? '', /^application\/yaml/);
    const values = parseYaml(text) as {
      hub: { config: { Authenticator: { allowed_users: string[]; admin_users: string[] }; JupyterHub: { load_groups: unknown } } } & Record<string, unknown>;
      singleuser: Record<string, unknown>;
      cull: Record<string, unknown>;
    };
    assert.deepEqual(values.hub.config.Authenticator.allowed_users, ['teacher', 'zoë', 'li.wei', 'alice']);
    assert.deepEqual(values.hub.config.Authenticator.admin_users, ['teacher']);
    assert.deepEqual(values.hub.config.JupyterHub.load_groups, { 'physics-7b': ['alice', 'zoë'] });
    assert.equal(values.hub.baseUrl, '/class/');
    assert.equal(values.hub.concurrentSpawnLimit, 4);
    assert.equal(values.hub.activeServerLimit, 30);
    assert.deepEqual(values.singleuser, { defaultUrl: '/lab', startTimeout: 60, memory: { limit: '2048M' } });
    assert.deepEqual(values.cull, { enabled: true, timeout: 1800, every: 60 });
  });

  it('gives a Lectern config file that Lectern loads, without the admin service token', async () => {
    const { text, disposition } = await download('lectern');
    assert.equal(disposition, 'attachment; filename=lectern.yaml');
    assert.ok(!text.includes('test-admin-token'), 'no service token');
    assert.match(text, /# apiToken: fill in/);
    const file = join(dir, 'lectern.yaml');
    // Filled in as the comment asks, the file loads, with the change from the settings page.
    await writeFile(file, text.replace(/# apiToken: fill in .*/, 'apiToken: a-new-token-for-the-service'));
    const { config } = await loadConfig({ file, env: {} });
    assert.equal(config.culler.idleTimeout, 1800);
    assert.equal(config.network.baseUrl, '/class/');
  });

  it('is written by lectern export, through the running hub and without one', async () => {
    const output = join(dir, 'from-cli.py');
    const running = await lectern(['export', '--format', 'jupyterhub', '--output', output, '--data-dir', t.dataDir]);
    assert.equal(running.code, 0, running.stderr);
    assert.match(await readFile(output, 'utf8'), /--timeout=1800/);

    const printed = await lectern(['export', '--format', 'z2jh', '--data-dir', t.dataDir]);
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal((parseYaml(printed.stdout) as { cull: { timeout: number } }).cull.timeout, 1800);

    const wrong = await lectern(['export', '--format', 'docker', '--data-dir', t.dataDir]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /--format must be one of lectern, jupyterhub, z2jh \("docker"\)/);

    // With the hub stopped the CLI reads the data dir itself, the settings page's change included.
    await t.hub.dispose();
    const offline = await lectern(['export', '--format', 'jupyterhub', '--data-dir', t.dataDir]);
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stdout, /--timeout=1800/);
    assert.match(offline.stdout, /'physics-7b': \['alice', 'zoë'\]/);
  });
});
