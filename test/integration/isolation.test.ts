/**
 * Students are isolated. With the real jupyterhub-singleuser, the real classic `jupyter notebook` 6
 * and the real `jupyter server`, each student's server runs in its bubblewrap sandbox; from her own
 * kernel, ann tries what a curious student would against her classmate anna (whose name hers is a
 * prefix of), the hub and the teacher, and every attempt is refused, while her own work — code,
 * files, `pip install --user`, a restart — goes on as before. Without a sandbox the same probe reads
 * anna's work, which is what the sandbox is for.
 *
 * Then the machine without a working sandbox (a bubblewrap that fails as it does where user
 * namespaces are forbidden): `isolation: sandbox` refuses to start servers and says why;
 * `isolation: auto` starts them and warns, in the API, the doctor's report and the server models.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { getPriority, homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HttpClient } from '../helpers/http-client.js';
import { fakeServer, projectRoot, startTestHub, type TestHub } from '../helpers/hub.js';
import { runCode } from '../helpers/kernel.js';
import { startAndOpen, startKernel, startServer } from '../helpers/student-server.js';

interface Mode {
  title: string;
  spawner: Record<string, unknown>;
}

/**
 * Every launch mode, and both ways of starting a server and its kernels: forked (the default: the
 * server from a fork server, its kernels from the server), and launched as programs of their own.
 * The sandbox must hold the same either way.
 */
const MODES: Mode[] = [
  { title: 'jupyterhub-singleuser, forked', spawner: {} },
  { title: 'the classic `jupyter notebook` 6, launched', spawner: { python: '/usr/bin/python3', launchMode: 'notebook', forkServer: false } },
  { title: '`jupyter server`, forked', spawner: { python: '/usr/bin/python3', launchMode: 'server' } },
];

/** A student's server runs at "below normal" priority: nice 10 more than the hub's, at most 19. */
const studentNice = () => Math.min(19, getPriority() + 10);

/** Whether Linux shares CPU between sessions before nice values count (its autogroup scheduling). */
const autoGroupScheduling = () => existsSync('/proc/sys/kernel/sched_autogroup_enabled') && readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1';

const ANNA_SECRET = `anna's essay ${randomBytes(6).toString('hex')}`;

/** Writes a text file through Jupyter's contents API, as the notebook page saves one. */
function putFile(client: HttpClient, prefix: string, path: string, text: string): Promise<Response> {
  const xsrf = client.cookie('_xsrf');
  return client.request(`${prefix}api/contents/${path}`, {
    method: 'PUT',
    headers: { Origin: client.origin, 'Content-Type': 'application/json', ...(xsrf ? { 'X-XSRFToken': xsrf } : {}) },
    body: JSON.stringify({ type: 'file', format: 'text', content: text }),
  });
}

/** Runs Python in the kernel and parses the one JSON line it prints. */
async function probe(client: HttpClient, prefix: string, kernel: string, code: string): Promise<Record<string, unknown>> {
  const output = await runCode(client, `${prefix}api/kernels/${kernel}/channels`, code);
  try {
    return JSON.parse(output.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
  } catch {
    throw new Error(`the probe printed no JSON:\n${output}`);
  }
}

/**
 * What a curious student tries from her kernel: each attempt is `ok: …` if it worked, else the name
 * of the error Python raised.
 */
function attemptsCode(targets: Record<string, string | number>): string {
  return `
import glob, json, os
T = json.loads(${JSON.stringify(JSON.stringify(targets))})
result = {}
def attempt(name, action):
    try:
        result[name] = 'ok: ' + repr(action())[:120]
    except BaseException as error:
        result[name] = type(error).__name__
def write(path, text):
    with open(path, 'w') as handle:
        return handle.write(text)
attempt('read a classmate’s file', lambda: open(T['annaFile']).read())
attempt('write into a classmate’s folder', lambda: write(os.path.join(T['annaHome'], 'from-ann.txt'), 'hi'))
attempt('see a classmate’s folder', lambda: [name for name in os.listdir(T['usersFolder']) if name != 'ann'][0])
attempt('open the hub’s database', lambda: open(T['database'], 'rb').read(16))
attempt('read the teacher’s file', lambda: open(T['teacherFile']).read())
attempt('signal the hub', lambda: os.kill(T['hubPid'], 0))
attempt('change the hub’s Jupyter config', lambda: write(os.path.join(os.environ['JUPYTER_CONFIG_DIR'], 'jupyter_server_config.py'), 'c = 1'))
environments = []
for path in glob.glob('/proc/[0-9]*/environ'):
    try:
        environments.append(open(path, 'rb').read())
    except OSError:
        pass
attempt('find a classmate’s token in /proc', lambda: [e for e in environments if T['annaToken'].encode() in e][0][:0])
result['processes seen'] = len(glob.glob('/proc/[0-9]*'))
print(json.dumps(result))
`;
}

for (const mode of MODES) {
  describe(`students are isolated: ${mode.title} in bubblewrap`, () => {
    let t: TestHub;
    /** Ann's browser at the hub, and at her server's own origin. */
    let ann: HttpClient;
    let annServer: HttpClient;
    let kernel: string;
    const teacherFile = join(homedir(), `.lectern-isolation-canary-${process.pid}-${randomBytes(4).toString('hex')}`);

    let courseData: string;

    before(async () => {
      courseData = await mkdtemp(join(tmpdir(), 'lectern-course-data-'));
      await writeFile(join(courseData, 'cities.csv'), 'city,people\nLyon,522000\n');
      t = await startTestHub({ spawner: { isolation: 'sandbox', courseData, ...mode.spawner }, culler: { enabled: false } });
      await writeFile(teacherFile, 'the teacher’s grades');
      for (const name of ['ann', 'anna']) await t.addUser(name, `${name}-password-1`);
      ann = t.client();
      const anna = t.client();
      await ann.logIn('ann', 'ann-password-1');
      await anna.logIn('anna', 'anna-password-1');
      const { server: annaServer } = await startAndOpen(anna, 'anna');
      assert.equal((await putFile(annaServer, '/user/anna/', 'essay.txt', ANNA_SECRET)).status, 201);
      ({ server: annServer } = await startAndOpen(ann, 'ann'));
      kernel = await startKernel(annServer, '/user/ann/');
    });
    after(async () => {
      await rm(teacherFile, { force: true });
      await t.stop();
      await rm(courseData, { recursive: true, force: true });
    });

    it('runs both servers in the sandbox, and says so', async () => {
      const forked = mode.spawner.forkServer !== false;
      for (const name of ['ann', 'anna']) {
        const model = (await (await t.api(`/users/${name}`)).json()) as { servers: Record<string, { lectern_sandbox: string | null }> };
        assert.equal(model.servers['']?.lectern_sandbox, 'bubblewrap', name);
        assert.ok(t.logLines.some((line) => line.includes(`started server for ${name} `) && line.includes(`forked=${forked}`)), `${name}'s server was ${forked ? '' : 'not '}forked`);
      }
      // A forked server forks its kernels too (kernel-forks.test.ts): ann's attempts below run in one.
      const annLog = await readFile(join(t.dataDir, 'logs', 'ann.log'), 'utf8');
      assert.equal(/Kernel forked \(pid \d+\)/.test(annLog), forked, `ann's kernel was ${forked ? '' : 'not '}forked`);
      const isolation = (await (await t.api('/lectern/isolation')).json()) as Record<string, unknown>;
      assert.equal(isolation.sandbox, 'bubblewrap');
      assert.equal(isolation.warning, null);
    });

    it('connects ann’s kernel to her server over Unix sockets in her runtime folder, on no TCP port', async () => {
      const connection = await probe(
        annServer,
        '/user/ann/',
        kernel,
        'import json; from ipykernel.connect import get_connection_info; print(json.dumps({k: v for k, v in json.loads(get_connection_info()).items() if k != "key"}))',
      );
      assert.equal(connection.transport, 'ipc', JSON.stringify(connection));
      assert.match(String(connection.ip), /^\/run\/jupyter\/kernel-[0-9a-f-]+-ipc$/);
      // The runtime folder is the server's own: the kernel's connection file is there, outside hers.
      const runtime = await readdir(join(t.dataDir, 'runtime', 'ann', '_default', 'jupyter'));
      assert.ok(runtime.some((file) => file === `kernel-${kernel}.json`), runtime.join(', '));
    });

    it('refuses everything ann’s kernel tries against anna, the hub and the teacher', async () => {
      const annaToken = (await readFile(join(t.dataDir, 'runtime', 'anna', '_default', 'hub-api-token'), 'utf8')).trim();
      const result = await probe(
        annServer,
        '/user/ann/',
        kernel,
        attemptsCode({
          annaFile: join(t.dataDir, 'users', 'anna', 'home', 'essay.txt'),
          annaHome: join(t.dataDir, 'users', 'anna', 'home'),
          usersFolder: join(t.dataDir, 'users'),
          database: join(t.dataDir, 'lectern.sqlite'),
          teacherFile,
          hubPid: process.pid,
          annaToken,
        }),
      );
      const { 'processes seen': processes, ...attempts } = result;
      const succeeded = Object.entries(attempts).filter(([, outcome]) => String(outcome).startsWith('ok'));
      assert.deepEqual(succeeded, [], `every attempt is refused: ${JSON.stringify(result, null, 2)}`);
      assert.equal(Object.keys(attempts).length, 8);
      // Her own PID namespace: her server and kernel, and what they run, nothing else of the machine.
      assert.ok(Number(processes) <= 5, `ann sees only her own processes (${String(processes)})`);
      assert.equal(await stat(join(t.dataDir, 'users', 'anna', 'home', 'from-ann.txt')).catch(() => null), null);
    });

    it('refuses a path out of her folder through Jupyter’s own contents API (`..%2F`)', async () => {
      for (const path of ['..%2Fanna%2Fessay.txt', '..%2F..%2Fanna%2Fhome%2Fessay.txt', '%2E%2E%2F%2E%2E%2Fanna%2Fhome%2Fessay.txt']) {
        const read = await annServer.request(`/user/ann/api/contents/${path}`);
        const body = await read.text();
        assert.ok(read.status >= 400 && read.status < 500, `GET ${path}: ${read.status}`);
        assert.ok(!body.includes(ANNA_SECRET), `GET ${path} does not show anna's file`);
      }
      const written = await putFile(annServer, '/user/ann/', '..%2F..%2Fanna%2Fhome%2Fpwned.txt', 'from ann');
      assert.ok(written.status >= 400 && written.status < 500, `PUT: ${written.status}`);
      assert.equal(await stat(join(t.dataDir, 'users', 'anna', 'home', 'pwned.txt')).catch(() => null), null);
    });

    it('reads no Jupyter config ann writes in her folder, even after she restarts her server', async () => {
      const marker = join(t.dataDir, 'users', 'ann', 'home', 'user-config-was-read');
      // Config files are Python that Jupyter runs when it reads them: this one leaves a mark.
      const config = "import os\nopen(os.path.join(os.path.expanduser('~'), 'user-config-was-read'), 'w').write('yes')\n";
      const written = await probe(
        annServer,
        '/user/ann/',
        kernel,
        `
import json, os
home = os.path.expanduser('~')
written = []
for folder in [os.path.join(home, '.jupyter'), os.path.join(home, '.local', 'etc', 'jupyter')]:
    os.makedirs(folder, exist_ok=True)
    for name in ['jupyter_notebook_config.py', 'jupyter_server_config.py']:
        with open(os.path.join(folder, name), 'w') as handle:
            handle.write(${JSON.stringify(config)})
        written.append(name)
print(json.dumps({'written': len(written)}))
`,
      );
      assert.equal(written.written, 4, 'her own folder is hers to write');
      assert.equal((await t.api('/users/ann/server', { method: 'DELETE' })).status, 204);
      ({ server: annServer } = await startAndOpen(ann, 'ann'));
      kernel = await startKernel(annServer, '/user/ann/');
      assert.equal((await runCode(annServer, `/user/ann/api/kernels/${kernel}/channels`, 'print(6*7)')).trim(), '42');
      assert.equal(await stat(marker).catch(() => null), null, 'the restarted server read none of her config files');
    });

    it('shows ann the course data at the same path for everyone, as course-data in her folder, and read-only', async () => {
      const seen = await probe(
        annServer,
        '/user/ann/',
        kernel,
        `
import json, os
result = {'env': os.environ.get('LECTERN_COURSE_DATA'), 'linked': open('course-data/cities.csv').read()}
for name, path in [('change', 'course-data/cities.csv'), ('add', 'course-data/mine.csv')]:
    try:
        open(path, 'a').write('x')
        result[name] = 'ok'
    except OSError as error:
        result[name] = type(error).__name__
print(json.dumps(result))
`,
      );
      assert.equal(seen.env, await realpath(courseData));
      assert.equal(seen.linked, 'city,people\nLyon,522000\n');
      assert.notEqual(seen.change, 'ok', 'she cannot change the course data');
      assert.notEqual(seen.add, 'ok', 'nor add to it');
      assert.equal(await readFile(join(courseData, 'cities.csv'), 'utf8'), 'city,people\nLyon,522000\n');
    });

    it('runs ann’s kernel below the hub’s CPU priority, so the hub answers while servers start', async () => {
      const look = () =>
        probe(
          annServer,
          '/user/ann/',
          kernel,
          'import json, os\ntry:\n    group = open("/proc/self/autogroup").read()\nexcept OSError:\n    group = None\nprint(json.dumps({"nice": os.nice(0), "autogroup": group}))',
        );
      assert.equal((await look()).nice, studentNice());
      // Where the scheduler shares CPU between sessions first, her kernel's session (Jupyter starts
      // each kernel in one of its own) is lowered too, at the hub's next look at her server.
      if (autoGroupScheduling()) {
        const deadline = Date.now() + 60_000;
        let group = '';
        while (!/ nice 10$/m.test(group)) {
          assert.ok(Date.now() < deadline, `her kernel's session was not lowered within a minute: ${group}`);
          group = String((await look()).autogroup);
        }
      }
    });

    it('lets ann work as before: code, files, pip install --user into her own folder, a restart', async () => {
      assert.equal((await putFile(annServer, '/user/ann/', 'notes.txt', 'my notes')).status, 201);
      const read = await annServer.request('/user/ann/api/contents/notes.txt');
      assert.equal(((await read.json()) as { content: string }).content, 'my notes');

      const installed = await probe(
        annServer,
        '/user/ann/',
        kernel,
        `
import json, os, site, subprocess, sys
package = os.path.join(os.path.expanduser('~'), 'tinypkg')
os.makedirs(os.path.join(package, 'tinypkg'), exist_ok=True)
open(os.path.join(package, 'pyproject.toml'), 'w').write('[build-system]\\nrequires = ["setuptools"]\\nbuild-backend = "setuptools.build_meta"\\n[project]\\nname = "tinypkg"\\nversion = "1.0"\\n')
open(os.path.join(package, 'tinypkg', '__init__.py'), 'w').write('VALUE = 42\\n')
# Debian marks its Python as externally managed; a student's --user install is hers to make.
pip = subprocess.run([sys.executable, '-m', 'pip', 'install', '--user', '--no-index', '--no-build-isolation', '--break-system-packages', package], capture_output=True, text=True)
print(json.dumps({'code': pip.returncode, 'userSite': site.getusersitepackages(), 'home': os.path.expanduser('~'), 'err': pip.stderr[-300:]}))
`,
      );
      assert.equal(installed.code, 0, String(installed.err));
      assert.ok(String(installed.userSite).startsWith(`${String(installed.home)}/`), 'user installs land in her folder');
      const site = String(installed.userSite).replace(String(installed.home), join(t.dataDir, 'users', 'ann', 'home'));
      assert.ok(await stat(join(site, 'tinypkg', '__init__.py')), 'on the disk, in her own folder');

      assert.equal((await t.api('/users/ann/server', { method: 'DELETE' })).status, 204);
      ({ server: annServer } = await startAndOpen(ann, 'ann'));
      kernel = await startKernel(annServer, '/user/ann/');
      const output = await runCode(annServer, `/user/ann/api/kernels/${kernel}/channels`, 'import tinypkg; print(tinypkg.VALUE, open("notes.txt").read())');
      assert.equal(output.trim(), '42 my notes', 'after a restart her package imports and her files are there');
    });
  });
}

describe('without a sandbox (spawner.isolation: off)', () => {
  it('ann’s kernel reads anna’s work: what the sandbox prevents, and the hub says so', async () => {
    const courseData = await mkdtemp(join(tmpdir(), 'lectern-course-data-'));
    const t = await startTestHub({ spawner: { isolation: 'off', courseData }, culler: { enabled: false } });
    try {
      for (const name of ['ann', 'anna']) await t.addUser(name, `${name}-password-1`);
      const ann = t.client();
      await ann.logIn('ann', 'ann-password-1');
      const { server } = await startAndOpen(ann, 'ann');
      const annaHome = join(t.dataDir, 'users', 'anna', 'home');
      await t.api('/users/anna/server', { method: 'POST' });
      await writeFile(join(annaHome, 'essay.txt'), ANNA_SECRET);
      const kernel = await startKernel(server, '/user/ann/');
      const output = await runCode(server, `/user/ann/api/kernels/${kernel}/channels`, `print(open(${JSON.stringify(join(annaHome, 'essay.txt'))}).read())`);
      assert.equal(output.trim(), ANNA_SECRET);

      const model = (await (await t.api('/users/ann')).json()) as { servers: Record<string, { lectern_sandbox: string | null }> };
      assert.equal(model.servers['']?.lectern_sandbox, null);
      const isolation = (await (await t.api('/lectern/isolation')).json()) as { warning: string | null };
      assert.match(isolation.warning ?? '', /Students are not isolated \(spawner.isolation is "off"\)/);
      assert.match(isolation.warning ?? '', /They can also change the course data every student reads/);

      // Ann's kernel runs below the hub's CPU priority; the teacher's own (a demo) does not.
      await t.addUser('teach', 'teach-password-1', true);
      const teacher = t.client();
      await teacher.logIn('teach', 'teach-password-1');
      const { server: teacherServer } = await startAndOpen(teacher, 'teach');
      const teacherKernel = await startKernel(teacherServer, '/user/teach/');
      const nice = 'import os; print(os.nice(0))';
      assert.equal(Number(await runCode(server, `/user/ann/api/kernels/${kernel}/channels`, nice)), studentNice());
      assert.equal(Number(await runCode(teacherServer, `/user/teach/api/kernels/${teacherKernel}/channels`, nice)), getPriority());
    } finally {
      await t.stop();
      await rm(courseData, { recursive: true, force: true });
    }
  });
});

describe('on a machine where bubblewrap cannot make a sandbox', () => {
  const fakeBwrap = join(projectRoot(), 'test/fixtures/sandbox/no-user-namespaces');
  let path: string | undefined;
  before(() => {
    path = process.env.PATH;
    process.env.PATH = `${fakeBwrap}:${path ?? ''}`;
  });
  after(() => {
    process.env.PATH = path;
  });

  it('`isolation: sandbox` refuses to start servers, saying why and what to do', async () => {
    const t = await startTestHub({ ...fakeServer('ok'), spawner: { ...(fakeServer('ok').spawner as object), isolation: 'sandbox' } });
    try {
      await t.addUser('ann', 'ann-password-1');
      const started = await t.api('/users/ann/server', { method: 'POST' });
      assert.ok([201, 202].includes(started.status) || started.status >= 400, String(started.status));
      const events = await (await t.api('/users/ann/server/progress')).text();
      assert.match(events, /spawner\.isolation is \\"sandbox\\", but bubblewrap cannot make a sandbox on this system/);
      assert.match(events, /user namespaces/);
      assert.match(events, /set spawner\.isolation to \\"auto\\"/);
      const model = (await (await t.api('/users/ann')).json()) as { server: string | null };
      assert.equal(model.server, null, 'no server runs unsandboxed');
      const doctor = (await (await t.api('/lectern/doctor')).json()) as { problems: string[] };
      assert.ok(doctor.problems.some((problem) => problem.includes('spawner.isolation is "sandbox"')), doctor.problems.join('\n'));
    } finally {
      await t.stop();
    }
  });

  it('`isolation: auto` starts servers without a sandbox and warns, with what it means and the fix', async () => {
    const t = await startTestHub(fakeServer('ok'));
    try {
      await t.addUser('ann', 'ann-password-1');
      await startServer(t.api, '/users/ann/server');
      const model = (await (await t.api('/users/ann')).json()) as { servers: Record<string, { lectern_sandbox: string | null }> };
      assert.equal(model.servers['']?.lectern_sandbox, null);
      const isolation = (await (await t.api('/lectern/isolation')).json()) as { warning: string | null; problem: string | null };
      assert.equal(isolation.problem, null);
      assert.match(isolation.warning ?? '', /Students are not isolated: .* can read and change classmates’ work/);
      assert.match(isolation.warning ?? '', /bubblewrap cannot make a sandbox on this system \("bwrap: setting up uid map: Permission denied"\)/);
      const doctor = (await (await t.api('/lectern/doctor')).json()) as { warnings: string[]; isolation: { sandbox: string | null } };
      assert.equal(doctor.isolation.sandbox, null);
      assert.ok(doctor.warnings.some((warning) => warning.startsWith('Students are not isolated')), doctor.warnings.join('\n'));
      assert.ok(t.logLines.some((line) => line.includes('Students are not isolated')), 'the log says so at start');
    } finally {
      await t.stop();
    }
  });
});
