import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QuitController, quitQuestion, type QuitDeps } from '../../../main/quit.js';

function harness(active: number, answer: boolean | Promise<boolean>) {
  const calls: string[] = [];
  let exited: number | undefined;
  let releaseStop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (releaseStop = resolve));
  const deps: QuitDeps = {
    activeServers: () => active,
    confirm: async (count) => {
      calls.push(`confirm ${count}`);
      return answer;
    },
    stopHub: async () => {
      calls.push('stop');
      await stopped;
    },
    exit: (code) => {
      exited = code;
    },
    log: () => undefined,
  };
  return { controller: new QuitController(deps), calls, exited: () => exited, releaseStop };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('quitting the desktop app', () => {
  it('asks before stopping running servers, then stops them and exits', async () => {
    const h = harness(3, true);
    assert.equal(h.controller.requestQuit(), true, 'the app must wait for the controller');
    await tick();
    assert.deepEqual(h.calls, ['confirm 3', 'stop']);
    assert.equal(h.controller.state, 'stopping');
    assert.equal(h.controller.requestQuit(), true, 'a second quit while stopping changes nothing');
    h.releaseStop();
    await tick();
    assert.equal(h.exited(), 0);
    assert.equal(h.controller.requestQuit(), false, 'once stopped, the app may quit');
  });

  it('keeps everything running when the teacher cancels', async () => {
    const h = harness(2, false);
    h.controller.requestQuit();
    await tick();
    assert.deepEqual(h.calls, ['confirm 2']);
    assert.equal(h.controller.state, 'running');
    assert.equal(h.exited(), undefined);
  });

  it('does not ask with no servers running, nor when the OS shuts down', async () => {
    const idle = harness(0, false);
    idle.controller.requestQuit();
    idle.releaseStop();
    await tick();
    assert.deepEqual(idle.calls, ['stop']);
    assert.equal(idle.exited(), 0);

    const shutdown = harness(5, false);
    shutdown.controller.requestQuit({ ask: false });
    shutdown.releaseStop();
    await tick();
    assert.deepEqual(shutdown.calls, ['stop']);
  });

  it('says how many servers and what closing the window does instead', () => {
    assert.match(quitQuestion(1).message, /^1 student server is running\. Stop it and quit/);
    assert.match(quitQuestion(4).message, /^4 student servers are running\. Stop them/);
    assert.match(quitQuestion(4).detail, /close the window instead/);
  });
});
