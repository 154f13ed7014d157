import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml } from '../../../server/html/html.js';
import { acceptRank, builtInErrorPage, wantsJson } from '../../../server/proxy/error-answer.js';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

describe('wantsJson', () => {
  it('answers browsers, curl and header-less clients with HTML', () => {
    assert.equal(wantsJson('/user/alice/lab', BROWSER), false);
    assert.equal(wantsJson('/user/alice/lab', '*/*'), false);
    assert.equal(wantsJson('/user/alice/lab', undefined), false);
    assert.equal(wantsJson('/user/alice/lab', ''), false);
    assert.equal(wantsJson('/user/alice/lab', 'image/png'), false);
  });

  it('answers clients that prefer JSON with JSON', () => {
    assert.equal(wantsJson('/x', 'application/json'), true);
    // JupyterLab's requests: JSON named, HTML only through the wildcard.
    assert.equal(wantsJson('/x', 'application/json, text/plain, */*'), true);
    assert.equal(wantsJson('/x', 'text/html;q=0.5, application/json'), true);
    assert.equal(wantsJson('/x', 'application/json, text/html'), true);
    assert.equal(wantsJson('/x', 'text/html, application/json'), false);
    assert.equal(wantsJson('/x', 'application/json;q=0.1, text/html'), false);
  });

  it('answers any path with an api segment with JSON', () => {
    assert.equal(wantsJson('/user/alice/api/kernels', BROWSER), true);
    assert.equal(wantsJson('/hub/api?x=1', BROWSER), true);
    assert.equal(wantsJson('/user/alice/apiary', BROWSER), false);
    assert.equal(wantsJson('/user/alice/lab?api/', BROWSER), false);
  });
});

describe('acceptRank', () => {
  it('takes the q-value of the most specific matching range', () => {
    assert.deepEqual(acceptRank('text/*;q=0.3, text/html;q=0.7, */*;q=0.1', 'text', 'html'), {
      quality: 0.7,
      specificity: 2,
      position: 1,
    });
    assert.equal(acceptRank('text/*;q=0.3, */*', 'text', 'html').quality, 0.3);
    assert.equal(acceptRank('image/png', 'text', 'html').quality, 0);
    assert.equal(acceptRank('TEXT/HTML; Q=0.5', 'text', 'html').quality, 0.5);
  });
});

describe('builtInErrorPage', () => {
  it('escapes the message and the home link, and is phone-sized', () => {
    const page = builtInErrorPage(503, '<script>alert(1)</script>', '/hub/home?a="b"&c');
    assert.ok(!page.includes('<script>'));
    assert.match(page, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(page, /<a href="\/hub\/home\?a=&quot;b&quot;&amp;c">Go to your home page<\/a>/);
    assert.match(page, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.match(page, /<title>503 Service Unavailable<\/title>/);
    assert.ok(!/<(link|script|img)\b/.test(page), 'self-contained');
  });

  it('escapes quotes too', () => {
    assert.equal(escapeHtml(`<a href='x'>"&"</a>`), '&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;');
  });
});
