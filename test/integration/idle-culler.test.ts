/**
 * The idle culler never takes a running computation: a kernel in a long cell keeps its server, in
 * `jupyterhub-singleuser` and plain `jupyter server`, with the notebook's websocket open or closed,
 * and after a control-channel request answered in the middle of the cell; the idle clock starts
 * when the cell ended. When the culler cannot tell (a kernel reported
 * `starting`, a kernel list that cannot be read), it keeps the server too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fakeServer, startTestHub, type TestHub } from '../helpers/hub.js';
import { askKernelInfoOnControl, runCode, startCode } from '../helpers/kernel.js';
import { startAndOpen, startKernel, startServer } from '../helpers/student-server.js';
import { until } from '../helpers/wait.js';

/** Seconds of quiet after which the culler stops a server, and how often it looks. */
const CULLER = { idleTimeout: 2, every: 0.5 };
/** How long the long cell runs: several idle timeouts. */
const CELL_SECONDS = 6;


const running = async (t: TestHub, name: string) => ((await (await t.api(`/users/${name}`)).json()) as { server: string | null }).server !== null;

/** When the culler said `name`'s server had been idle since, once it stopped it. */
const idleSince = (t: TestHub, name: string) => {
  const line = t.logLines.find((entry) => entry.includes(`stopping ${name}'s server: idle`));
  const since = line && /idleSince="([^"]+)"/.exec(line)?.[1];
  return since ? Date.parse(since) : undefined;
};

const MODES = [
  { title: '`jupyterhub-singleuser`', spawner: {} },
  { title: 'plain `jupyter server`', spawner: { python: '/usr/bin/python3', launchMode: 'server' } },
];

for (const mode of MODES) {
  describe(`the idle culler and a long cell, in ${mode.title}`, () => {
    it('keeps both servers through the cell, and counts idle time from when it ended', async () => {
      const t = await startTestHub({ spawner: mode.spawner, culler: { ...CULLER, enabled: false } });
      try {
        const openKernel = async (name: string) => {
          await t.addUser(name, `${name}-password-1`);
          const client = t.client();
          await client.logIn(name, `${name}-password-1`);
          const { server } = await startAndOpen(client, name);
          const channels = `/user/${name}/api/kernels/${await startKernel(server, `/user/${name}/`)}/channels`;
          assert.equal(await runCode(server, channels, 'x = 6 * 7'), '');
          return { server, channels };
        };
        const [ann, ben] = await Promise.all([openKernel('ann'), openKernel('ben')]);
        const sent = Date.now();
        // Ben closes his tab once the cell runs; Ann keeps hers open but sends nothing until it ends.
        let annBusy = () => {};
        const annRunning = new Promise<void>((resolve) => (annBusy = resolve));
        // Should the cell be cut short, the failure says what the hub did with her server meanwhile.
        const annOutput = runCode(ann.server, ann.channels, `import time; time.sleep(${CELL_SECONDS}); print(x)`, { busy: annBusy }).catch((error: Error) => {
          throw new Error(`${error.message}. The hub's log about ann:\n${t.logLines.filter((line) => /\bann\b/.test(line)).slice(-20).join('\n')}`);
        });
        await Promise.all([annRunning, startCode(ben.server, ben.channels, `import time; time.sleep(${CELL_SECONDS})`)]);
        // A second page of Ann's asks her kernel for its info on the control channel, as a page
        // reconnecting or a debugger does: answered at once, mid-cell, it must not make her kernel
        // look idle (Jupyter Server 1 and Notebook 6 listed it idle, and the culler stopped her server).
        await askKernelInfoOnControl(ann.server, ann.channels);
        // The culler starts now: a slow machine's pauses while the servers started must not count.
        const enabled = await t.api('/lectern/settings', { method: 'PATCH', body: JSON.stringify({ changes: { 'culler.enabled': true } }) });
        assert.equal(enabled.status, 200, await enabled.text());
        assert.equal((await annOutput).trim(), '42', 'Ann’s server and kernel lived through the cell');

        // Once the cells have ended, both servers go quiet and are stopped, idle since their cell's end.
        await until('both servers stopped', async () => !(await running(t, 'ann')) && !(await running(t, 'ben')));
        for (const name of ['ann', 'ben']) {
          const since = idleSince(t, name);
          assert.ok(since !== undefined, `the culler logged when ${name}'s server went idle`);
          assert.ok(
            since >= sent + CELL_SECONDS * 1000,
            `${name}'s idle time starts when the cell ended, not when it was sent: idle since ${since - sent} ms after ` +
              `the cell was sent. The hub's log about ${name}:\n${t.logLines.filter((line) => line.includes(name)).slice(-20).join('\n')}`,
          );
        }
      } finally {
        await t.stop();
      }
    });
  });
}

describe('the idle culler, when a server cannot say its kernels are idle', () => {
  it('stops the idle server and keeps those with a kernel busy, starting or unreadable', async () => {
    const t = await startTestHub({
      ...fakeServer('ok'),
      spawner: { ...(fakeServer('ok').spawner as object), environment: { FAKE_SERVER_MODE: 'ok', FAKE_KERNEL_STATES: 'bob:busy,carl:starting,dan:unreadable' } },
      culler: CULLER,
    });
    try {
      const names = ['alice', 'bob', 'carl', 'dan'];
      for (const name of names) {
        await t.addUser(name, `${name}-password-1`);
        await startServer(t.api, `/users/${name}/server`);
      }
      const kept = (name: string) => t.logLines.some((line) => line.includes(`not stopping ${name}'s server`));
      await until('the culler to look at every server', async () => !(await running(t, 'alice')) && kept('bob') && kept('carl') && kept('dan'));
      const line = (name: string) => t.logLines.find((entry) => entry.includes(`not stopping ${name}'s server`)) ?? '';
      assert.match(line('bob'), /a kernel is busy/);
      assert.match(line('carl'), /a kernel is starting/);
      assert.match(line('dan'), /its kernels could not be checked \(HTTP 500\)/);
      for (const name of ['bob', 'carl', 'dan']) assert.equal(await running(t, name), true, `${name}'s server is kept`);
    } finally {
      await t.stop();
    }
  });
});
