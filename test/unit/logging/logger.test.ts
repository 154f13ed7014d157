import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scrubUrl } from '../../../server/logging/logger.js';

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
