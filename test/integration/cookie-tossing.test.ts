/**
 * Cookie tossing: a student's server answers with cookies meant for the hub or for a classmate's
 * server, hoping the teacher opens it. Through the proxy, on a page and on a websocket handshake, the
 * hub's cookies never arrive and the rest stay on the student's own path; a login cookie planted
 * beside the teacher's logs that browser out instead of in. A small fake server stands for the hostile
 * one (it sets whatever cookies it is told to).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { fakeServer, startTestHub, type TestHub } from '../helpers/hub.js';
import { startServer } from '../helpers/student-server.js';

const HOSTILE_COOKIES = [
  'lectern-session=ANNS-LOGIN; Path=/hub/; HttpOnly',
  'lectern-server=forged; Path=/user/anna/',
  '_xsrf=CHOSEN-BY-ANN; Path=/',
  'jupyterhub-user-anna=stolen; Path=/user/anna/',
  'pref=dark; Domain=127.0.0.1; Path=/user/ann/lab',
];

/** What each cookie a response set would do in a browser: its name and Path (no Domain left). */
function cookies(setCookies: string[]): { name: string; path: string | undefined; domain: boolean }[] {
  return setCookies.map((cookie) => ({
    name: cookie.slice(0, cookie.indexOf('=')),
    path: /;\s*Path=([^;]*)/i.exec(cookie)?.[1],
    domain: /;\s*Domain=/i.test(cookie),
  }));
}

const EXPECTED = [
  { name: '_xsrf', path: '/user/ann/', domain: false },
  { name: 'jupyterhub-user-anna', path: '/user/ann/', domain: false },
  { name: 'pref', path: '/user/ann/lab', domain: false },
];

describe('cookies a student’s server sets', () => {
  let t: TestHub;
  before(async () => {
    const fake = fakeServer('ok');
    t = await startTestHub({ spawner: { ...(fake.spawner as { environment: Record<string, string> }), environment: { FAKE_SERVER_MODE: 'ok', FAKE_SET_COOKIES: JSON.stringify(HOSTILE_COOKIES) } } });
    await t.addUser('ann', 'ann-password-1');
    await t.addUser('teach', 'teacher-password-1', true);
    await startServer(t.api, '/users/ann/server');
  });
  after(() => t.stop());

  it('never reach the hub or a classmate’s server when the teacher opens her server, and the teacher stays the teacher', async () => {
    const teacher = t.client();
    await teacher.logIn('teach', 'teacher-password-1');
    const login = teacher.cookie('lectern-session');
    const { response, hops } = await teacher.follow('/user/ann/tree');
    assert.equal(response.status, 200, hops.map((hop) => `${hop.status} ${hop.url}`).join('\n'));
    assert.deepEqual(cookies(response.headers.getSetCookie()), EXPECTED);
    assert.equal(teacher.cookie('lectern-session'), login, 'the teacher’s login cookie is untouched');
    const me = await teacher.request('/hub/api/user', { referer: '/hub/home' });
    assert.equal(((await me.json()) as { name: string }).name, 'teach');
  });

  it('are vetted on a websocket handshake too', async () => {
    const url = `${t.origin.replace(/^http/, 'ws')}/user/ann/ws`;
    const setCookies = await new Promise<string[]>((resolve, reject) => {
      const socket = new WebSocket(url, { headers: { Authorization: 'token test-admin-token-0123456789abcdef' } });
      socket.on('upgrade', (answer) => {
        const header = answer.headers['set-cookie'];
        resolve(Array.isArray(header) ? header : []);
        socket.terminate();
      });
      socket.on('error', reject);
    });
    assert.deepEqual(cookies(setCookies), EXPECTED);
  });

  it('a second login cookie, planted under another path, logs the browser out and both are cleared', async () => {
    const teacher = t.client();
    await teacher.logIn('teach', 'teacher-password-1');
    const own = teacher.cookie('lectern-session') as string;
    // As a browser sends them: the planted one (a longer Path, /hub/api/) first.
    const tossed = await fetch(`${t.origin}/hub/api/user`, {
      headers: { Cookie: `lectern-session=ANNS-LOGIN; lectern-session=${own}`, Referer: `${t.origin}/hub/home` },
    });
    assert.equal(tossed.status, 403, 'neither login is taken');
    const cleared = tossed.headers.getSetCookie().filter((cookie) => cookie.startsWith('lectern-session=;'));
    assert.deepEqual(cleared.map((cookie) => /Path=([^;]*)/.exec(cookie)?.[1]).sort(), ['/', '/hub', '/hub/', '/hub/api', '/hub/api/', '/hub/api/user', '/hub/api/user/'].sort());
    assert.ok(t.logLines.some((line) => line.includes('carried two login cookies')));
  });
});
