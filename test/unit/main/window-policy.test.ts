import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideNavigation, decideWindowOpen, windowWebPreferences } from '../../../main/window-policy.js';

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

  it('opens the hub’s own pages in an app window, logged in, and everything else in the browser', () => {
    const hub = 'http://127.0.0.1:8000/jupyter/';
    assert.equal(decideWindowOpen('http://127.0.0.1:8000/jupyter/hub/cards/abc', hub), 'app-window', 'a sheet of login cards, to print');
    assert.equal(decideWindowOpen('http://127.0.0.1:8000/jupyter/hub/work/ann/tree', hub), 'app-window');
    assert.equal(decideWindowOpen('http://127.0.0.1:8000/jupyter/user/ann/lab', hub), 'open-in-browser', 'a student’s server never gets the teacher’s login');
    assert.equal(decideWindowOpen('http://127.0.0.1:8000/jupyter/hub/../user/ann/lab', hub), 'open-in-browser');
    assert.equal(decideWindowOpen('http://127.0.0.1:8001/jupyter/hub/cards/abc', hub), 'open-in-browser', 'a student’s own origin');
    assert.equal(decideWindowOpen('javascript:alert(1)', hub), 'deny');
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
    assert.equal('preload' in windowWebPreferences(), false, 'app windows opened from the hub’s pages get no bridge');
  });
});
