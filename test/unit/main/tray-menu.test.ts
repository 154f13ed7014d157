import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trayMenuTemplate, trayTooltip, type TrayActions } from '../../../main/tray-menu.js';

const clicked: string[] = [];
const actions: TrayActions = {
  showWindow: () => clicked.push('show'),
  copyJoinUrl: () => clicked.push('copy'),
  openInBrowser: () => clicked.push('browser'),
  stopAllServers: () => clicked.push('stop-all'),
  quit: () => clicked.push('quit'),
};

describe('the tray menu', () => {
  it('shows the join address and the quick actions', () => {
    const menu = trayMenuTemplate({ joinUrl: 'http://192.168.1.5:8000/', activeServers: 2 }, actions);
    assert.equal(menu[0]?.label, 'Join at http://192.168.1.5:8000/');
    const byLabel = (label: string) => menu.find((item) => item.label === label);
    assert.equal(byLabel('2 servers running')?.enabled, false);
    assert.equal(byLabel('Stop all servers')?.enabled, true);
    (byLabel('Copy join address')?.click as () => void)();
    (byLabel('Quit Lectern')?.click as () => void)();
    assert.deepEqual(clicked, ['copy', 'quit']);
    assert.equal(trayTooltip({ joinUrl: 'http://192.168.1.5:8000/', activeServers: 2 }), 'Lectern: students join at http://192.168.1.5:8000/');
  });

  it('disables what needs the hub while it starts, and stopping with nothing running', () => {
    const menu = trayMenuTemplate({ joinUrl: null, activeServers: 0 }, actions);
    assert.equal(menu[0]?.label, 'Starting…');
    assert.equal(menu.find((item) => item.label === 'Copy join address')?.enabled, false);
    assert.equal(menu.find((item) => item.label === 'Stop all servers')?.enabled, false);
    assert.equal(menu.find((item) => item.label === '1 server running'), undefined);
  });
});
