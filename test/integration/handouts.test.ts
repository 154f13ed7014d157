/**
 * Handing out files and taking work back: a class gets a handout at once (a running server sees it
 * without a restart), an update never loses a student's work, a planted link gains a student
 * nothing, bad names and oversized files are refused before anything is written, and work is
 * collected at the due time, handed in before and after it, and downloaded as one zip.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readFile, readdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StudentStatus } from '../../server/handouts/handouts.js';
import { fakeServer, startTestHub, type TestHub } from '../helpers/hub.js';
import type { HttpClient } from '../helpers/http-client.js';
import { startAndOpen } from '../helpers/student-server.js';
import { until } from '../helpers/wait.js';

interface HandoutModel {
  id: number;
  name: string;
  version: number;
  collectedAt: string | null;
  files: { path: string; bytes: number }[];
  students: StudentStatus[];
}

const NOTEBOOK = (text: string) =>
  JSON.stringify({ cells: [{ cell_type: 'markdown', metadata: {}, source: text }], metadata: {}, nbformat: 4, nbformat_minor: 5 });

const home = (t: TestHub, user: string) => join(t.dataDir, 'users', user, 'home');

async function createHandout(t: TestHub, body: Record<string, unknown>): Promise<HandoutModel> {
  const created = await t.api('/lectern/handouts', { method: 'POST', body: JSON.stringify(body) });
  assert.equal(created.status, 201, await created.clone().text());
  return (await created.json()) as HandoutModel;
}

async function putFile(t: TestHub, id: number, path: string, content: string | Buffer): Promise<Response> {
  return t.api(`/lectern/handouts/${id}/files?path=${encodeURIComponent(path)}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: content,
  });
}

async function release(t: TestHub, id: number, body: Record<string, unknown> = {}): Promise<number> {
  const released = await t.api(`/lectern/handouts/${id}/release`, { method: 'POST', body: JSON.stringify(body) });
  assert.equal(released.status, 200, await released.clone().text());
  return ((await released.json()) as { version: number }).version;
}

async function handout(t: TestHub, id: number): Promise<HandoutModel> {
  return (await (await t.api(`/lectern/handouts/${id}`)).json()) as HandoutModel;
}

/** Waits until every student the handout is for has `version` (or a problem saying why not). */
async function delivered(t: TestHub, id: number, version: number): Promise<HandoutModel> {
  return until(`version ${version} delivered`, async () => {
    const model = await handout(t, id);
    return model.students.every((student) => student.version === version || student.problem !== null) && model;
  });
}

/** The student's Jupyter contents API, as a notebook page calls it. */
async function contents(server: HttpClient, user: string, path: string, init: { method?: string; body?: string } = {}): Promise<Response> {
  const xsrf = server.cookie('_xsrf');
  return server.request(`/user/${user}/api/contents/${path.split('/').map(encodeURIComponent).join('/')}`, {
    method: init.method ?? 'GET',
    headers: { Origin: server.origin, 'Content-Type': 'application/json', ...(xsrf ? { 'X-XSRFToken': xsrf } : {}) },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
}

describe('handing out to a class', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ culler: { enabled: false } });
    const names = Array.from({ length: 30 }, (_, i) => `s${String(i + 1).padStart(2, '0')}`);
    await t.addUser('s01', 's01-password-1');
    assert.equal((await t.api('/users', { method: 'POST', body: JSON.stringify({ usernames: [...names.slice(1), 'other'] }) })).status, 201);
    assert.equal((await t.api('/groups/7b', { method: 'POST' })).status, 201);
    assert.equal((await t.api('/groups/7b/users', { method: 'POST', body: JSON.stringify({ users: names }) })).status, 200);
  });
  after(() => t?.stop());

  it('gives everyone in the class a copy at once, a running server included; an update keeps what a student changed', async () => {
    // s01 is in class, with her real server running; s02 already has a folder called "lesson 1".
    await mkdir(join(home(t, 's02'), 'lesson 1'), { recursive: true });
    await writeFile(join(home(t, 's02'), 'lesson 1', 'mine.txt'), 'my own notes');

    const created = await createHandout(t, { name: 'lesson 1', class: '7b' });
    assert.equal((await putFile(t, created.id, 'lesson.ipynb', NOTEBOOK('version one'))).status, 201);
    assert.equal((await putFile(t, created.id, 'data/cities.csv', 'city,people\nOslo,700000\n')).status, 201);
    assert.equal(await release(t, created.id), 1);
    let model = await delivered(t, created.id, 1);
    assert.equal(model.students.length, 30, 'the class, not the student outside it');
    assert.deepEqual(model.students.filter((student) => student.problem), []);
    assert.equal(await readFile(join(home(t, 's05'), 'lesson 1', 'data', 'cities.csv'), 'utf8'), 'city,people\nOslo,700000\n');
    await assert.rejects(lstat(join(home(t, 'other'), 'lesson 1')), 'a student outside the class gets nothing');
    // A folder of the student's own by that name is never written to.
    assert.equal(model.students.find((student) => student.user === 's02')?.folder, 'lesson 1 (2)');
    assert.deepEqual(await readdir(join(home(t, 's02'), 'lesson 1')), ['mine.txt']);
    assert.ok((await readdir(join(home(t, 's02'), 'lesson 1 (2)'))).includes('lesson.ipynb'));

    // s01 changes the notebook and deletes the data file from her running server.
    const student = t.client();
    await student.logIn('s01', 's01-password-1');
    const { server } = await startAndOpen(student, 's01');
    const listing = (await (await contents(server, 's01', 'lesson 1')).json()) as { content: { name: string }[] };
    assert.deepEqual(listing.content.map((entry) => entry.name).sort(), ['data', 'lesson.ipynb']);
    const opened = async (user: string) => (await handout(t, created.id)).students.find((student) => student.user === user)?.opened ?? null;
    assert.equal(await opened('s01'), null, 'seeing the folder in a file browser is not opening it');
    assert.equal((await contents(server, 's01', 'lesson 1/lesson.ipynb')).status, 200);
    assert.ok((await opened('s01')) !== null, 'opening the notebook (as every Jupyter app reads it) is');
    assert.equal(await opened('s05'), null);
    const edited = await contents(server, 's01', 'lesson 1/lesson.ipynb', {
      method: 'PUT',
      body: JSON.stringify({ type: 'notebook', format: 'json', content: JSON.parse(NOTEBOOK('my answers')) }),
    });
    assert.equal(edited.status, 200, await edited.text());
    assert.equal((await contents(server, 's01', 'lesson 1/data/cities.csv', { method: 'DELETE' })).status, 204);

    // The teacher updates both files and adds one.
    assert.equal((await putFile(t, created.id, 'lesson.ipynb', NOTEBOOK('version two'))).status, 201);
    assert.equal((await putFile(t, created.id, 'data/cities.csv', 'city,people\nOslo,710000\n')).status, 201);
    assert.equal((await putFile(t, created.id, 'extra.md', '# More')).status, 201);
    assert.equal(await release(t, created.id), 2);
    model = await delivered(t, created.id, 2);

    const ann = join(home(t, 's01'), 'lesson 1');
    assert.match(await readFile(join(ann, 'lesson.ipynb'), 'utf8'), /my answers/, 'her changed notebook is kept');
    assert.match(await readFile(join(ann, 'lesson (version 2).ipynb'), 'utf8'), /version two/, 'the new version sits beside it');
    await assert.rejects(lstat(join(ann, 'data', 'cities.csv')), 'a file she deleted is not forced back');
    assert.equal(await readFile(join(ann, 'extra.md'), 'utf8'), '# More', 'a new file appears');
    const names = ((await (await contents(server, 's01', 'lesson 1')).json()) as { content: { name: string }[] }).content.map((entry) => entry.name);
    assert.ok(names.includes('lesson (version 2).ipynb') && names.includes('extra.md'), `her running server shows them: ${names.join(', ')}`);
    assert.equal(model.students.find((student) => student.user === 's01')?.changed, true);

    // A student who changed nothing simply has the new version.
    assert.match(await readFile(join(home(t, 's05'), 'lesson 1', 'lesson.ipynb'), 'utf8'), /version two/);
    assert.equal(await readFile(join(home(t, 's05'), 'lesson 1', 'data', 'cities.csv'), 'utf8'), 'city,people\nOslo,710000\n');
    assert.deepEqual((await readdir(join(home(t, 's05'), 'lesson 1'))).sort(), ['data', 'extra.md', 'lesson.ipynb']);

    // The teacher may ask for deleted files back.
    await release(t, created.id, { restoreDeleted: true });
    await delivered(t, created.id, 3);
    assert.equal(await readFile(join(ann, 'data', 'cities.csv'), 'utf8'), 'city,people\nOslo,710000\n');
  });
});

describe('handouts against bad input and hostile students', () => {
  let t: TestHub;
  let outside: string;
  before(async () => {
    t = await startTestHub({ ...fakeServer('ok'), culler: { enabled: false } });
    assert.equal((await t.api('/users', { method: 'POST', body: JSON.stringify({ usernames: ['mallory', 'nina'] }) })).status, 201);
    outside = join(t.dataDir, 'teacher-files');
    await mkdir(outside);
    await writeFile(join(outside, 'grades.csv'), 'secret grades');
  });
  after(() => t?.stop());

  it('refuses bad names and oversized files with a clear error, and writes nothing', async () => {
    for (const name of ['../up', '/abs', 'a\u0000b', 'con', 'nul.txt', 'a:b', 'trailing.', '.hidden', 'x'.repeat(81), 'course-data']) {
      const refused = await t.api('/lectern/handouts', { method: 'POST', body: JSON.stringify({ name }) });
      assert.equal(refused.status, 400, `${JSON.stringify(name)}: ${await refused.clone().text()}`);
      assert.match(((await refused.json()) as { message: string }).message, /name/);
    }
    const { id } = await createHandout(t, { name: 'week 2' });
    assert.equal((await t.api('/lectern/handouts', { method: 'POST', body: JSON.stringify({ name: 'week 2' }) })).status, 409);
    assert.equal((await t.api('/lectern/handouts', { method: 'POST', body: JSON.stringify({ name: 'w', class: 'no-such-class' }) })).status, 400);
    for (const path of ['../escape.txt', '/etc/passwd', 'a/../../b', 'C:/x', 'data/.secret', `${'d/'.repeat(12)}f`, 'aux/x.txt', 'x'.repeat(300)]) {
      const refused = await putFile(t, id, path, 'no');
      assert.equal(refused.status, 400, `${path}: ${await refused.clone().text()}`);
    }
    const large = await putFile(t, id, 'big.bin', Buffer.alloc(100 * 2 ** 20 + 1));
    assert.equal(large.status, 413);
    assert.match(((await large.json()) as { message: string }).message, /larger than 100 MiB/);
    assert.deepEqual((await handout(t, id)).files, [], 'nothing of the refused files was kept');
    const empty = await t.api(`/lectern/handouts/${id}/release`, { method: 'POST', body: '{}' });
    assert.equal(empty.status, 400);
    assert.equal((await t.api('/lectern/handouts/999')).status, 404);
    assert.equal((await t.api(`/lectern/handouts/${id}`, { method: 'PATCH', body: JSON.stringify({ dueAt: 'tomorrow' }) })).status, 400);
  });

  it('never writes through a link a student planted', async () => {
    // Mallory links the handout's folder name to the teacher's files before it is handed out.
    const mallory = home(t, 'mallory');
    await mkdir(mallory, { recursive: true });
    await symlink(outside, join(mallory, 'lab'));
    const { id } = await createHandout(t, { name: 'lab' });
    await putFile(t, id, 'grades.csv', 'handout data');
    await putFile(t, id, 'notes/readme.md', 'read me');
    await release(t, id);
    let model = await delivered(t, id, 1);
    assert.equal(model.students.find((student) => student.user === 'mallory')?.folder, 'lab (2)');
    assert.equal(await readFile(join(outside, 'grades.csv'), 'utf8'), 'secret grades');

    // Then, in her copy, she swaps a file and a folder for links to the teacher's files.
    const copy = join(mallory, 'lab (2)');
    await unlink(join(copy, 'grades.csv'));
    await symlink(join(outside, 'grades.csv'), join(copy, 'grades.csv'));
    await rm(join(copy, 'notes'), { recursive: true });
    await symlink(outside, join(copy, 'notes'));
    await putFile(t, id, 'grades.csv', 'handout data, version 2');
    await putFile(t, id, 'notes/readme.md', 'read me, version 2');
    await release(t, id);
    model = await delivered(t, id, 2);
    assert.equal(await readFile(join(outside, 'grades.csv'), 'utf8'), 'secret grades', 'the teacher’s file is untouched');
    assert.deepEqual((await readdir(outside)).sort(), ['grades.csv'], 'nothing was written among the teacher’s files');
    const status = model.students.find((student) => student.user === 'mallory');
    assert.match(status?.problem ?? '', /notes is not a folder/, 'the teacher sees what was not delivered, and why');
    assert.equal(model.students.find((student) => student.user === 'nina')?.problem, null);
    assert.equal(await readFile(join(home(t, 'nina'), 'lab', 'notes', 'readme.md'), 'utf8'), 'read me, version 2');
  });

  it('takes a hand-in from the student’s own page only, never one another site sends', async () => {
    await t.addUser('ola', 'ola-password-1');
    const { id } = await createHandout(t, { name: 'essay' });
    await putFile(t, id, 'essay.md', '# Essay');
    await release(t, id);
    await delivered(t, id, 1);
    const ola = t.client();
    await ola.logIn('ola', 'ola-password-1');
    const page = await ola.request('/hub/handouts');
    assert.match(await page.text(), /<h2>essay<\/h2>/);
    const forged = await ola.request(`/hub/handouts/${id}/hand-in`, { method: 'POST', headers: { Origin: 'http://evil.example' } });
    assert.equal(forged.status, 403);
    assert.equal((await handout(t, id)).students.find((student) => student.user === 'ola')?.handedIn, null, 'nothing was handed in');
    const own = await ola.request(`/hub/handouts/${id}/hand-in`, { method: 'POST', headers: { Origin: t.origin } });
    assert.equal(own.status, 303);
    assert.match(own.headers.get('location') ?? '', /\/hub\/handouts\?handed-in=\d+$/);
    assert.notEqual((await handout(t, id)).students.find((student) => student.user === 'ola')?.handedIn, null);
  });

  it('collects at the due time, takes hand-ins before and after it, and downloads the class’s work as one zip', async () => {
    const { id } = await createHandout(t, { name: 'quiz', late: 'mark' });
    await putFile(t, id, 'answers.md', 'Q1:');
    await release(t, id);
    await delivered(t, id, 1);
    await writeFile(join(home(t, 'nina'), 'quiz', 'answers.md'), 'Q1: 42');

    const token = (await (await t.api('/users/nina/tokens', { method: 'POST', body: '{}' })).json()) as { token: string };
    const handIn = () => t.api(`/lectern/handouts/${id}/hand-in`, { method: 'POST', headers: { Authorization: `token ${token.token}` } });
    const onTime = await handIn();
    assert.equal(onTime.status, 201, await onTime.clone().text());
    assert.equal(((await onTime.json()) as { late: boolean }).late, false);
    await writeFile(join(home(t, 'nina'), 'quiz', 'answers.md'), 'Q1: 42, and I showed my work');

    // Due in a moment: collected then by itself, each student's work as it was.
    const due = new Date(Date.now() + 1500).toISOString();
    assert.equal((await t.api(`/lectern/handouts/${id}`, { method: 'PATCH', body: JSON.stringify({ dueAt: due }) })).status, 200);
    const collected = await until('the collection at the due time', async () => {
      const model = await handout(t, id);
      return model.students.every((student) => student.collected !== null) && model;
    });
    assert.ok(collected.collectedAt !== null);
    assert.equal(await readFile(join(home(t, 'nina'), 'quiz', 'answers.md'), 'utf8'), 'Q1: 42, and I showed my work', 'the student’s file is untouched');

    const late = await handIn();
    assert.equal(late.status, 201);
    assert.equal(((await late.json()) as { late: boolean }).late, true, 'after the due time, marked late');
    assert.equal((await t.api(`/lectern/handouts/${id}`, { method: 'PATCH', body: JSON.stringify({ late: 'refuse', dueAt: due }) })).status, 200);
    const refused = await handIn();
    assert.equal(refused.status, 409);
    assert.match(((await refused.json()) as { message: string }).message, /hand-ins are closed/);

    const zip = await t.api(`/lectern/handouts/${id}/collection`);
    assert.equal(zip.status, 200);
    assert.equal(zip.headers.get('content-type'), 'application/zip');
    const file = join(t.dataDir, 'quiz.zip');
    await writeFile(file, Buffer.from(await zip.arrayBuffer()));
    const listing = execFileSync('/usr/bin/python3', ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); [print(n, z.read(n).decode()) for n in sorted(z.namelist())]', file], { encoding: 'utf8' });
    assert.match(listing, /^quiz\/nina\/answers\.md Q1: 42, and I showed my work$/m, 'her latest: the late hand-in');
    assert.match(listing, /^quiz\/mallory\/answers\.md Q1:$/m);

    // The teacher reads each student's latest snapshot in the read-only view, stepping through the class.
    const teacher = t.client();
    await t.addUser('teach', 'teach-password-1', true);
    await teacher.logIn('teach', 'teach-password-1');
    const snapshotOf = async (user: string) => (await handout(t, id)).students.find((student) => student.user === user)?.latestSnapshot as number;
    const nina = await teacher.request(`/hub/work/nina/answers.md?snapshot=${await snapshotOf('nina')}`);
    assert.equal(nina.status, 200);
    const page = await nina.text();
    assert.match(page, /Q1: 42, and I showed my work/);
    assert.match(page, /nina’s hand-in of \d{4}-\d\d-\d\d \d\d:\d\d UTC \(late\)/);
    assert.match(page, new RegExp(`href="/hub/work/mallory/answers\\.md\\?snapshot=${await snapshotOf('mallory')}">← Previous: mallory`));
    await writeFile(join(home(t, 'mallory'), 'quiz', 'answers.md'), 'Q1: changed after the collection');
    const mallory = await (await teacher.request(`/hub/work/mallory/answers.md?snapshot=${await snapshotOf('mallory')}`)).text();
    assert.match(mallory, /<pre[^>]*>Q1:<\/pre>|>Q1:</, 'the work as it was collected, not as it is now');
    assert.doesNotMatch(mallory, /changed after the collection/);
    // A snapshot is shown only under its own student's name, and to no classmate.
    assert.equal((await teacher.request(`/hub/work/mallory/?snapshot=${await snapshotOf('nina')}`)).status, 404);
    assert.equal((await teacher.request('/hub/work/nina/?snapshot=99999')).status, 404);
    const classmate = t.client();
    await classmate.logIn('ola', 'ola-password-1');
    assert.equal((await classmate.request(`/hub/work/nina/?snapshot=${await snapshotOf('nina')}`)).status, 404);
  });
});

describe('a teaching assistant for one class', () => {
  it('sees, collects and downloads that class’s handouts, and nothing more', async () => {
    const t = await startTestHub({
      ...fakeServer('ok'),
      roles: [{ name: 'ta-7b', scopes: ['lectern:collect!group=7b'], users: ['tara'] }],
    });
    try {
      await t.addUser('tara', 'tara-password-1');
      assert.equal((await t.api('/users', { method: 'POST', body: JSON.stringify({ usernames: ['kim', 'lee'] }) })).status, 201);
      assert.equal((await t.api('/groups/7b', { method: 'POST', body: JSON.stringify({ users: ['kim'] }) })).status, 201);
      assert.equal((await t.api('/groups/8a', { method: 'POST', body: JSON.stringify({ users: ['lee'] }) })).status, 201);
      const ids: Record<string, number> = {};
      for (const [name, group] of [['lab 7b', '7b'], ['lab 8a', '8a'], ['notice', null]] as const) {
        ids[name] = (await createHandout(t, { name, class: group })).id;
        await putFile(t, ids[name] as number, 'task.md', 'Do it.');
        await release(t, ids[name] as number);
      }
      const token = ((await (await t.api('/users/tara/tokens', { method: 'POST', body: '{}' })).json()) as { token: string }).token;
      const tara = (path: string, init: RequestInit = {}) => t.api(path, { ...init, headers: { Authorization: `token ${token}` } });

      const listed = (await (await tara('/lectern/handouts')).json()) as { handouts: { name: string }[] };
      assert.deepEqual(listed.handouts.map((handout) => handout.name), ['lab 7b']);
      assert.equal((await tara(`/lectern/handouts/${ids['lab 7b']}`)).status, 200);
      assert.equal((await tara(`/lectern/handouts/${ids['lab 7b']}/collect`, { method: 'POST' })).status, 200);
      assert.equal((await tara(`/lectern/handouts/${ids['lab 7b']}/collection`)).status, 200);
      // The work collected, read-only in the hub, for her class's handout; another class's is not hers.
      const kimSnapshot = (await handout(t, ids['lab 7b'] as number)).students.find((student) => student.user === 'kim')?.latestSnapshot;
      const browser = t.client();
      await browser.logIn('tara', 'tara-password-1');
      const view = await browser.request(`/hub/work/kim/task.md?snapshot=${kimSnapshot}`);
      assert.equal(view.status, 200);
      assert.match(await view.text(), /Do it\./);
      assert.equal((await browser.request('/hub/work/kim/')).status, 404, 'kim’s live folder is not hers to see');
      const leeSnapshot = (await handout(t, ids['lab 8a'] as number)).students.find((student) => student.user === 'lee')?.latestSnapshot;
      assert.equal(leeSnapshot, null, 'nothing collected of 8a yet');
      for (const other of [ids['lab 8a'], ids.notice]) {
        assert.equal((await tara(`/lectern/handouts/${other}`)).status, 404, 'another class’s handout, or everyone’s, is not hers to see');
        assert.equal((await tara(`/lectern/handouts/${other}/collect`, { method: 'POST' })).status, 404);
      }
      assert.equal((await tara('/lectern/handouts', { method: 'POST', body: JSON.stringify({ name: 'mine' }) })).status, 403, 'only the teacher makes handouts');
      assert.equal((await tara(`/lectern/handouts/${ids['lab 7b']}/release`, { method: 'POST', body: '{}' })).status, 403);
      assert.equal((await t.client().request(`/hub/api/lectern/handouts/${ids['lab 7b']}`)).status, 403, 'without a login, nothing');
    } finally {
      await t.stop();
    }
  });
});
