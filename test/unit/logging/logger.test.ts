import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, redactSecrets, scrubUrl } from '../../../server/logging/logger.js';

describe('URLs in log lines', () => {
  it('drop the query string and fragment, which may hold tokens', () => {
    assert.equal(scrubUrl('/hub/api/users?token=abc#x'), '/hub/api/users');
    assert.equal(scrubUrl('/user/ann/lab#frag'), '/user/ann/lab');
  });

  it('hide the secret of a login link and the id of a cards sheet, under any base URL', () => {
    const secret = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd';
    assert.equal(scrubUrl(`/hub/login-link/${secret}`), '/hub/login-link/[secret]');
    assert.equal(scrubUrl(`/class/hub/login-link/${secret}?x=1`), '/class/hub/login-link/[secret]');
    assert.equal(scrubUrl('/hub/cards/Zx9-sheet-id'), '/hub/cards/[secret]');
    assert.equal(scrubUrl('/hub/login'), '/hub/login');
  });
});

describe('a server log shown to people', () => {
  const cases: [string, string, string][] = [
    ['a token in a request URL', '302 GET /user/ann/?token=abc123 (127.0.0.1) 0.52ms', '302 GET /user/ann/?token=[secret] (127.0.0.1) 0.52ms'],
    ['a token in a Referer', '404 GET /user/ann/x (127.0.0.1) referer=http://h:8000/user/ann/tree?a=1&token=s3cr3t', '404 GET /user/ann/x (127.0.0.1) referer=http://h:8000/user/ann/tree?a=1&token=[secret]'],
    ['an OAuth code and state', 'GET /user/ann/oauth_callback?code=C0DE&state=5TATE', 'GET /user/ann/oauth_callback?code=[secret]&state=[secret]'],
    ['an XSRF token', 'GET /user/ann/api/x?_xsrf=2|a|b', 'GET /user/ann/api/x?_xsrf=[secret]'],
    ['headers printed as JSON on a server error', '{"Cookie": "jupyterhub-user-ann=2|abc", "Authorization": "token xyz", "Host": "h"}', '{"Cookie": "[secret]", "Authorization": "[secret]", "Host": "h"}'],
    ['a header line', 'Authorization: token deadbeef', 'Authorization: [secret]'],
    ['prose that only mentions tokens', 'the token expired; try code=less', 'the token expired; try code=less'],
  ];
  for (const [what, line, shown] of cases) {
    it(`redacts ${what}`, () => assert.equal(redactSecrets(line), shown));
  }
});

describe('an error in a log line', () => {
  it('is logged with its whole stack, each frame on an indented line below', () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (line) => lines.push(line) });
    const deep = (depth: number): Error => (depth === 0 ? new TypeError('x is undefined') : deep(depth - 1));
    const error = deep(40);
    log.error('GET /hub/api/users failed', { error });
    const [line] = lines as [string];
    const [first, ...frames] = line.split('\n');
    assert.match(first as string, /^\[E [^\]]+ lectern\] GET \/hub\/api\/users failed error="TypeError: x is undefined"$/);
    assert.ok(frames.length >= 10, `every frame, not the first 200 characters: ${frames.length}`);
    assert.ok(frames.every((frame) => frame.startsWith('    ')));
    assert.ok(frames.some((frame) => frame.includes('logger.test')));
  });

  it('cannot forge a log line with a message of many lines', () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (line) => lines.push(line) });
    log.error('import failed', { error: new Error('bad name\n[I 2026-12-02 10:00:00.000 lectern] ann is now an admin') });
    const text = (lines[0] as string).split('\n');
    assert.equal(text.filter((row) => row.startsWith('[')).length, 1, text.join('\n'));
  });
});
