/**
 * The spawners the hub uses: local processes (local-process.ts), launched as discovery and the
 * configuration decide (launch-plan.ts), in the sandbox `spawner.isolation` asks for and this
 * machine offers (sandbox/isolation.ts). A start that cannot be done as configured is refused with
 * the reason; it never falls back to something the teacher did not ask for.
 */
import { mkdir, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LecternConfig } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { installRoot } from '../package-info.js';
import type { LaunchPlan } from './discovery.js';
import type { LaunchResolution } from './launch-plan.js';
import { ForkServers, whyNotForked } from './fork/fork-servers.js';
import type { ForkServer, ForkServerSpec } from './fork/fork-server.js';
import { LocalProcessSpawner, sharedServerEnvironment, type LocalProcessOptions } from './local-process.js';
import { bubblewrapLauncher, KERNELS_OVER_IPC, KERNELS_OVER_IPC_FILES, systemLayout } from './sandbox/bubblewrap.js';
import type { Isolation } from './sandbox/isolation.js';
import { unsandboxed, type Launcher, type SandboxKind } from './sandbox/launcher.js';
import { isInside } from './sandbox/place.js';
import { seatbeltLauncher } from './sandbox/seatbelt.js';
import { SpawnError, type SpawnerFactory, type SpawnContext } from './spawner.js';

export interface LocalSpawnersOptions {
  /** The hub's live spawner settings: a change on the settings page applies to the next start. */
  settings: Pick<LecternConfig['spawner'], 'args' | 'environment' | 'stopTimeouts' | 'courseData' | 'forkServer'>;
  /** How servers are launched (see launch-plan.ts). */
  launch: () => Promise<LaunchResolution>;
  /** Whether, and in what, they are sandboxed (see sandbox/isolation.ts). */
  isolation: () => Promise<Isolation>;
  /** The hub's Jupyter config folder (JUPYTER_CONFIG_DIR of every server; read-only in the sandbox). */
  jupyterConfigDir: string;
  /** What no sandboxed server may see even where a wider rule would show it: the data dir, the students' folders, the teacher's home. */
  hidden: string[];
  /** The fork servers' HOME and working directory: an empty folder of the hub's, no student's. */
  forkServerDir: string;
  log: Logger;
}

export function localSpawners(options: LocalSpawnersOptions): SpawnerFactory {
  const system = once(systemLayout);
  // Written once per hub, before its first start: rewritten at every start, they were read empty by
  // a server starting meanwhile (a class starting at once), which then failed on its config.
  const jupyterConfigDir = once(() => prepareJupyterConfigDir(options.jupyterConfigDir));
  const kernelsConfigDir = once(() => prepareKernelsConfigDir(options.jupyterConfigDir));
  const forkServers = new ForkServers(options.log);
  const spawner = (
    context: SpawnContext,
    plan: LaunchPlan | undefined,
    launcher: Launcher,
    forkServer: ForkServer | null,
    sandboxPaths: LocalProcessOptions['sandboxPaths'],
    courseData: string | null,
  ) =>
    new LocalProcessSpawner(context, {
      plan,
      launcher,
      forkServer,
      sandboxPaths,
      courseData,
      jupyterConfigDir: options.jupyterConfigDir,
      args: options.settings.args,
      environment: options.settings.environment,
      stopTimeouts: options.settings.stopTimeouts,
      log: options.log,
    });
  return {
    async prepare() {
      const [resolution, isolation] = await Promise.all([options.launch(), options.isolation()]);
      const { plan } = resolution;
      if (!plan) throw new SpawnError(`Cannot start a Jupyter server: ${resolution.problem ?? resolution.reason}`);
      if (isolation.problem) throw new SpawnError(isolation.problem);
      await jupyterConfigDir();
      let launcher = unsandboxed;
      if (isolation.sandbox === 'bubblewrap') {
        launcher = bubblewrapLauncher(isolation.program as string, await system(), await kernelsConfigDir());
      }
      if (isolation.sandbox === 'sandbox-exec') launcher = seatbeltLauncher;
      // A sandbox sees paths as the kernel resolved them: a rule for a path through a link names nothing.
      const courseData = await courseDataFolder(options.settings.courseData);
      const readOnly = [...(await readablePaths(plan)), await resolved(options.jupyterConfigDir), ...(courseData ? [courseData] : [])];
      const hidden = await Promise.all(options.hidden.map(resolved));
      const forkServer = await forkServerFor(plan, launcher.sandbox, courseData);
      return {
        mode: plan.mode,
        sandbox: launcher.sandbox,
        create: (context) => spawner(context, plan, launcher, forkServer, { readOnly, hidden }, courseData),
      };
    },
    // Adopted servers are stopped and watched, never launched: how they run was settled at their start.
    forAdoption: (context) => spawner(context, undefined, unsandboxed, null, { readOnly: [], hidden: [] }, null),
    close: () => forkServers.close(),
  };

  /** The fork server that starts servers of `plan`, or null when they start the normal way. */
  async function forkServerFor(plan: LaunchPlan, sandbox: SandboxKind | null, courseData: string | null): Promise<ForkServer | null> {
    if (!options.settings.forkServer) return null;
    const spec = forkServerSpec(plan, sandbox, { ...options, courseData, environment: options.settings.environment });
    if (typeof spec === 'string') {
      forkServers.notForked(spec);
      return null;
    }
    await mkdir(options.forkServerDir, { recursive: true, mode: 0o700 });
    return forkServers.get(spec);
  }
}

/**
 * What the fork server for servers of `plan` in `sandbox` runs, or why there is none here
 * (fork/fork-servers.ts). It imports with what every such server's environment holds alike
 * (local-process.ts), in `forkServerDir`, an empty folder, as HOME.
 */
export function forkServerSpec(
  plan: LaunchPlan,
  sandbox: SandboxKind | null,
  options: { jupyterConfigDir: string; courseData: string | null; forkServerDir: string; environment: Record<string, string> },
): ForkServerSpec | string {
  const why = whyNotForked(plan, sandbox);
  if (why !== null || !plan.fork || !plan.environment) return why ?? 'no fork plan';
  return {
    python: plan.environment.python,
    program: plan.fork.program,
    preload: plan.fork.preload,
    forkKernels: plan.fork.forkKernels,
    environment: {
      ...(plan.singleuserApp ? { JUPYTERHUB_SINGLEUSER_APP: plan.singleuserApp } : {}),
      ...sharedServerEnvironment({ plan, jupyterConfigDir: options.jupyterConfigDir, courseData: options.courseData }),
      HOME: options.forkServerDir,
      ...options.environment,
    },
  };
}

/**
 * Lectern's Jupyter config for every server, whatever its app (see jupyter-config.py). Read here by
 * Node, which can read inside the desktop app's archive, and written into the config folder.
 */
export const SERVERS_JUPYTER_CONFIG = path.join(installRoot, 'server', 'spawner', 'jupyter-config.py');
/** Written under both config names, as Python: one for Jupyter Server, one for Notebook 6. */
const SERVERS_JUPYTER_CONFIG_FILES = KERNELS_OVER_IPC_FILES.map((file) => file.replace(/\.json$/, '.py'));

/**
 * The hub's Jupyter config folder: Lectern's config for every server, and a `migrated` marker,
 * which tells Jupyter that IPython 3's config has been moved already: without it, a server finding
 * a student's `~/.ipython` would copy her old config into this folder (and, read-only in the
 * sandbox, fail to start).
 */
async function prepareJupyterConfigDir(folder: string): Promise<void> {
  await mkdir(folder, { recursive: true, mode: 0o700 });
  await writeFile(path.join(folder, 'migrated'), 'Lectern: servers read no IPython or Jupyter config of their students.\n');
  const config = await readFile(SERVERS_JUPYTER_CONFIG, 'utf8');
  for (const file of SERVERS_JUPYTER_CONFIG_FILES) await writeFile(path.join(folder, file), config);
}

/**
 * The config folder a sandboxed server also reads (JUPYTER_CONFIG_PATH), inside the hub's read-only
 * one: it sends kernels over Unix sockets (see sandbox/bubblewrap.ts). Resolved as the sandbox sees it.
 */
async function prepareKernelsConfigDir(jupyterConfigDir: string): Promise<string> {
  const folder = path.join(jupyterConfigDir, 'sandboxed');
  await mkdir(folder, { recursive: true, mode: 0o700 });
  for (const file of KERNELS_OVER_IPC_FILES) await writeFile(path.join(folder, file), `${JSON.stringify(KERNELS_OVER_IPC, null, 2)}\n`);
  return resolved(folder);
}

/** `spawner.courseData` as the OS resolves it, or null without one; a start is refused when it is not a folder. */
async function courseDataFolder(configured: string | null): Promise<string | null> {
  if (configured === null) return null;
  const real = await realpath(configured).catch(() => null);
  if (real === null || !(await stat(real)).isDirectory()) {
    throw new SpawnError(`Cannot start servers: the course data folder ${configured} (spawner.courseData) is not a folder here. Create it, or change the setting.`);
  }
  return real;
}

/**
 * What a server must be able to read to run at all, besides the OS: the environment's folder, the
 * installation its interpreter really lives in (a venv's `python` links to its base Python), the
 * configured program, and files its configured command line names. Paths that do not exist are
 * left out.
 */
export async function readablePaths(plan: LaunchPlan): Promise<string[]> {
  const found = new Set<string>();
  const add = async (candidate: string | undefined, asInstallation: boolean) => {
    if (!candidate) return;
    const real = await realpath(candidate).catch(() => null);
    if (!real) return;
    const folder = path.dirname(real);
    // `<prefix>/bin/python3.11` or `<prefix>\Scripts\x.exe`: the whole installation is needed; but
    // never the whole disk, for a program in `/bin`.
    const prefix = path.dirname(folder);
    const installation = asInstallation && /^(bin|Scripts)$/i.test(path.basename(folder)) && path.dirname(prefix) !== prefix ? prefix : real;
    found.add(installation);
  };
  await add(plan.environment?.path, false);
  await add(plan.environment?.python, true);
  await add(plan.command[0], true);
  for (const folder of plan.pathPrefix) await add(folder, false);
  // A file named on a configured command line: `python /home/t/start-jupyter.py`.
  for (const argument of plan.command.slice(1)) {
    if (path.isAbsolute(argument) && (await stat(argument).catch(() => null))?.isFile()) await add(argument, false);
  }
  // A path inside another one adds nothing.
  const all = [...found];
  return all.filter((candidate) => !all.some((other) => other !== candidate && isInside(candidate, other)));
}

/** `make`, called at the first call only, while it has not failed: a failure is tried again at the next call. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () =>
    (made ??= make().catch((error: unknown) => {
      made = undefined;
      throw error;
    }));
}

/** `folder` with its links resolved, or as it is while it does not exist. */
function resolved(folder: string): Promise<string> {
  return realpath(folder).catch(() => folder);
}
