import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideNavigation, windowWebPreferences } from '../../../main/window-policy.js';

const HUB = 'http://127.0.0.1:8000';

describe('the teacher window’s navigation policy', () => {
  it('keeps the window on the hub and sends other web pages to the browser', () => {
    assert.equal(decideNavigation('http://127.0.0.1:8000/hub/admin', HUB), 'allow');
    assert.equal(decideNavigation('http://127.0.0.1:8000/user/alice/lab', HUB), 'allow');
    assert.equal(decideNavigation('https://jupyter.org/', HUB), 'open-in-browser');
    assert.equal(decideNavigation('http://192.168.1.5:8000/hub/', HUB), 'open-in-browser', 'another origin, even the same hub by its LAN name');
  });

  it('refuses every other scheme and anything unparsable', () => {
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'data:text/html,hi', 'smb://server/share', 'not a url']) {
      assert.equal(decideNavigation(url, HUB), 'deny', url);
    }
  });

  it('isolates and sandboxes the renderer, with no Node and no webview', () => {
    const preferences = windowWebPreferences('/app/preload.cjs');
    assert.equal(preferences.contextIsolation, true);
    assert.equal(preferences.sandbox, true);
    assert.equal(preferences.nodeIntegration, false);
    assert.equal(preferences.nodeIntegrationInSubFrames, false);
    assert.equal(preferences.webviewTag, false);
    assert.equal(preferences.webSecurity, true);
    assert.equal(preferences.preload, '/app/preload.cjs');
  });
});
