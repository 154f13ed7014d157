/**
 * One runaway notebook cannot take the teacher's laptop down: with the real jupyterhub-singleuser, a
 * kernel that takes more memory than `spawner.memoryLimitMb` allows for the student's whole server
 * is stopped at the next measurement; the server keeps running, the student's hub page and the
 * server model say why, and a new kernel works.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HttpClient } from '../helpers/http-client.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { runCode, startCode } from '../helpers/kernel.js';
import { startAndOpen, startKernel } from '../helpers/student-server.js';

const LIMIT_MB = 250;

interface ServerModel {
  ready: boolean;
  lectern_notice: string | null;
  lectern_usage: { memory_bytes: number } | null;
}

describe('the memory limit per student', () => {
  let t: TestHub;
  let ann: HttpClient;
  /** Ann's browser at her server's own origin. */
  let annServer: HttpClient;

  before(async () => {
    t = await startTestHub({ spawner: { memoryLimitMb: LIMIT_MB }, culler: { enabled: false } });
    await t.addUser('ann', 'ann-password-1');
    ann = t.client();
    await ann.logIn('ann', 'ann-password-1');
    ({ server: annServer } = await startAndOpen(ann, 'ann'));
  });
  after(() => t.stop());

  const server = async (): Promise<ServerModel | undefined> =>
    ((await (await t.api('/users/ann')).json()) as { servers: Record<string, ServerModel> }).servers[''];

  it('stops the kernel that went over it, keeps her server, and tells her why', async () => {
    const kernel = await startKernel(annServer, '/user/ann/');
    // Written to, so it is resident: twice the limit for her whole server. Not waited for: the kernel
    // may be stopped before the cell ends, whenever the hub's measurement comes.
    await startCode(annServer, `/user/ann/api/kernels/${kernel}/channels`, `import time; x = b'a' * (${2 * LIMIT_MB} * 2**20); time.sleep(600)`);
    const deadline = Date.now() + 60_000;
    let model = await server();
    while (!model?.lectern_notice) {
      assert.ok(Date.now() < deadline, `no kernel was stopped within a minute: ${JSON.stringify(model)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
      model = await server();
    }
    assert.match(model.lectern_notice, new RegExp(`more than the ${LIMIT_MB} MiB each student may use`));
    assert.equal(model.ready, true, 'her server keeps running');

    const home = await (await ann.request('/hub/home')).text();
    assert.match(home, /A kernel of yours was stopped: your server used \d+ MiB of memory/);
    assert.ok(t.logLines.some((line) => line.includes("stopped a kernel of ann's server: over the memory limit")));

    const fresh = await startKernel(annServer, '/user/ann/');
    assert.equal((await runCode(annServer, `/user/ann/api/kernels/${fresh}/channels`, 'print(6*7)')).trim(), '42', 'a new kernel works');
  });
});
