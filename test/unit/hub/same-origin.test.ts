import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { fromOtherSite, fromSameOrigin } from '../../../server/hub/same-origin.js';

const request = (headers: Record<string, string>) => ({ headers: { host: 'hub.local:8000', ...headers } }) as unknown as IncomingMessage;

describe('telling the hub’s own pages from other sites', () => {
  it('trusts Sec-Fetch-Site first', () => {
    assert.equal(fromSameOrigin(request({ 'sec-fetch-site': 'same-origin', origin: 'http://evil' }), false), true);
    assert.equal(fromSameOrigin(request({ 'sec-fetch-site': 'cross-site' }), false), false);
    assert.equal(fromSameOrigin(request({ 'sec-fetch-site': 'same-site' }), false), false);
    assert.equal(fromOtherSite(request({ 'sec-fetch-site': 'cross-site' }), false), true);
  });

  it('falls back to Origin, then Referer, as plain-HTTP browsers send no Sec-Fetch headers', () => {
    assert.equal(fromSameOrigin(request({ origin: 'http://hub.local:8000' }), false), true);
    assert.equal(fromSameOrigin(request({ origin: 'http://evil.example' }), false), false);
    assert.equal(fromSameOrigin(request({ referer: 'http://hub.local:8000/hub/home' }), false), true);
    assert.equal(fromSameOrigin(request({ referer: 'http://hub.local:8000.evil/hub/' }), false), false);
    assert.equal(fromSameOrigin(request({ origin: 'http://hub.local:8000' }), true), false, 'https hub, http origin');
  });

  it('gives no credit to a request without any of these headers', () => {
    assert.equal(fromSameOrigin(request({}), false), false);
    assert.equal(fromOtherSite(request({}), false), false, 'curl and scripts are not another site');
  });
});
