import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { fromOtherSite, fromSameOrigin } from '../../../server/net/same-origin.js';

const request = (headers: Record<string, string>) => ({ headers: { host: 'hub.local:8000', ...headers } }) as unknown as IncomingMessage;
/** A student's server: the same host, another port. */
const STUDENT_PAGE = 'http://hub.local:9003';

describe('telling the hub’s own pages from every other page', () => {
  it('judges by Origin, then Referer, as browsers send them over plain HTTP too', () => {
    assert.equal(fromSameOrigin(request({ origin: 'http://hub.local:8000' }), false), true);
    assert.equal(fromSameOrigin(request({ origin: 'http://evil.example' }), false), false);
    assert.equal(fromSameOrigin(request({ referer: 'http://hub.local:8000/hub/home' }), false), true);
    assert.equal(fromSameOrigin(request({ referer: 'http://hub.local:8000.evil/hub/' }), false), false);
    assert.equal(fromSameOrigin(request({ origin: 'http://hub.local:8000' }), true), false, 'https hub, http origin');
  });

  it('refuses a student’s server, another origin on the same host, with or without Sec-Fetch headers', () => {
    for (const extra of [{}, { 'sec-fetch-site': 'same-site' }] as Record<string, string>[]) {
      assert.equal(fromSameOrigin(request({ origin: STUDENT_PAGE, ...extra }), false), false);
      assert.equal(fromSameOrigin(request({ referer: `${STUDENT_PAGE}/user/ann/notebooks/x.ipynb`, ...extra }), false), false);
      assert.equal(fromOtherSite(request({ origin: STUDENT_PAGE, ...extra }), false), true);
    }
    assert.equal(fromOtherSite(request({ origin: 'null' }), false), true, 'a page that hides its origin');
  });

  it('takes Sec-Fetch-Site only as a reason to refuse, never to trust', () => {
    assert.equal(fromSameOrigin(request({ 'sec-fetch-site': 'same-origin', origin: 'http://evil' }), false), false);
    assert.equal(fromSameOrigin(request({ 'sec-fetch-site': 'same-origin' }), false), false, 'no Origin or Referer: no evidence');
    assert.equal(fromSameOrigin(request({ 'sec-fetch-site': 'cross-site', origin: 'http://hub.local:8000' }), false), false);
    assert.equal(fromOtherSite(request({ 'sec-fetch-site': 'cross-site' }), false), true);
  });

  it('sees its origin as the browser does behind a reverse proxy', () => {
    const proxied = (headers: Record<string, string>) => request({ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'school.example', ...headers });
    assert.equal(fromSameOrigin(proxied({ origin: 'https://school.example' }), false), true);
    assert.equal(fromSameOrigin(proxied({ origin: 'http://hub.local:8000' }), false), false);
  });

  it('gives no credit to a request without any of these headers, and does not call it another site', () => {
    assert.equal(fromSameOrigin(request({}), false), false);
    assert.equal(fromOtherSite(request({}), false), false, 'curl and scripts are not another site');
  });
});
