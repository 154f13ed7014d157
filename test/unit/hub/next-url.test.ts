// The open-redirect cases of the security catalogue (tests 1–2): `next` only ever leads to a path on this hub.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { safeNextUrl } from '../../../server/hub/next-url.js';
import { HubUrls } from '../../../server/hub/urls.js';

const urls = new HubUrls('/');

describe('safeNextUrl', () => {
  const refused = [
    'https://evil',
    'ftp://evil',
    '//evil',
    '///evil/x',
    '\\\\evil/x',
    'relative',
    'http://127.0.0.1:8000//evil/',
    'http://HOST////evil/',
    'https:///evil',
    '/\\evil',
    '%2F%2Fevil',
    'javascript:alert(1)',
    '/hub/\nSet-Cookie: x=1',
    '',
  ];
  for (const next of refused) {
    it(`refuses ${JSON.stringify(next)}`, () => {
      assert.equal(safeNextUrl(next, urls), null);
    });
  }

  it('keeps paths on the hub, with their query', () => {
    assert.equal(safeNextUrl('/hub/admin', urls), '/hub/admin');
    assert.equal(safeNextUrl('/has?repo=https://host.git', urls), '/has?repo=https://host.git');
    assert.equal(safeNextUrl('/hub/api/oauth2/authorize?client_id=x&state=y', urls), '/hub/api/oauth2/authorize?client_id=x&state=y');
  });

  it('keeps an escaped backslash as an ordinary path character', () => {
    assert.equal(safeNextUrl('/%5Cevil', urls), '/%5Cevil');
  });

  it('sends server URLs through the hub, which can start the server first', () => {
    assert.equal(safeNextUrl('/user/bob/tree', urls), '/hub/user/bob/tree');
  });

  it('keeps a base URL: paths outside it are not on this hub', () => {
    const classUrls = new HubUrls('/class/');
    assert.equal(safeNextUrl('/class/hub/home', classUrls), '/class/hub/home');
    assert.equal(safeNextUrl('/other/place', classUrls), null);
  });

  it('ignores what is not a string', () => {
    assert.equal(safeNextUrl(['/hub/home', '//evil'], urls), null);
    assert.equal(safeNextUrl(undefined, urls), null);
  });
});
