/**
 * A server forked from a fork server is the student's alone. A probe stands in for Jupyter
 * (test/fixtures/fork/lectern_fork_probe.py): the fork server imports it before forking, as it
 * imports Jupyter, and each forked "server" reports what it can see of itself. Two students' servers
 * are forked from the same fork server, without a sandbox and in bubblewrap, through the hub's own
 * spawners: each has her own environment (token, HOME), folder, log, priority and random state;
 * neither sees the other's token, files or module globals; no descriptor of the fork server's is
 * left open in them; sandboxed, each is PID 1 of her own namespace, without privileges. A fork
 * server that cannot import is said in the log, and servers then start the normal way.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../server/logging/logger.js';
import type { LaunchPlan } from '../../server/spawner/discovery.js';
import { localSpawners } from '../../server/spawner/local-spawners.js';
import { decideIsolation, findSandbox } from '../../server/spawner/sandbox/isolation.js';
import type { SpawnContext, Spawner, SpawnerFactory } from '../../server/spawner/spawner.js';
import { projectRoot } from '../helpers/hub.js';
import { until } from '../helpers/wait.js';

const PROBE_FOLDER = join(projectRoot(), 'test', 'fixtures', 'fork');

/** An environment whose folder holds the probe, run as `python -m lectern_fork_probe` (the `server` mode's command line). */
function probePlan(preload = ['lectern_fork_probe']): LaunchPlan {
  return {
    mode: 'server',
    command: ['/usr/bin/python3', '-s', '-m', 'lectern_fork_probe'],
    environment: { path: PROBE_FOLDER, python: '/usr/bin/python3', source: 'configured', pythonVersion: '3', packages: {} },
    ui: 'none',
    pathPrefix: [],
    fork: { program: { module: 'lectern_fork_probe' }, preload, forkKernels: false },
  };
}

interface Report {
  pid: number;
  importedIn: number;
  students: string[];
  random: number;
  environment: Record<string, string>;
  cwd: string;
  files: Record<string, string>;
  processes: number[];
  sees: Record<string, boolean>;
  privileges: Record<string, string>;
}

interface Student {
  name: string;
  context: SpawnContext;
  spawner: Spawner;
  report: Report;
  exits: unknown[];
}

async function startStudents(
  dir: string,
  sandboxed: boolean,
  plan: LaunchPlan,
  logLines: string[],
): Promise<{ students: Student[]; spawners: SpawnerFactory; close(): Promise<void> }> {
  const homes = ['ann', 'bob'].map((name) => join(dir, 'users', name));
  // Both exist before either server starts: what each can see of the other is the sandbox's doing.
  for (const home of homes) await mkdir(home, { recursive: true });
  const spawners = localSpawners({
    settings: {
      args: [],
      environment: { PYTHONPATH: PROBE_FOLDER, PROBE_PATHS: homes.join(':') },
      stopTimeouts: { interrupt: 5, terminate: 2, kill: 2 },
      courseData: null,
      forkServer: true,
    },
    launch: async () => ({ plan, reason: 'test', problem: null, environments: [], command: null, choice: null }),
    isolation: async () => decideIsolation(sandboxed ? 'sandbox' : 'off', await findSandbox()),
    jupyterConfigDir: join(dir, 'jupyter-config'),
    hidden: [join(dir, 'users')],
    forkServerDir: join(dir, 'fork-server'),
    log: createLogger({ level: 'debug', sink: (line) => logLines.push(line) }),
  });
  const prepared = await spawners.prepare();
  const students: Student[] = [];
  for (const [index, name] of ['ann', 'bob'].entries()) {
    const context: SpawnContext = {
      user: name,
      serverName: '',
      hubEnvironment: {},
      token: randomBytes(16).toString('hex'),
      servicePrefix: `/user/${name}/`,
      home: homes[index] as string,
      runtimeDir: join(dir, 'runtime', name),
      tmpDir: join(dir, 'tmp', name),
      logFile: join(dir, 'logs', `${name}.log`),
      defaultUrl: '',
      lowPriority: name === 'ann',
    };
    const spawner = prepared.create(context);
    const exits: unknown[] = [];
    spawner.onExit = (code, signal) => exits.push({ code, signal });
    await spawner.start();
    const line = await until(`${name}'s report`, async () => (await readFile(context.logFile, 'utf8').catch(() => '')).split('\n').find((text) => text.startsWith('{')));
    students.push({ name, context, spawner, report: JSON.parse(line) as Report, exits });
  }
  return {
    students,
    spawners,
    close: async () => {
      await Promise.all(students.map((student) => student.spawner.stop()));
      await spawners.close();
    },
  };
}

for (const sandboxed of [false, true]) {
  describe(`servers forked ${sandboxed ? 'into bubblewrap sandboxes' : 'without a sandbox'} are each student's own`, () => {
    let dir: string;
    let started: Awaited<ReturnType<typeof startStudents>>;
    const logLines: string[] = [];
    let ann: Student;
    let bob: Student;

    before(async () => {
      dir = await realpath(await mkdtemp(join(tmpdir(), 'lectern-fork-')));
      started = await startStudents(dir, sandboxed, probePlan(), logLines);
      [ann, bob] = started.students as [Student, Student];
    });
    after(async () => {
      await started?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('forks both from one fork server that imported the server’s modules first', () => {
      assert.ok(logLines.some((line) => line.includes('fork server ready') && line.includes('lectern_fork_probe')), logLines.join('\n'));
      for (const student of [ann, bob]) {
        assert.ok(logLines.some((line) => line.includes(`started server for ${student.name} `) && line.includes('forked=true')), student.name);
        assert.notEqual(student.report.importedIn, student.report.pid, 'the probe was imported before the fork');
      }
      assert.equal(ann.report.importedIn, bob.report.importedIn, 'one fork server');
    });

    it('gives each her own environment, token, folder and log, and nothing of the other’s', () => {
      for (const [student, other] of [
        [ann, bob],
        [bob, ann],
      ] as const) {
        const { environment } = student.report;
        assert.equal(environment.JUPYTER_TOKEN, student.context.token);
        assert.equal(environment.HOME, student.context.home);
        assert.equal(environment.USER, student.name);
        assert.equal(student.report.cwd, student.context.home);
        assert.ok(!JSON.stringify(student.report).includes(other.context.token), `${student.name} sees no trace of ${other.name}'s token`);
        assert.ok(!Object.values(environment).some((value) => value.includes(join(dir, 'fork-server'))), 'none of the fork server’s own variables');
        // stdin, stdout and stderr, and nothing else the fork server held (its pipes to the hub).
        const files = student.report.files;
        assert.deepEqual(Object.keys(files).sort(), ['0', '1', '2'], JSON.stringify(files));
        assert.equal(files['0'], '/dev/null');
        assert.equal(files['1'], student.context.logFile);
        assert.equal(files['2'], student.context.logFile);
      }
    });

    it('shares no module globals or random state between them', () => {
      assert.deepEqual(ann.report.students, ['ann']);
      assert.deepEqual(bob.report.students, ['bob']);
      assert.notEqual(ann.report.random, bob.report.random);
    });

    it('lowers the priority of a student’s server, and only of hers', () => {
      assert.equal(getPriority(ann.spawner.pid), Math.min(19, getPriority() + 10));
      assert.equal(getPriority(bob.spawner.pid), getPriority(), 'the teacher’s own server keeps the hub’s priority');
    });

    if (sandboxed) {
      it('makes each PID 1 of her own sandbox, seeing only her own folder and processes, without privileges', () => {
        for (const [student, other] of [
          [ann, bob],
          [bob, ann],
        ] as const) {
          assert.equal(student.report.pid, 1);
          assert.deepEqual(student.report.processes, [1]);
          assert.deepEqual(student.report.sees, { [student.context.home]: true, [other.context.home]: false });
          assert.equal(student.report.privileges.CapEff, '0000000000000000');
          assert.equal(student.report.privileges.CapBnd, '0000000000000000');
          assert.equal(student.report.privileges.NoNewPrivs, '1');
        }
      });
    } else {
      it('leaves an unsandboxed server every folder its OS user can read, as a normal launch does', () => {
        assert.deepEqual(Object.values(ann.report.sees), [true, true]);
      });
    }

    it('tells the hub when a forked server ends', async () => {
      await ann.spawner.stop();
      assert.equal(ann.exits.length, 1);
      assert.notEqual(await ann.spawner.poll(), null);
      assert.equal(await bob.spawner.poll(), null, 'bob’s server runs on');
    });
  });
}

describe('a fork server that dies', () => {
  it('leaves its servers running, notices their end by polling, and the next start forks from a new one', async () => {
    const dir = await realpath(await mkdtemp(join(tmpdir(), 'lectern-fork-')));
    const logLines: string[] = [];
    const started = await startStudents(dir, false, probePlan(), logLines);
    try {
      const [ann, bob] = started.students as [Student, Student];
      const forkServer = Number((await readFile(`/proc/${ann.report.pid}/stat`, 'utf8')).split(') ')[1]?.split(' ')[1]);
      assert.equal(forkServer, ann.report.importedIn, 'the fork server is the parent of the servers it forked');
      process.kill(forkServer, 'SIGKILL');
      await until('the hub noticed', async () => logLines.some((line) => line.includes('a fork server ended')));
      assert.equal(await bob.spawner.poll(), null, 'bob’s server runs on');
      process.kill(bob.report.pid, 'SIGKILL');
      await until('bob’s end noticed', async () => bob.exits.length === 1);

      await ann.spawner.stop();
      // As the hub starts a server: prepared anew, which finds the fork server gone.
      const again = (await started.spawners.prepare()).create(ann.context);
      await again.start();
      try {
        const restarted = await until('ann’s new report', async () => {
          const reports = (await readFile(ann.context.logFile, 'utf8')).split('\n').filter((line) => line.startsWith('{'));
          return reports.length === 2 ? (JSON.parse(reports[1] as string) as Report) : undefined;
        });
        assert.notEqual(restarted.importedIn, restarted.pid, 'forked again');
        assert.notEqual(restarted.importedIn, forkServer, 'from a new fork server');
      } finally {
        await again.stop();
      }
    } finally {
      await started.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a fork server that cannot import the server’s modules', () => {
  it('is said in the log, and servers start the normal way', async () => {
    const dir = await realpath(await mkdtemp(join(tmpdir(), 'lectern-fork-')));
    const logLines: string[] = [];
    const started = await startStudents(dir, false, probePlan(['lectern_fork_probe', 'no_such_module_anywhere']), logLines);
    try {
      assert.ok(
        logLines.some((line) => line.includes("students' servers start the normal way, not forked") && line.includes('no_such_module_anywhere')),
        logLines.join('\n'),
      );
      for (const student of started.students) {
        assert.equal(student.report.importedIn, student.report.pid, 'imported by the server itself');
        assert.ok(logLines.some((line) => line.includes(`started server for ${student.name} `) && line.includes('forked=false')));
      }
    } finally {
      await started.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
