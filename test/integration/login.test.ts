/**
 * Logging in, over HTTP against a real hub: throttling of password guesses, answers that never tell
 * an unknown name from a wrong password, passwords bcrypt cannot check whole, and the three login
 * modes — accounts, sign-up with the class join code (with and without the teacher's approval),
 * and first use.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HttpClient } from '../helpers/http-client.js';
import { TestClock } from '../helpers/clock.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';

/** What a browser gets back, with the typed name taken out of the page so two names can be compared. */
async function answer(response: Response, typedName: string) {
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    cookies: response.headers.getSetCookie(),
    body: (await response.text()).replaceAll(typedName, '<name>'),
  };
}

/** Submits the join form as a browser on the hub's own page would. */
function join(client: HttpClient, fields: { code: string; username: string; password: string; password2?: string; displayName?: string }) {
  return client.request('/hub/join', {
    method: 'POST',
    body: new URLSearchParams({ displayName: '', password2: fields.password, ...fields }),
    headers: { Origin: client.origin, 'Content-Type': 'application/x-www-form-urlencoded' },
    referer: '/hub/join',
  });
}

async function joinSettings(t: TestHub) {
  const response = await t.api('/lectern/join');
  assert.equal(response.status, 200);
  return (await response.json()) as { mode: string; code: string | null; approval: boolean; pending: string[] };
}

describe('logging in with accounts', () => {
  let t: TestHub;
  const clock = new TestClock();
  before(async () => {
    t = await startTestHub({}, { clock: clock.now });
    await t.addUser('alice', 'alice-password-1');
    await t.addUser('bob', 'bob-password-1');
    await t.addUser('carol', 'carol-password-1');
  });
  after(() => t.stop());

  it('answers an unknown name exactly as a wrong password: status, page, cookies', async () => {
    const wrong = await answer(await t.client().logIn('bob', 'not-bobs-password'), 'bob');
    const unknown = await answer(await t.client().logIn('nobody', 'not-bobs-password'), 'nobody');
    assert.equal(wrong.status, 403);
    assert.match(wrong.body, /Invalid username or password/);
    assert.deepEqual(wrong.cookies, []);
    assert.deepEqual(unknown, wrong);
  });

  it('refuses a password over 72 bytes with a reason, for a known and an unknown name alike, without checking it', async () => {
    const long = `alice-password-1${'x'.repeat(84)}`;
    const known = await answer(await t.client().logIn('alice', long), 'alice');
    const unknown = await answer(await t.client().logIn('nobody2', long), 'nobody2');
    assert.equal(known.status, 400);
    assert.match(known.body, /at most 72 bytes/);
    assert.deepEqual(unknown, known);
  });

  it('normalises the typed name: case, full-width letters and surrounding spaces are one account', async () => {
    for (const typed of ['  Alice ', 'ＡＬＩＣＥ']) {
      assert.equal((await t.client().logIn(typed, 'alice-password-1')).status, 302, typed);
    }
  });

  it('takes a teacher to the dashboard, not to a server of their own, and a student to theirs', async () => {
    await t.addUser('teach', 'teacher-password-1', true);
    const teacher = t.client();
    const login = await teacher.logIn('teach', 'teacher-password-1');
    assert.equal(login.headers.get('location'), '/hub/admin');
    const hubRoot = await teacher.request('/hub/');
    assert.equal(hubRoot.headers.get('location'), '/hub/admin');
    assert.equal(((await (await t.api('/users/teach')).json()) as { server: string | null }).server, null, 'nothing started for the teacher');
    assert.equal((await t.client().logIn('carol', 'carol-password-1')).headers.get('location'), '/hub/spawn');
  });

  it('finds a name typed without its accents, unless two accounts would fit', async () => {
    await t.addUser('amélie', 'amelie-password-1');
    await t.addUser('léa', 'lea-password-1');
    await t.addUser('lëa', 'lea-password-2');
    const amelie = t.client();
    assert.equal((await amelie.logIn('Amelie', 'amelie-password-1')).status, 302, 'a keyboard without accents is fine');
    assert.equal(((await (await amelie.request('/hub/api/user', { referer: '/hub/home' })).json()) as { name: string }).name, 'amélie');
    assert.equal((await t.client().logIn('lea', 'lea-password-1')).status, 403, 'léa or lëa: the hub does not guess');
    assert.equal((await t.client().logIn('léa', 'lea-password-1')).status, 302);
  });

  it('makes guesses at one account wait after five, the same way for a name that does not exist', async () => {
    const throttledAnswer = async (name: string, password: string) => {
      for (let i = 0; i < 5; i++) assert.equal((await t.client().logIn(name, `guess-${i}-password`)).status, 403);
      return answer(await t.client().logIn(name, password), name);
    };
    // The right password, once throttled, is not even checked.
    const known = await throttledAnswer('alice', 'alice-password-1');
    assert.equal(known.status, 429);
    assert.equal(known.retryAfter, '1');
    assert.match(known.body, /Too many failed attempts\. Wait 1 second, then try again\./);
    assert.deepEqual(known.cookies, []);
    const unknown = await throttledAnswer('nobody3', 'whatever-password');
    assert.deepEqual(unknown, known);

    // Never for good: after the wait, the right password works and the count starts afresh.
    clock.advance(1_100);
    assert.equal((await t.client().logIn('alice', 'alice-password-1')).status, 302);
    assert.equal((await t.client().logIn('alice', 'another-guess-password')).status, 403);
  });

  it('throttles password logins through the API as the login page does', async () => {
    const ask = async (password: string) => {
      const body = JSON.stringify({ auth: { username: 'carol', password } });
      const response = await t.client().request('/hub/api/users/carol/tokens', { method: 'POST', body });
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as { message: string } };
    };
    for (let i = 0; i < 5; i++) assert.equal((await ask(`guess-${i}-password`)).status, 403);
    const throttled = await ask('carol-password-1');
    assert.equal(throttled.status, 429);
    assert.equal(throttled.retryAfter, '1');
    assert.match(throttled.body.message, /Too many failed attempts/);
  });

  it('has no join page, and says how students get in instead', async () => {
    const login = await (await t.client().request('/hub/login')).text();
    assert.doesNotMatch(login, /Join with a class code/);
    const page = await t.client().request('/hub/join');
    assert.equal(page.status, 404);
    assert.match(await page.text(), /no join page: log in with the username and password your teacher gave you/);
    const settings = await joinSettings(t);
    assert.deepEqual(settings, { mode: 'accounts', code: null, approval: false, pending: [] });
    const rotate = await t.api('/lectern/join/code', { method: 'POST' });
    assert.equal(rotate.status, 400);
    assert.match(((await rotate.json()) as { message: string }).message, /only when auth\.loginMode is "join-code"/);
  });
});

describe('joining with the class code', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ auth: { loginMode: 'join-code' } });
  });
  after(() => t.stop());

  it('links the join page from the login page', async () => {
    const page = await (await t.client().request('/hub/login?next=%2Fhub%2Fhome')).text();
    assert.match(page, /<a href="\/hub\/join\?next=%2Fhub%2Fhome">Join with a class code<\/a>/);
    const form = await t.client().request('/hub/join');
    assert.equal(form.status, 200);
    assert.match(await form.text(), /name="code"/);
  });

  it('signs a student up and logs them in at once, as they typed the code', async () => {
    const { code, mode, approval } = await joinSettings(t);
    assert.equal(mode, 'join-code');
    assert.equal(approval, false);
    assert.match(code ?? '', /^[2-9A-Z]{3}-[2-9A-Z]{3}$/);
    const dana = t.client();
    const typed = ` ${(code ?? '').replace('-', ' ').toLowerCase()} `;
    const response = await join(dana, { code: typed, username: 'Dana', password: 'dana-password-1', displayName: 'Dana Scully' });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), '/hub/spawn');
    assert.ok(dana.cookie('lectern-session'), 'logged in');
    const home = await dana.request('/hub/home');
    assert.equal(home.status, 200);
    assert.match(await home.text(), /dana/);
    assert.equal((await t.client().logIn('dana', 'dana-password-1')).status, 302, 'and can log in again later');
  });

  it('says the password rule before the student types one', async () => {
    const page = await (await t.client().request('/hub/join')).text();
    assert.match(page, /At least 8 characters/);
    assert.match(page, /id="password" name="password" type="password" autocomplete="new-password" required\s+minlength="8"/);
  });

  it('refuses a name that is taken, passwords that differ, and a bad name, keeping what was typed', async () => {
    const { code } = await joinSettings(t);
    const taken = await join(t.client(), { code: code ?? '', username: 'dana', password: 'other-password-1' });
    assert.equal(taken.status, 409);
    assert.equal(taken.headers.get('cache-control'), 'no-store');
    const takenPage = await taken.text();
    assert.match(takenPage, /That name is taken: choose another\./);
    assert.equal(takenPage.match(/value="other-password-1"/g)?.length, 2, 'a mistake in the name keeps both password boxes filled');
    const differ = await join(t.client(), { code: code ?? '', username: 'eve', password: 'eve-password-1', password2: 'eve-password-2' });
    assert.equal(differ.status, 400);
    const page = await differ.text();
    assert.match(page, /not the same/);
    assert.match(page, /value="eve"/);
    assert.doesNotMatch(page, /eve-password/, 'passwords that were the mistake are typed again');
    const bad = await join(t.client(), { code: code ?? '', username: 'eve/../x', password: 'eve-password-1' });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /may contain only letters, digits/);
  });

  it('stops taking the old code once the teacher rotates it', async () => {
    const before = (await joinSettings(t)).code ?? '';
    const rotated = await t.api('/lectern/join/code', { method: 'POST' });
    assert.equal(rotated.status, 200);
    const after = ((await rotated.json()) as { code: string }).code;
    assert.notEqual(after, before);
    assert.equal((await join(t.client(), { code: before, username: 'frank', password: 'frank-password-1' })).status, 403);
    assert.equal((await join(t.client(), { code: after, username: 'frank', password: 'frank-password-1' })).status, 303);
  });

  it('refuses a wrong code, and throttles guesses at it like logins', async () => {
    const wrong = await join(t.client(), { code: 'AAA-AAA', username: 'gina', password: 'gina-password-1' });
    assert.equal(wrong.status, 403);
    const page = await wrong.text();
    assert.match(page, /That class code is not right\./);
    assert.match(page, /value="gina"/, 'the rest of the form is kept');
    for (let i = 0; i < 4; i++) await join(t.client(), { code: `AAA-AA${i}`, username: 'gina', password: 'gina-password-1' });
    const { code } = await joinSettings(t);
    const throttled = await join(t.client(), { code: code ?? '', username: 'gina', password: 'gina-password-1' });
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers.get('retry-after')) >= 1);
    assert.match(await throttled.text(), /Too many failed attempts/);
  });
});

describe('joining with the class code and the teacher’s approval', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ auth: { loginMode: 'join-code', joinApproval: true, joinCode: 'Physics 7B' } });
  });
  after(() => t.stop());

  it('keeps a sign-up waiting until the teacher lets it in', async () => {
    const student = t.client();
    const signUp = await join(student, { code: 'physics-7b', username: 'hana', password: 'hana-password-1' });
    assert.equal(signUp.status, 202);
    assert.match(await signUp.text(), /Waiting for your teacher to let you in/);
    assert.equal(student.cookie('lectern-session'), undefined, 'not logged in');
    assert.deepEqual((await joinSettings(t)).pending, ['hana']);

    const wrong = await t.client().logIn('hana', 'not-hanas-password');
    assert.equal(wrong.status, 403);
    assert.doesNotMatch(await wrong.text(), /Waiting for your teacher/, 'only a right password learns the account waits');
    const waiting = await t.client().logIn('hana', 'hana-password-1');
    assert.equal(waiting.status, 403);
    assert.match(await waiting.text(), /Waiting for your teacher to let you in/);
    assert.deepEqual(waiting.headers.getSetCookie().map((cookie) => cookie.split('=')[0]), ['lectern-waiting'], 'not logged in: only the waiting page’s ticket');

    const early = await t.api('/users/hana/server', { method: 'POST' });
    assert.equal(early.status, 400, 'a waiting sign-up has no server yet');
    assert.match(((await early.json()) as { message: string }).message, /hana's sign-up is waiting for your approval: let them in first/);

    for (let i = 0; i < 2; i++) assert.equal((await t.api('/lectern/users/hana/approve', { method: 'POST' })).status, 204);
    assert.equal((await t.api('/lectern/users/nobody/approve', { method: 'POST' })).status, 404);
    assert.deepEqual((await joinSettings(t)).pending, []);
    assert.equal((await t.client().logIn('hana', 'hana-password-1')).status, 302);
  });

  it('moves the waiting page on by itself once the teacher lets the student in', async () => {
    const student = t.client();
    const signUp = await join(student, { code: 'physics-7b', username: 'ines', password: 'ines-password-1' });
    assert.equal(signUp.status, 202);
    assert.match(await signUp.text(), /<meta http-equiv="refresh" content="4; url=\/hub\/waiting">/);
    assert.ok(student.cookie('lectern-waiting'), 'the waiting page holds a ticket');

    const still = await student.request('/hub/waiting');
    assert.equal(still.status, 200);
    assert.match(await still.text(), /Waiting for your teacher to let you in/);
    assert.equal((await t.client().request('/hub/waiting')).status, 302, 'without the ticket, the login page');

    assert.equal((await t.api('/lectern/users/ines/approve', { method: 'POST' })).status, 204);
    const moved = await student.request('/hub/waiting');
    assert.equal(moved.status, 303);
    assert.equal(moved.headers.get('location'), '/hub/spawn');
    assert.ok(student.cookie('lectern-session'), 'logged in without typing the password again');
    assert.equal((await student.request('/hub/home')).status, 200);
    assert.equal((await student.request('/hub/waiting')).status, 302, 'the ticket is used up');
  });

  it('tells a waiting student the teacher turned the sign-up away', async () => {
    const student = t.client();
    assert.equal((await join(student, { code: 'physics-7b', username: 'jon', password: 'jon-password-1' })).status, 202);
    assert.equal((await t.api('/users/jon', { method: 'DELETE' })).status, 204);
    const page = await student.request('/hub/waiting');
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Your teacher did not let this sign-up in/);
    assert.equal(student.cookie('lectern-session'), undefined);
  });

  it('cannot rotate a code fixed in the config, and says where to change it', async () => {
    const response = await t.api('/lectern/join/code', { method: 'POST' });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { message: string }).message, /fixed by auth\.joinCode in the config file/);
    assert.equal((await joinSettings(t)).code, 'Physics 7B');
  });
});

describe('first-use passwords', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub({ auth: { loginMode: 'first-use' } });
    for (const name of ['ivan', 'jill', 'kim']) assert.equal((await t.api(`/users/${name}`, { method: 'POST' })).status, 201);
  });
  after(() => t.stop());

  it('makes the first password a listed student types theirs', async () => {
    const page = await (await t.client().request('/hub/login')).text();
    assert.match(page, /First time here\?/);
    const short = await t.client().logIn('ivan', 'short');
    assert.equal(short.status, 400);
    assert.match(await short.text(), /first login.*at least 8 characters/);
    assert.equal((await t.client().logIn('ivan', 'ivan-password-1')).status, 302);
    assert.equal((await t.client().logIn('ivan', 'another-password')).status, 403, 'the first password stays');
    assert.equal((await t.client().logIn('ivan', 'ivan-password-1')).status, 302);
  });

  it('refuses a name not listed exactly as a wrong password', async () => {
    const wrong = await answer(await t.client().logIn('ivan', 'not-ivans-password'), 'ivan');
    const unlisted = await answer(await t.client().logIn('zed', 'not-ivans-password'), 'zed');
    assert.equal(wrong.status, 403);
    assert.deepEqual(unlisted, wrong);
  });
});

describe('card codes typed at /hub/card', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub();
  });
  after(() => t.stop());

  it('refuses a wrong code with the same answer, keeps it typed, and throttles guesses like logins', async () => {
    const guess = (code: string) =>
      t.client().request('/hub/card', {
        method: 'POST',
        body: new URLSearchParams({ code }),
        headers: { Origin: t.origin, 'Content-Type': 'application/x-www-form-urlencoded' },
      });
    const wrong = await guess('AAAA-BBBB');
    assert.equal(wrong.status, 403);
    const page = await wrong.text();
    assert.match(page, /That card code is not right, or it has been used or has expired\./);
    assert.match(page, /value="AAAA-BBBB"/);
    for (let i = 0; i < 4; i++) await guess(`AAAA-BBB${i + 2}`);
    const throttled = await guess('AAAA-CCCC');
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers.get('retry-after')) >= 1);
    const login = await (await t.client().request('/hub/login')).text();
    assert.match(login, /<a href="\/hub\/card">I have a login card<\/a>/);
  });
});
