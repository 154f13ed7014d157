/**
 * Kernels forked from a student's server (server/spawner/fork/kernel-forks.py), with the real
 * jupyterhub-singleuser and ipykernel, in the sandbox: each is the kernel `python -m
 * ipykernel_launcher` would have been (her folder, environment, module path, session and priority),
 * two students' kernels share nothing, and Jupyter interrupts, restarts, shuts down and revives them
 * as it does launched ones. When her kernel zygote is gone, her next kernels are launched the normal
 * way. Without a sandbox, what differs: a kernel is made the same, but nothing like her sandbox's
 * PID namespace ends it with her server (its zygote does). And, driven without a server
 * (test/fixtures/fork/kernel_zygote_probe.py): a kernel whose own start fails in the fork is
 * launched the normal way, and the zygote forks the next one.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { serverPaths } from '../../server/servers/server-paths.js';
import type { HttpClient } from '../helpers/http-client.js';
import { projectRoot, startTestHub, type TestHub } from '../helpers/hub.js';
import { runCode } from '../helpers/kernel.js';
import { startAndOpen, startKernel } from '../helpers/student-server.js';
import { until } from '../helpers/wait.js';

const execFileAsync = promisify(execFile);

/** What a kernel tells of itself, as one JSON line. */
const SELF_REPORT = `
import json, os, random, sys, ipykernel
def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as file:
        return file.read().replace(b"\\0", b" ").decode()
def parent(pid):
    with open(f"/proc/{pid}/stat") as file:
        return int(file.read().rsplit(")", 1)[1].split()[1])
zygote = parent(os.getpid())
import helper_of_hers, site_package_of_hers
print(json.dumps({
    "pid": os.getpid(), "cmdline": cmdline(os.getpid()),
    "zygote": cmdline(zygote), "server": parent(zygote),
    "session": os.getsid(0) == os.getpid(), "nice": os.nice(0),
    "cwd": os.getcwd(), "path0": sys.path[0], "argv0": sys.argv[0],
    "user": os.environ.get("JUPYTERHUB_USER"), "token": os.environ.get("JUPYTERHUB_API_TOKEN"),
    "helper": helper_of_hers.OWNER, "sitePackage": site_package_of_hers.OWNER,
    "globalSeen": getattr(ipykernel, "LECTERN_TEST_OWNER", None), "random": random.getrandbits(64),
}))
ipykernel.LECTERN_TEST_OWNER = os.environ.get("JUPYTERHUB_USER")
`;

interface SelfReport {
  pid: number;
  cmdline: string;
  zygote: string;
  server: number;
  session: boolean;
  nice: number;
  cwd: string;
  path0: string;
  argv0: string;
  user: string;
  token: string;
  helper: string;
  sitePackage: string;
  globalSeen: string | null;
  random: number;
}

interface Student {
  name: string;
  server: HttpClient;
  kernel: string;
}

/** Code that kills process `pid` once the cell has ended (and its output is out: ipykernel sends it from a thread). */
const killSoon = (pid: string) => `import os, signal, threading; threading.Timer(0.5, os.kill, (${pid}, signal.SIGKILL)).start()`;

const kernelPath = (student: Student) => `/user/${student.name}/api/kernels/${student.kernel}`;

async function report(student: Student): Promise<SelfReport> {
  const output = await runCode(student.server, `${kernelPath(student)}/channels`, SELF_REPORT);
  return JSON.parse(output.trim().split('\n').at(-1) as string) as SelfReport;
}

/** A POST to her server's API, with the page's XSRF token, as JupyterLab sends it. */
function post(student: Student, path: string): Promise<Response> {
  const xsrf = student.server.cookie('_xsrf');
  return student.server.request(path, { method: 'POST', headers: { Origin: student.server.origin, ...(xsrf ? { 'X-XSRFToken': xsrf } : {}) } });
}

/**
 * The kernel's PID in her server's view, once it answers again with one other than `before`. A kernel
 * being restarted drops what it is sent: each ask gives up after a while, and the next one is sent.
 */
function nextKernelPid(student: Student, before: number): Promise<number> {
  return until(
    `${student.name}'s kernel to answer as a new process`,
    async () => {
      const output = await runCode(student.server, `${kernelPath(student)}/channels`, 'import os; print(os.getpid())', { timeoutMs: 15_000 }).catch(() => '');
      const pid = Number(output.trim());
      return pid > 0 && pid !== before ? pid : undefined;
    },
    300_000,
  );
}

/** Unsandboxed, one student, and only the cases whose workings differ from the sandbox's. */
const RUNS = [
  { isolation: 'sandbox', names: ['ann', 'bob'], everything: true },
  { isolation: 'off', names: ['bob'], everything: false },
] as const;

for (const { isolation, names, everything } of RUNS) {
  describe(`kernels forked from each student's server, ${isolation === 'sandbox' ? 'in bubblewrap' : 'without a sandbox'}`, () => {
    let t: TestHub;
    const students: Student[] = [];
    const reports = new Map<string, SelfReport>();

    before(async () => {
      t = await startTestHub({ spawner: { isolation }, culler: { enabled: false } });
      for (const name of names) {
        await t.addUser(name, `${name}-password-1`);
        const browser = t.client();
        await browser.logIn(name, `${name}-password-1`);
        const { server } = await startAndOpen(browser, name);
        const home = serverPaths(t.config, name, '').home;
        const sitePackages = join(home, '.local', 'lib', 'python3.11', 'site-packages');
        await mkdir(sitePackages, { recursive: true });
        await writeFile(join(home, 'helper_of_hers.py'), `OWNER = ${JSON.stringify(name)}\n`);
        await writeFile(join(sitePackages, 'site_package_of_hers.py'), `OWNER = ${JSON.stringify(name)}\n`);
        students.push({ name, server, kernel: await startKernel(server, `/user/${name}/`) });
      }
      for (const student of students) reports.set(student.name, await report(student));
    });
    after(() => t.stop());

    it('forks each kernel from a zygote of her own server, and says so in her server’s log', async () => {
      for (const student of students) {
        const kernel = reports.get(student.name) as SelfReport;
        assert.match(kernel.cmdline, /fork-server\.py/, 'a forked kernel is the fork server’s program, run on');
        assert.match(kernel.zygote, /fork-server\.py/);
        // Sandboxed, her server is PID 1 of her own PID namespace.
        if (isolation === 'sandbox') assert.equal(kernel.server, 1);
        const log = await readFile(join(t.dataDir, 'logs', `${student.name}.log`), 'utf8');
        assert.match(log, /Kernel forked \(pid \d+\)/);
      }
    });

    it('makes it the kernel `python -m ipykernel_launcher` would be: her folder, environment, module path, session and priority', () => {
      for (const student of students) {
        const kernel = reports.get(student.name) as SelfReport;
        assert.equal(kernel.user, student.name);
        assert.equal(kernel.path0, kernel.cwd, 'her folder is first on the module path');
        assert.equal(kernel.helper, student.name, 'a module in her folder is hers');
        assert.equal(kernel.sitePackage, student.name, 'a package she installed with pip --user is hers');
        assert.match(kernel.argv0, /ipykernel_launcher\.py$/);
        assert.equal(kernel.session, true, 'a session of its own, which Jupyter interrupts');
        assert.equal(kernel.nice, Math.min(19, getPriority() + 10), 'below the hub’s priority, as her server');
      }
    });

    const student = (name: string) => students.find((candidate) => candidate.name === name) as Student;

    it('ends a kernel Jupyter shuts down, and every kernel of hers when her server stops', async () => {
      const bob = student('bob');
      const { pid } = await report(bob);
      assert.equal((await bob.server.request(kernelPath(bob), { method: 'DELETE', headers: { Origin: bob.server.origin, 'X-XSRFToken': bob.server.cookie('_xsrf') ?? '' } })).status, 204);
      bob.kernel = await startKernel(bob.server, '/user/bob/');
      assert.equal((await runCode(bob.server, `${kernelPath(bob)}/channels`, `import os; print(os.path.exists("/proc/${pid}"))`)).trim(), 'False');
      // The kernel holds a file of his open: once his server has stopped, no process holds it.
      const marker = join(serverPaths(t.config, 'bob', '').home, 'kernel-alive');
      await runCode(bob.server, `${kernelPath(bob)}/channels`, 'KEPT_OPEN = open("kernel-alive", "w")');
      assert.ok((await holders(marker)).length > 0);
      assert.equal((await t.api('/users/bob/server', { method: 'DELETE' })).status < 300, true);
      await until('bob’s kernel to end with his server', async () => ((await holders(marker)).length === 0 ? true : undefined));
      // Shut down by his server, as Jupyter shuts kernels down: the stop's signal is not the zygote's to act on.
      const log = await readFile(join(t.dataDir, 'logs', 'bob.log'), 'utf8');
      assert.match(log, /Kernel shutdown: /);
      assert.doesNotMatch(log, /Traceback/);
    });

    if (!everything) return;

    it('shares no token, module global or random state between two students’ kernels', () => {
      const [ann, bob] = ['ann', 'bob'].map((name) => reports.get(name) as SelfReport);
      assert.ok(ann && bob);
      assert.notEqual(ann.token, bob.token);
      assert.equal(ann.globalSeen, null);
      assert.equal(bob.globalSeen, null, 'ann’s module global is not in bob’s kernel');
      assert.notEqual(ann.random, bob.random);
    });

    it('interrupts, restarts and revives a forked kernel as Jupyter does a launched one', async () => {
      const ann = student('ann');
      const interrupted = runCode(
        ann.server,
        `${kernelPath(ann)}/channels`,
        'import time\ntry:\n    print("sleeping", flush=True)\n    time.sleep(600)\nexcept KeyboardInterrupt:\n    print("interrupted")',
        { output: (text) => void (text.includes('sleeping') && post(ann, `${kernelPath(ann)}/interrupt`)) },
      );
      assert.equal((await interrupted).trim(), 'sleeping\ninterrupted');
      const first = (reports.get(ann.name) as SelfReport).pid;
      assert.equal((await post(ann, `${kernelPath(ann)}/restart`)).status, 200);
      const restarted = await nextKernelPid(ann, first);
      // A kernel that dies is started again by Jupyter, forked again.
      await runCode(ann.server, `${kernelPath(ann)}/channels`, killSoon('os.getpid()'));
      await nextKernelPid(ann, restarted);
      const revived = await report(ann);
      assert.match(revived.cmdline, /fork-server\.py/);
    });

    it('launches her kernels the normal way once her kernel zygote is gone, and says so', async () => {
      const ann = student('ann');
      const before = (await report(ann)).pid;
      // Her zygote is hers to end: it takes its kernels with it, and Jupyter starts hers again, launched.
      await runCode(ann.server, `${kernelPath(ann)}/channels`, killSoon('os.getppid()'));
      await nextKernelPid(ann, before);
      assert.match((await report(ann)).cmdline, /-m ipykernel_launcher -f /);
      const log = await readFile(join(t.dataDir, 'logs', 'ann.log'), 'utf8');
      assert.match(log, /Kernels are launched, not forked, when the kernel zygote/);
    });
  });
}

/** The processes that hold `file` open (seen by its inode: a sandbox names it by another path). */
async function holders(file: string): Promise<number[]> {
  const { dev, ino } = await stat(file);
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fds = await readdir(`/proc/${entry}/fd`).catch(() => []);
    for (const fd of fds) {
      const open = await stat(`/proc/${entry}/fd/${fd}`).catch(() => null);
      if (open?.dev === dev && open.ino === ino) {
        found.push(Number(entry));
        break;
      }
    }
  }
  return found;
}

describe('a kernel whose own start fails in the fork', () => {
  it('is launched the normal way (and fails as it would), and the zygote forks the next kernel', async () => {
    const probe = join(projectRoot(), 'test', 'fixtures', 'fork', 'kernel_zygote_probe.py');
    const module = join(projectRoot(), 'server', 'spawner', 'fork', 'kernel-forks.py');
    const { stdout } = await execFileAsync('/usr/bin/python3', [probe, module], { timeout: 120_000 });
    const events = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const forked = events.filter((event) => 'forked' in event);
    assert.deepEqual(events.filter((event) => !('forked' in event)), [{ launched: 'FileNotFoundError' }, { kind: 'ForkedKernel', returncode: 3 }]);
    assert.equal(forked.length, 1, 'only the second kernel was forked');
    assert.deepEqual(forked[0]?.forked, { run: { module: 'ipykernel_launcher' }, argv: ['ipykernel_launcher', '-f', 'connection.json'] });
    assert.equal(forked[0]?.session, true);
  });
});
