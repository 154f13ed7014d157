/**
 * The teacher's message to the class: posted through the API (the dashboard's), checked, shown on
 * students' hub pages escaped, sent on the event stream at once, and gone when taken down.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readEvents } from '../helpers/http-client.js';
import { fakeServer, startTestHub, type TestHub } from '../helpers/hub.js';

const put = (body: unknown): RequestInit => ({ method: 'PUT', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });

describe('the message to the class', () => {
  let t: TestHub;
  before(async () => {
    t = await startTestHub(fakeServer('never-ready'));
    await t.addUser('ann', 'ann-password-1');
  });
  after(() => t.stop());

  it('refuses a message that is empty, too long or garbled, and a link that is not a page or a web address', async () => {
    const cases: [unknown, RegExp][] = [
      [{ message: '   ' }, /message.*write a message/],
      [{ message: 'x'.repeat(501) }, /message.*at most 500 characters/],
      [{ message: 'bell \u0007' }, /message.*no control characters/],
      [{ message: 'Go', link: 'javascript:alert(1)' }, /link.*a page of this hub/],
      [{ message: 'Go', link: '//evil.example/' }, /link.*a page of this hub/],
      [{ message: 'Go', colour: 'red' }, /Invalid JSON keys: colour/],
    ];
    for (const [body, error] of cases) {
      const response = await t.api('/lectern/announcement', put(body));
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.match(((await response.json()) as { message: string }).message, error);
    }
    assert.deepEqual(await (await t.api('/lectern/announcement')).json(), { announcement: null }, 'nothing was posted');
  });

  it('shows a posted message on students’ pages, escaped, tells the dashboard at once, and takes it down', async () => {
    const stream = await t.api('/lectern/events');
    const posted = t.api('/lectern/announcement', put({ message: 'Open lesson 3 <script>alert(1)</script>\nthen stop.', link: '/hub/home' }));
    const events = await readEvents(stream, (event) => event.type === 'announcement');
    const response = await posted;
    assert.equal(response.status, 200);
    const { announcement } = (await response.json()) as { announcement: { message: string; link: string } };
    assert.equal(announcement.message, 'Open lesson 3 <script>alert(1)</script>\nthen stop.');
    assert.deepEqual((events.at(-1) as { announcement: unknown }).announcement, announcement);

    const ann = t.client();
    await ann.logIn('ann', 'ann-password-1');
    const home = await (await ann.request('/hub/home')).text();
    assert.match(home, /From your teacher:<\/strong> Open lesson 3 &lt;script&gt;alert\(1\)&lt;\/script&gt;\nthen stop\./);
    assert.match(home, /<a class="button" href="\/hub\/home" rel="noopener">Open<\/a>/);
    // The progress page of a server that is starting shows it too.
    const pending = await ann.follow('/hub/spawn');
    assert.match(await pending.response.text(), /From your teacher:/);
    assert.equal((await ann.request('/hub/api/lectern/announcement')).status, 403, 'students cannot read or change it through the API');

    assert.equal((await t.api('/lectern/announcement', { method: 'DELETE' })).status, 204);
    assert.doesNotMatch(await (await ann.request('/hub/home')).text(), /From your teacher/);
  });
});
