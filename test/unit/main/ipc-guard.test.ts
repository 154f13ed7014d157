import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guarded, isTrustedCaller, UntrustedSenderError, type IpcCaller, type TrustedWindow } from '../../../main/ipc-guard.js';

const trusted: TrustedWindow = { webContentsId: 7, hubOrigin: 'http://127.0.0.1:8000' };

/** An IPC event as Electron gives it, reduced to what the guard reads. */
function caller(senderId: number, url: string | null, topFrame = true): IpcCaller {
  const frame = url === null ? null : { url, parent: topFrame ? null : {} };
  return { sender: { id: senderId }, senderFrame: frame } as unknown as IpcCaller;
}

describe('IPC sender checks', () => {
  it('trusts only the top frame of the teacher window showing the hub', () => {
    assert.equal(isTrustedCaller(caller(7, 'http://127.0.0.1:8000/hub/admin'), trusted), true);
    assert.equal(isTrustedCaller(caller(8, 'http://127.0.0.1:8000/hub/admin'), trusted), false, 'another window');
    assert.equal(isTrustedCaller(caller(7, 'https://evil.example/'), trusted), false, 'the window navigated elsewhere');
    assert.equal(isTrustedCaller(caller(7, 'http://127.0.0.1:8000/hub/admin', false), trusted), false, 'a frame in the page');
    assert.equal(isTrustedCaller(caller(7, null), trusted), false, 'a frame that is gone');
    assert.equal(isTrustedCaller(caller(7, 'http://127.0.0.1:8000/'), undefined), false, 'before the window exists');
  });

  it('runs a handler for a trusted caller and refuses anyone else without running it', () => {
    let calls = 0;
    const handler = guarded(() => trusted, (text: string) => {
      calls++;
      return text.length;
    });
    assert.equal(handler(caller(7, 'http://127.0.0.1:8000/hub/admin'), 'abc'), 3);
    assert.throws(() => handler(caller(7, 'https://evil.example/'), 'abc'), UntrustedSenderError);
    assert.equal(calls, 1);
  });
});

describe('the preload bridge', () => {
  it('calls exactly the channels the main process handles, and never hands out ipcRenderer', async () => {
    const { readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { projectRoot } = await import('../../helpers/hub.js');
    const { DESKTOP_CHANNELS } = await import('../../../main/desktop-channels.js');
    const preload = await readFile(join(projectRoot(), 'main', 'preload.cts'), 'utf8');
    const invoked = [...preload.matchAll(/ipcRenderer\.invoke\('([^']+)'/g)].map((match) => match[1]).sort();
    assert.deepEqual(invoked, Object.values(DESKTOP_CHANNELS).sort());
    assert.doesNotMatch(preload, /exposeInMainWorld\([^)]*ipcRenderer[,)\s]/, 'ipcRenderer itself is not exposed');
    assert.doesNotMatch(preload, /ipcRenderer\.(send|on)\(/, 'only request/response calls, checked by the main process');
  });
});
