import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decideIsolation, findSandbox, isolationProvider, type SandboxAvailability } from '../../../../server/spawner/sandbox/isolation.js';

const WORKS: SandboxAvailability = { kind: 'bubblewrap', program: '/usr/bin/bwrap' };
const MISSING: SandboxAvailability = { kind: null, reason: 'bubblewrap (bwrap) is not installed.', fix: 'Install bubblewrap: sudo apt install bubblewrap.' };

describe('deciding whether students are isolated', () => {
  const cases: [string, Parameters<typeof decideIsolation>, { sandbox: string | null; problem: RegExp | null; warning: RegExp | null }][] = [
    ['auto, where a sandbox works: sandboxed, nothing to say', ['auto', WORKS], { sandbox: 'bubblewrap', problem: null, warning: null }],
    ['sandbox, where one works: sandboxed', ['sandbox', WORKS], { sandbox: 'bubblewrap', problem: null, warning: null }],
    [
      'auto, where none works: servers start, and the teacher hears what it means and how to fix it',
      ['auto', MISSING],
      { sandbox: null, problem: null, warning: /^Students are not isolated: .*classmates’ work.* Why: bubblewrap \(bwrap\) is not installed\. Install bubblewrap: sudo apt install bubblewrap\.$/ },
    ],
    [
      'sandbox, where none works: servers refuse to start, never run unsandboxed',
      ['sandbox', MISSING],
      { sandbox: null, problem: /^Students’ servers are not started: spawner\.isolation is "sandbox", but bubblewrap \(bwrap\) is not installed\. Install bubblewrap.* Or set spawner\.isolation to "auto"/, warning: null },
    ],
    ['off: no sandbox even where one works, and a reminder of what that means', ['off', WORKS], { sandbox: null, problem: null, warning: /spawner\.isolation is "off"/ }],
    [
      'off, with course data: students could change it, and are told so',
      ['off', WORKS, true],
      { sandbox: null, problem: null, warning: /They can also change the course data every student reads\./ },
    ],
  ];
  for (const [title, args, expected] of cases) {
    it(title, () => {
      const isolation = decideIsolation(...args);
      assert.equal(isolation.sandbox, expected.sandbox);
      if (expected.problem) assert.match(isolation.problem ?? '', expected.problem);
      else assert.equal(isolation.problem, null);
      if (expected.warning) assert.match(isolation.warning ?? '', expected.warning);
      else assert.equal(isolation.warning, null);
    });
  }

  it('finds the real bubblewrap on this machine and checks that it runs', async () => {
    assert.deepEqual(await findSandbox('linux', '/usr/bin'), { kind: 'bubblewrap', program: '/usr/bin/bwrap' });
  });

  it('says how to install bubblewrap when it is missing, and what is wrong when it cannot run', async () => {
    const missing = await findSandbox('linux', '/nonexistent');
    assert.equal(missing.kind, null);
    assert.match(missing.kind === null ? `${missing.reason} ${missing.fix}` : '', /not installed\. .*sudo apt install bubblewrap/);

    const dir = await mkdtemp(join(tmpdir(), 'lectern-bwrap-'));
    try {
      await writeFile(join(dir, 'bwrap'), "#!/bin/sh\necho 'bwrap: No permissions to creat new namespace, likely because the kernel does not allow non-privileged user namespaces.' >&2\nexit 1\n");
      await chmod(join(dir, 'bwrap'), 0o755);
      const refused = await findSandbox('linux', dir);
      assert.equal(refused.kind, null);
      assert.match(refused.kind === null ? refused.reason : '', /bubblewrap cannot make a sandbox on this system \("bwrap: No permissions to creat new namespace.*"\)/);
      assert.match(refused.kind === null ? (refused.fix ?? '') : '', /kernel\.apparmor_restrict_unprivileged_userns=0/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says plainly that Windows has no sandbox', async () => {
    const windows = await findSandbox('win32');
    assert.equal(windows.kind, null);
    assert.match(windows.kind === null ? windows.reason : '', /Windows has no sandbox Lectern can use without administrator rights/);
  });

  it('looks for the sandbox once per hub', async () => {
    let looked = 0;
    const isolation = isolationProvider({ isolation: 'auto', courseData: null }, async () => {
      looked += 1;
      return WORKS;
    });
    await Promise.all([isolation(), isolation(), isolation()]);
    assert.equal(looked, 1);
  });
});
