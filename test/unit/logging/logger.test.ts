import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactSecrets, scrubUrl } from '../../../server/logging/logger.js';

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
