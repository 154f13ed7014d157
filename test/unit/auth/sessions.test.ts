import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, it } from 'node:test';
import { clearSessionCookiesFor, findSession, hasTossedSessionCookie } from '../../../server/auth/sessions.js';
import { cookieValues } from '../../../server/net/cookies.js';
import { hashSecret } from '../../../server/auth/secrets.js';
import type { SessionRecord, SessionRepository } from '../../../server/store/sessions.js';

const request = (cookie: string) => ({ headers: { cookie } }) as IncomingMessage;

describe('the login cookie', () => {
  const mine = { id: 1 } as SessionRecord;
  const sessions = { findByHash: (hash: string) => (hash === hashSecret('mine') ? mine : undefined) } as SessionRepository;

  it('stands for the login it names', () => {
    assert.equal(findSession(sessions, request('a=1; lectern-session=mine')), mine);
  });

  it('stands for no login when a second one was planted, and says so', () => {
    const tossed = request('lectern-session=planted; lectern-session=mine');
    assert.equal(findSession(sessions, tossed), undefined);
    assert.equal(hasTossedSessionCookie(tossed), true);
    assert.equal(hasTossedSessionCookie(request('lectern-session=mine')), false);
  });

  it('is cleared at every path a planted copy could have been sent from', () => {
    const headers: string[] = [];
    const res = { getHeader: () => headers, setHeader: (_name: string, value: string[]) => headers.splice(0, headers.length, ...value) } as unknown as ServerResponse;
    clearSessionCookiesFor(res, '/hub/api/users', false);
    const paths = headers.map((cookie) => /Path=([^;]*)/.exec(cookie)?.[1]);
    assert.deepEqual(paths, ['/', '/hub', '/hub/', '/hub/api', '/hub/api/', '/hub/api/users', '/hub/api/users/']);
    assert.ok(headers.every((cookie) => cookie.startsWith('lectern-session=;') && cookie.includes('Max-Age=0')));
  });

  it('reads every value a Cookie header has for a name', () => {
    assert.deepEqual(cookieValues('x=1; y=2; x=3', 'x'), ['1', '3']);
    assert.deepEqual(cookieValues(undefined, 'x'), []);
  });
});
