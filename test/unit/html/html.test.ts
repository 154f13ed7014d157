import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { html } from '../../../server/html/html.js';
import { loginPage } from '../../../server/hub/pages/templates.js';
import { HubUrls } from '../../../server/hub/urls.js';

describe('page HTML', () => {
  it('escapes every interpolated value, in text and in attributes', () => {
    const name = `<img src=x onerror=alert(1)>"'&`;
    assert.equal(html`<p title="${name}">${name}</p>`.value, '<p title="&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;">&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;</p>');
  });

  it('does not escape HTML twice when templates nest', () => {
    assert.equal(html`<div>${html`<b>${'<i>'}</b>`}</div>`.value, '<div><b>&lt;i&gt;</b></div>');
  });

  it('keeps a hostile next URL and username inert on the login page', () => {
    const page = loginPage(new HubUrls('/'), { next: '/hub/"><script>alert(1)</script>', username: '<svg onload=x>', error: 'Invalid' });
    assert.doesNotMatch(page, /<script>alert/);
    assert.doesNotMatch(page, /<svg onload/);
    assert.doesNotMatch(page, /<script>(?!<\/script>)/, 'no inline scripts: the CSP forbids them');
  });
});
