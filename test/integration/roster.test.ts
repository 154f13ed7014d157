/**
 * A class put on the hub from a roster: the preview's verdicts, an import that is all or nothing,
 * the accounts, groups and passwords it makes, login cards with one-time login links (used once,
 * by a POST only, refused once revoked, replaced or expired), and `lectern users import`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readEvents, type HttpClient } from '../helpers/http-client.js';
import { projectRoot, startTestHub, type TestHub } from '../helpers/hub.js';
import { decodeQrSvg } from '../helpers/qr.js';

const CLI = join(projectRoot(), 'dist/server/cli/main.js');
const REFUSED = /This login link has already been used or has expired/;

interface RosterRow {
  line: number;
  name: string;
  password: string;
  group: string | null;
  problems: string[];
}
interface Imported {
  imported: { name: string; displayName: string | null; group: string | null; password?: string }[];
  cardsUrl: string;
  expiresAt: string;
}

/** Runs the CLI without blocking this process's event loop, where the test hub answers it. */
function lectern(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, LECTERN_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('roster import and login cards', () => {
  let t: TestHub;
  let teacher: HttpClient;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    t.api(path, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } });

  /** The login links on a cards sheet, by username, read back from its QR codes. */
  const cardLinks = async (cardsUrl: string): Promise<Map<string, string>> => {
    const response = await teacher.request(cardsUrl);
    assert.equal(response.status, 200);
    const page = await response.text();
    const links = new Map<string, string>();
    for (const [, name, svg] of page.matchAll(/<article class="login-card" data-name="([^"]+)">[\s\S]*?(<svg[\s\S]*?<\/svg>)/g)) {
      links.set(name as string, decodeQrSvg(svg as string) as string);
    }
    return links;
  };

  /** Opens a login link in a browser with no cookies: the page, then the POST its script makes. */
  const useLink = async (link: string): Promise<{ status: number; client: HttpClient; body: string }> => {
    const student = t.client();
    const page = await student.request(link);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<form class="card" id="login-link-form" method="post"/);
    const response = await student.request(link, { method: 'POST', headers: { Origin: t.origin }, referer: link });
    return { status: response.status, client: student, body: await response.text() };
  };

  before(async () => {
    t = await startTestHub();
    await t.addUser('teach', 'teacher-password-1', true);
    await t.addUser('zed', 'zed-password-1');
    teacher = t.client();
    assert.equal((await teacher.logIn('teach', 'teacher-password-1')).status, 302);
  });
  after(() => t.stop());

  it('previews a roster: duplicates, invalid names, existing accounts and long passwords flagged, classes made group names', async () => {
    const text = ['name,display name,password,class', 'ann,Ann A,,physics', 'a b,,,physics', 'Ann,Ann Again,,', 'zed,,,', `long,,${'x'.repeat(73)},`, 'ok,,,Bad Class'].join('\n');
    const response = await post('/lectern/roster/preview', { text });
    assert.equal(response.status, 200);
    const preview = (await response.json()) as { rows: RosterRow[]; valid: number; invalid: number };
    const problems = Object.fromEntries(preview.rows.map((row) => [row.line, row.problems.join(' ')]));
    assert.equal(problems[2], '');
    assert.match(problems[3] ?? '', /may contain only letters, digits/);
    assert.match(problems[4] ?? '', /ann is already on line 2/);
    assert.match(problems[5] ?? '', /An account named zed already exists/);
    assert.match(problems[6] ?? '', /at most 72 bytes/);
    assert.equal(problems[7], '', 'a class with a space is made a group name');
    assert.equal(preview.rows.find((row) => row.line === 7)?.group, 'Bad-Class');
    assert.deepEqual([preview.valid, preview.invalid], [2, 4]);
    assert.equal(JSON.stringify(preview).includes('x'.repeat(73)), false, 'passwords are never echoed');
  });

  it('refuses text it cannot read, and students', async () => {
    const unreadable = await post('/lectern/roster/preview', { text: 'ann,"Ann\nbob' });
    assert.equal(unreadable.status, 400);
    assert.match(((await unreadable.json()) as { message: string }).message, /quoted value is never closed/);
    const student = t.client();
    await student.logIn('zed', 'zed-password-1');
    const refused = await student.request('/hub/api/lectern/roster/preview', {
      method: 'POST',
      body: JSON.stringify({ text: 'x' }),
      headers: { Origin: t.origin, 'Sec-Fetch-Site': 'same-origin' },
    });
    assert.equal(refused.status, 403);
    await refused.text();
  });

  it('imports all or nothing: one bad row and no account, group or membership is made', async () => {
    const response = await post('/lectern/roster/import', { text: 'nora,,,biology\nomar,,,biology\nzed,,,biology' });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { message: string; rows: RosterRow[]; invalid: number };
    assert.match(body.message, /Nothing was imported: 1 row needs fixing/);
    assert.equal(body.invalid, 1);
    assert.match(body.rows[2]?.problems[0] ?? '', /already exists/);
    for (const path of ['/users/nora', '/users/omar', '/groups/biology']) {
      const missing = await t.api(path);
      assert.equal(missing.status, 404, path);
      await missing.text();
    }
  });

  let imported: Imported;

  it('imports users, groups and memberships, and generated passwords that log in', async () => {
    const text = '\uFEFFClass;Login;Full name;Password\nphysics;ann;Ann Smith;ann-own-password\nphysics;bob;Bob Jones;\nchemistry;cara;;\n;dan;;\n';
    const response = await post('/lectern/roster/import', { text });
    assert.equal(response.status, 201);
    imported = (await response.json()) as Imported;
    assert.deepEqual(
      imported.imported.map(({ name, displayName, group, password }) => [name, displayName, group, password === undefined ? 'given' : 'generated']),
      [
        ['ann', 'Ann Smith', 'physics', 'given'],
        ['bob', 'Bob Jones', 'physics', 'generated'],
        ['cara', null, 'chemistry', 'generated'],
        ['dan', null, null, 'generated'],
      ],
    );
    assert.match(imported.cardsUrl, /^\/hub\/cards\/[\w-]{20,}$/);
    const physics = (await (await t.api('/groups/physics')).json()) as { users: string[] };
    assert.deepEqual(physics.users, ['ann', 'bob']);
    const chemistry = (await (await t.api('/groups/chemistry')).json()) as { users: string[] };
    assert.deepEqual(chemistry.users, ['cara']);

    const bobPassword = imported.imported[1]?.password as string;
    assert.equal((await t.client().logIn('bob', bobPassword)).status, 302, 'a generated password works at /hub/login');
    assert.equal((await t.client().logIn('ann', 'ann-own-password')).status, 302, 'a given password too');
    const logs = t.logLines.join('\n');
    for (const account of imported.imported) if (account.password) assert.equal(logs.includes(account.password), false, 'no password in the log');
  });

  it('streams the import’s progress when asked for events', async () => {
    const response = await post('/lectern/roster/import', { text: 'eve\nfay\ngus' }, { Accept: 'text/event-stream' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    const events = await readEvents(response, (event) => event.done === true);
    assert.deepEqual(events[0], { progress: 0, total: 3 });
    assert.deepEqual(events.at(-2), { progress: 3, total: 3 });
    const last = events.at(-1) as unknown as Imported & { done: boolean };
    assert.equal(last.done, true);
    assert.deepEqual(last.imported.map((account) => account.name), ['eve', 'fay', 'gus']);
  });

  it('prints the cards for exactly the imported students, with passwords and working QR codes', async () => {
    const response = await teacher.request(imported.cardsUrl);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const page = await response.text();
    assert.match(page, /@page|cards\.css/);
    assert.equal((page.match(/class="login-card"/g) ?? []).length, 4);
    for (const account of imported.imported) if (account.password) assert.ok(page.includes(account.password), `${account.name}'s password`);
    assert.ok(page.includes('ann-own-password'), 'a password from the roster is known, so it is printed');
    assert.match(page, /<strong class="join-url">http:\/\/127\.0\.0\.1:\d+\/<\/strong>/, 'the hub is on loopback: the address the browser used');

    const links = await cardLinks(imported.cardsUrl);
    assert.match(links.get('dan') ?? '', new RegExp(`^${t.origin}/hub/login-link/[\\w-]{43}$`));
    const { status, client, body } = await useLink(links.get('dan') as string);
    assert.equal(status, 303, body);
    const me = await client.request('/hub/api/user', { headers: { 'Sec-Fetch-Site': 'same-origin' }, referer: '/hub/home' });
    assert.equal(((await me.json()) as { name: string }).name, 'dan');

    const again = await useLink(links.get('dan') as string);
    assert.equal(again.status, 403);
    assert.match(again.body, REFUSED);
  });

  it('does not use a link on GET: only the POST its page makes', async () => {
    const { cardsUrl } = (await (await post('/lectern/login-cards', { users: ['cara'] })).json()) as { cardsUrl: string };
    const link = (await cardLinks(cardsUrl)).get('cara') as string;
    const prefetcher = t.client();
    for (let i = 0; i < 3; i++) {
      const page = await prefetcher.request(link);
      assert.equal(page.status, 200);
      await page.text();
    }
    assert.equal(prefetcher.cookie('lectern-session'), undefined, 'a GET logs nobody in');
    const crossSite = await t.client().request(link, { method: 'POST', headers: { 'Sec-Fetch-Site': 'cross-site' } });
    assert.equal(crossSite.status, 403, 'another site cannot use it');
    await crossSite.text();
    assert.equal((await useLink(link)).status, 303, 'still usable after the GETs');
    const secret = link.split('/').at(-1) as string;
    assert.equal(t.logLines.some((line) => line.includes(secret)), false, 'the secret is never logged');
    assert.ok(t.logLines.some((line) => line.includes('/hub/login-link/[secret]')));
  });

  it('keeps cards already handed out working when cards are printed again, unless told they were lost', async () => {
    const { cardsUrl: first } = (await (await post('/lectern/login-cards', { users: ['bob', 'eve', 'gus'] })).json()) as { cardsUrl: string };
    const firstLinks = await cardLinks(first);
    const { cardsUrl: again } = (await (await post('/lectern/login-cards', { users: ['gus'] })).json()) as { cardsUrl: string };
    assert.match(await (await teacher.request(again)).text(), /<em>your password<\/em>/, 'a reprinted card shows no password: nobody can print the old one');
    assert.equal((await useLink(firstLinks.get('gus') as string)).status, 303, 'the card handed out before still logs gus in');
    assert.equal((await useLink((await cardLinks(again)).get('gus') as string)).status, 303, 'and so does the new one');

    const { cardsUrl: lost } = (await (await post('/lectern/login-cards', { users: ['eve'], revokeEarlier: true })).json()) as { cardsUrl: string };
    assert.match((await useLink(firstLinks.get('eve') as string)).body, REFUSED, 'a lost card stops working when the teacher says so');
    assert.equal((await useLink((await cardLinks(lost)).get('eve') as string)).status, 303);

    const revoke = await t.api('/lectern/users/bob/login-links', { method: 'DELETE' });
    assert.equal(revoke.status, 204);
    assert.match((await useLink(firstLinks.get('bob') as string)).body, REFUSED, 'revoked');
  });

  it('prints new passwords on the cards when asked, and the old password and cards stop working', async () => {
    await t.addUser('hank', 'hank-password-1');
    const { cardsUrl: old } = (await (await post('/lectern/login-cards', { users: ['hank'] })).json()) as { cardsUrl: string };
    const oldLink = (await cardLinks(old)).get('hank') as string;
    const { cardsUrl } = (await (await post('/lectern/login-cards', { users: ['hank'], newPasswords: true })).json()) as { cardsUrl: string };
    const page = await (await teacher.request(cardsUrl)).text();
    const password = /data-name="hank"[\s\S]*?class="password"[^>]*>([a-z]+-[a-z]+-[a-z]+-\d+)</.exec(page)?.[1];
    assert.ok(password, 'the card shows its new password');
    assert.equal((await t.client().logIn('hank', password)).status, 302, 'it logs hank in (to choose his own)');
    assert.equal((await t.client().logIn('hank', 'hank-password-1')).status, 403, 'his old password is gone');
    assert.match((await useLink(oldLink)).body, REFUSED, 'and so is his old card');
  });

  it('refuses expired links', async () => {
    const short = (await (await post('/lectern/login-cards', { users: ['fay'], expiresInHours: 0.0002 })).json()) as { cardsUrl: string; expiresAt: string };
    const link = (await cardLinks(short.cardsUrl)).get('fay') as string;
    await new Promise((resolve) => setTimeout(resolve, Date.parse(short.expiresAt) - Date.now() + 50));
    const expired = await useLink(link);
    assert.equal(expired.status, 403);
    assert.match(expired.body, REFUSED, 'expired');
  });

  it('refuses cards for unknown users and admins, and links lasting over 30 days', async () => {
    for (const [body, message] of [
      [{ users: ['nobody'] }, /No such user: nobody/],
      [{ users: ['teach'] }, /teach is an admin/],
      [{ users: ['ann'], expiresInHours: 721 }, /at most 30 days/],
    ] as const) {
      const response = await post('/lectern/login-cards', body);
      assert.equal(response.status, 400);
      assert.match(((await response.json()) as { message: string }).message, message);
    }
  });

  it('shows card sheets to logged-in admins only, and says how to make new ones once expired', async () => {
    const anonymous = await t.client().request(imported.cardsUrl);
    assert.equal(anonymous.status, 302);
    assert.match(anonymous.headers.get('location') ?? '', /^\/hub\/login\?next=/);
    const student = t.client();
    await student.logIn('ann', 'ann-own-password');
    const refused = await student.request(imported.cardsUrl);
    assert.equal(refused.status, 403);
    assert.doesNotMatch(await refused.text(), /ann-own-password/);
    const gone = await teacher.request('/hub/cards/no-such-sheet');
    assert.equal(gone.status, 410);
    assert.match(await gone.text(), /choose the students on the dashboard's Users screen and press <strong>Print login cards/);
    const rosterPage = await teacher.request('/hub/roster');
    assert.equal(rosterPage.status, 301, 'the old roster page leads to the dashboard, where classes are imported');
    assert.equal(rosterPage.headers.get('location'), '/hub/admin');
  });

  it('imports from the command line through the running hub, with a cards URL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lectern-roster-'));
    try {
      const file = join(dir, 'class.csv');
      await writeFile(file, 'name,class\nhal,physics\nivy,physics\n');
      const result = await lectern(['users', 'import', file, '--cards', '--data-dir', t.dataDir]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /Created 2 accounts/);
      assert.match(result.stdout, /hal\s+physics\s+\w+-\w+-\w+-\d+/);
      assert.match(result.stdout, new RegExp(`Login cards: open ${t.origin}/hub/cards/[\\w-]+ `));
      const physics = (await (await t.api('/groups/physics')).json()) as { users: string[] };
      assert.deepEqual(physics.users, ['ann', 'bob', 'hal', 'ivy']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('lectern users import without a hub', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lectern-roster-cli-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('prints the problems of a bad roster, imports nothing and exits 1', async () => {
    const file = join(dir, 'bad.csv');
    await writeFile(file, 'login\nann\nbob\nann\n');
    const dataDir = join(dir, 'data-bad');
    const result = await lectern(['users', 'import', file, '--data-dir', dataDir]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Nothing was imported: 1 of 3 rows/);
    assert.match(result.stderr, /line 4 \(ann\): ann is already on line 2/);
    assert.match((await lectern(['users', 'list', '--data-dir', dataDir])).stdout, /No accounts yet/);
  });

  it('creates the accounts, prints generated passwords once, and says cards need a running hub', async () => {
    const file = join(dir, 'class.txt');
    // Saved by a spreadsheet program on Windows: Windows-1252, not UTF-8.
    await writeFile(file, Buffer.from('ann\tAnn Smith\t\tphysics\nbob\tBob Jos\xe9\tbob-own-password\n', 'latin1'));
    const dataDir = join(dir, 'data');
    const result = await lectern(['users', 'import', file, '--cards', '--data-dir', dataDir]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Created 2 accounts/);
    assert.match(result.stdout, /ann\s+Ann Smith\s+physics\s+\w+-\w+-\w+-\d+/);
    assert.match(result.stdout, /bob\s+Bob José\s+\(from the file\)/);
    assert.match(result.stdout, /No login cards: they are made by a running hub/);
    const list = (await lectern(['users', 'list', '--data-dir', dataDir])).stdout;
    assert.match(list, /^ann\b/m);
    assert.match(list, /^bob\b/m);
  });
});
