/**
 * A student's work as the teacher looks at it: `/hub/work/<name>/…`, rendered by the hub from the
 * student's folder with no server of hers running and nothing of hers run. Notebooks hold hostile
 * outputs; the folder holds links out of it and hidden files; names are tried by a classmate.
 */
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HttpClient } from '../helpers/http-client.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

const HOSTILE_NOTEBOOK = JSON.stringify({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: { trusted: true },
  cells: [
    { cell_type: 'markdown', metadata: {}, source: '# Homework 1\n<script>alert(1)</script>' },
    {
      cell_type: 'code',
      metadata: { trusted: true },
      execution_count: 1,
      source: 'make_me_admin()',
      outputs: [
        { output_type: 'display_data', metadata: {}, data: { 'text/html': "<script>fetch('/hub/api/users/ann', { method: 'PATCH', body: '{\"admin\": true}' })</script><p>my answer is 42</p>" } },
        { output_type: 'stream', name: 'stdout', text: 'y'.repeat(250_000) },
      ],
    },
  ],
});

describe('a student’s work, read by the hub', () => {
  let t: TestHub;
  let teacher: HttpClient;
  const home = (name: string) => join(t.dataDir, 'users', name, 'home');

  before(async () => {
    t = await startTestHub();
    await t.addUser('teach', 'teacher-password-1', true);
    for (const name of ['ann', 'anna']) await t.addUser(name, `${name}-password-1`);
    await mkdir(join(home('ann'), 'week 1'), { recursive: true });
    await mkdir(join(home('ann'), '.ssh'), { recursive: true });
    await mkdir(home('anna'), { recursive: true });
    await writeFile(join(home('ann'), 'week 1', 'homework.ipynb'), HOSTILE_NOTEBOOK);
    await writeFile(join(home('ann'), 'broken.ipynb'), '{"cells": [');
    await writeFile(join(home('ann'), 'notes.md'), '**bold** <img src=x onerror=alert(1)>');
    await writeFile(join(home('ann'), '.ssh', 'id_rsa'), 'private key');
    await writeFile(join(home('anna'), 'essay.txt'), 'anna’s essay');
    await symlink(join(home('anna'), 'essay.txt'), join(home('ann'), 'annas-essay.txt'));
    await symlink('/etc/hostname', join(home('ann'), 'system.txt'));
    teacher = t.client();
    await teacher.logIn('teach', 'teacher-password-1');
  });
  after(() => t.stop());

  it('lists her folder, without hidden files or links that lead out of it', async () => {
    const page = await teacher.request('/hub/work/ann/');
    assert.equal(page.status, 200);
    const text = await page.text();
    assert.match(text, /href="\/hub\/work\/ann\/week%201">week 1\/<\/a>/);
    assert.match(text, />notes\.md</);
    for (const hidden of ['.ssh', 'annas-essay', 'system.txt']) assert.ok(!text.includes(hidden), hidden);
  });

  it('shows a notebook with its answers and runs nothing of hers, in a page that could not run it anyway', async () => {
    const page = await teacher.request('/hub/work/ann/week%201/homework.ipynb');
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /(^|; )sandbox($|;)/, 'an opaque origin: even a script that slipped through could not reach the hub');
    const text = await page.text();
    assert.match(text, /<h1>Homework 1<\/h1>/);
    assert.match(text, /my answer is 42/);
    assert.doesNotMatch(text, /<script>(alert|fetch)/);
    assert.match(text, /more characters not shown/);
    const ann = (await (await t.api('/users/ann')).json()) as { admin: boolean };
    assert.equal(ann.admin, false);
  });

  it('says clearly what it cannot show', async () => {
    const broken = await teacher.request('/hub/work/ann/broken.ipynb');
    assert.equal(broken.status, 200);
    assert.match(await broken.text(), /This notebook cannot be shown: it is not valid JSON/);
    const markdown = await (await teacher.request('/hub/work/ann/notes.md')).text();
    assert.match(markdown, /<strong>bold<\/strong>/);
    assert.doesNotMatch(markdown, /onerror/);
  });

  it('never leaves her folder: a link out, a hidden file, a path with .. — all not there', async () => {
    for (const path of ['annas-essay.txt', 'system.txt', '.ssh/id_rsa', '..%2F..%2Fanna%2Fhome%2Fessay.txt', '%2E%2E/%2E%2E/anna/home/essay.txt', 'week%201/..%2F..%2F..%2Flectern.sqlite']) {
      const response = await teacher.request(`/hub/work/ann/${path}`);
      assert.equal(response.status, 404, path);
      const text = await response.text();
      assert.ok(!text.includes('anna’s essay') && !text.includes('private key'), path);
    }
  });

  it('is hers and the teacher’s only: a classmate gets what a missing name gets, and a stranger the login page', async () => {
    const ann = t.client();
    await ann.logIn('ann', 'ann-password-1');
    assert.equal((await ann.request('/hub/work/ann/notes.md')).status, 200, 'her own work');
    const anna = t.client();
    await anna.logIn('anna', 'anna-password-1');
    assert.equal((await anna.request('/hub/work/ann/')).status, 404);
    assert.equal((await anna.request('/hub/work/nobody/')).status, 404);
    const stranger = await t.client().request('/hub/work/ann/');
    assert.equal(stranger.status, 302);
    assert.match(stranger.headers.get('location') ?? '', /^\/hub\/login\?next=/);
  });
});
