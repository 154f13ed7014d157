/**
 * Which Python environments on this machine can run a student's Jupyter server, why each one can
 * or cannot, and which one to use.
 *
 * A teacher's laptop rarely has one Python: the first `python3` on PATH may be a pyenv or
 * Homebrew Python without Jupyter while Anaconda sits in the home folder and the OS has its own.
 * So discovery never trusts a name on PATH. It gathers every interpreter it can find (PATH, conda
 * and mamba envs, venvs, pyenv versions, the usual install folders of each OS, JupyterLab
 * Desktop's bundled env, system Pythons, configured paths; see `discovery-places.ts`), asks each
 * one what it is (`discovery-probe.ts`), and merges those that turn out to be the same environment
 * (a pyenv shim and the version behind it; `/bin/python3` and `/usr/bin/python3`).
 *
 * Each environment qualifies for zero or more launch modes:
 * - `singleuser`: `jupyterhub-singleuser`, which speaks the hub's protocol itself (OAuth, activity);
 * - `lab`, `notebook`, `server`: plain `jupyter lab` / `jupyter notebook` / `jupyter server`
 *   behind the proxy's authentication (DESIGN.md, "two launch modes").
 * When it qualifies for none, `problems` says why in words a teacher can act on.
 *
 * Everything the search depends on (OS, home, environment variables, file system, the probe) is
 * injected, so the tests run every OS's layout against fake trees; `findEnvironments()` is the
 * real machine's answer, cached per process.
 */
import os from 'node:os';
import path from 'node:path';
import { fileSystemAt, type DiscoveryFileSystem } from './discovery-fs.js';
import { envVar, type Environment } from './discovery-places.js';
import {
  DEFAULT_PROBE_TIMEOUT_MS,
  JUPYTER_PACKAGES,
  probeInterpreter,
  type InterpreterFacts,
  type InterpreterProbe,
  type JupyterPackage,
} from './discovery-probe.js';
import type { LaunchMode } from '../config/schema.js';
import { interpreterOfScript, Search, type EnvironmentSource, type Lead } from './discovery-search.js';
import type { ForkProgram } from './fork/fork-server.js';

export { JUPYTER_PACKAGES, type JupyterPackage, type InterpreterProbe, type ProbeOutcome } from './discovery-probe.js';
export { interpreterOfScript, type EnvironmentSource } from './discovery-search.js';

export type { LaunchMode };

/** Best first: the order `chooseEnvironment` prefers modes in. */
export const LAUNCH_MODES: readonly LaunchMode[] = ['singleuser', 'lab', 'notebook', 'server'];

/**
 * The oldest versions Lectern accepts: the 2021 releases (jupyterhub 1.5, notebook 6.4,
 * jupyter_server 1.13, JupyterLab 3.0), since anything older is long out of support and has never
 * run behind Lectern. Python 3.7 is the oldest those run on. A teacher with older packages is told
 * to upgrade, with the command.
 */
export const MINIMUM_VERSIONS = {
  python: '3.7',
  jupyterhub: '1.5',
  jupyter_server: '1.13',
  jupyterlab: '3.0',
  notebook: '6.4',
  ipykernel: '5.0',
} as const;

export interface EnvironmentCandidate {
  /** The environment's folder (`sys.prefix`). */
  path: string;
  /** The interpreter to run. */
  python: string;
  source: EnvironmentSource;
  /** Where it was found, in words, most specific first: "~/.conda/environments.txt; PATH (/usr/bin)". */
  foundBy: string;
  /** Other interpreter paths that turned out to be this same environment (a pyenv shim, /bin/python3). */
  alsoFoundAs: { python: string; source: EnvironmentSource }[];
  /** null when the interpreter could not be run. */
  pythonVersion: string | null;
  /** Versions of the Jupyter packages installed, usable or not (`problems` says which are not). */
  packages: Partial<Record<JupyterPackage, string>>;
  /** What it can run, best first; empty when it cannot run a student's server at all. */
  modes: LaunchMode[];
  /** Why a mode is missing, in words a teacher can act on. */
  problems: string[];
  /** Worth knowing, but not in the way. */
  notes: string[];
  /** The `jupyterhub-singleuser` program of this environment, when there is one. */
  singleuserScript: string | null;
}

export interface DiscoveryOptions {
  platform?: NodeJS.Platform;
  home?: string;
  env?: Environment;
  /** Where to look; a fake tree in tests (`fileSystemAt(root, platform)`). Default: this machine. */
  fs?: DiscoveryFileSystem;
  /** Default: run the interpreter (`probeInterpreter`), with PATH from `env`. */
  probe?: InterpreterProbe;
  /** Environment folders or interpreters the teacher named; they are listed first. */
  configured?: readonly string[];
  probeTimeoutMs?: number;
  /** How many interpreters are probed at once. */
  concurrency?: number;
}

/** Everything discovery found, in a stable order: configured and activated envs first, then PATH, then the usual places. */
export async function discoverEnvironments(options: DiscoveryOptions = {}): Promise<EnvironmentCandidate[]> {
  const platform = options.platform ?? process.platform;
  const env = options.env ?? process.env;
  const fs = options.fs ?? fileSystemAt(null, platform);
  const timeoutMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const probe =
    options.probe ??
    ((python: string) =>
      probeInterpreter(fs.hostPath(python), { timeoutMs, platform, path: envVar(env, 'PATH', platform) ?? '' }));
  const search = new Search(fs, platform, options.home ?? os.homedir(), env);
  const leads = await search.gatherLeads(options.configured ?? []);
  // Probing is CPU-bound start-up work: more at once than there are cores only queues.
  const concurrency = options.concurrency ?? Math.min(4, os.availableParallelism());
  return buildCandidates(leads, { fs, platform, probe, concurrency });
}

// ---------------------------------------------------------------------------------------------
// Probing and merging: one candidate per environment.

interface BuildContext {
  fs: DiscoveryFileSystem;
  platform: NodeJS.Platform;
  probe: InterpreterProbe;
  concurrency: number;
}

/** When several ways found one environment, the most specific names it. */
const SOURCE_SPECIFICITY: readonly EnvironmentSource[] = [
  'configured',
  'jupyterlab-desktop',
  'venv',
  'pyenv',
  'conda',
  'anaconda-folder',
  'system',
  'path',
];

interface Group {
  /** Index of the earliest lead: the group's place in the list. */
  order: number;
  leads: Lead[];
  facts: InterpreterFacts | null;
  problem: string | null;
}

async function buildCandidates(leads: Lead[], context: BuildContext): Promise<EnvironmentCandidate[]> {
  const { fs, platform } = context;
  const key = (value: string): string => (platform === 'win32' ? value.toLowerCase() : value);

  // 1. The same file reached twice (/bin is a link to /usr/bin; an env listed and also under envs/).
  //    Its folder is resolved, not the file alone: a venv's python links to its base Python's file,
  //    but the venv is another environment.
  const byFile = new Map<string, Group>();
  for (const [order, lead] of leads.entries()) {
    const realFile = await fs.realpath(lead.python);
    const realFolder = await fs.realpath(fs.path.dirname(lead.python));
    const id = key(`${realFile}\0${realFolder}`);
    const group = byFile.get(id);
    if (group) group.leads.push(lead);
    else byFile.set(id, { order, leads: [lead], facts: null, problem: lead.problem ?? null });
  }

  // 2. Ask each distinct interpreter once.
  const groups = [...byFile.values()];
  await eachLimited(groups, context.concurrency, async (group) => {
    if (group.problem !== null) return;
    const outcome = await context.probe((group.leads[0] as Lead).python);
    if (outcome.ok) group.facts = outcome.facts;
    else group.problem = outcome.problem;
  });

  // 3. Different files, one environment: what the interpreters say about themselves decides
  //    (a pyenv shim runs the version's Python, whose sys.prefix is the version's folder).
  const byEnvironment = new Map<string, Group>();
  const merged: Group[] = [];
  for (const group of groups) {
    if (!group.facts) {
      merged.push(group);
      continue;
    }
    const minor = group.facts.pythonVersion.split('.').slice(0, 2).join('.');
    const id = key(`${await fs.realpath(group.facts.prefix)}\0${minor}`);
    const same = byEnvironment.get(id);
    if (same) {
      same.leads.push(...group.leads);
      same.order = Math.min(same.order, group.order);
    } else {
      byEnvironment.set(id, group);
      merged.push(group);
    }
  }
  merged.sort((a, b) => a.order - b.order);

  const candidates: EnvironmentCandidate[] = [];
  for (const group of merged) candidates.push(await candidateOf(group, context));
  return candidates;
}

async function candidateOf(group: Group, context: BuildContext): Promise<EnvironmentCandidate> {
  const { fs } = context;
  const prefix = group.facts?.prefix;
  const inside = (lead: Lead): boolean => prefix !== undefined && isInside(fs.path, lead.python, prefix);
  // The interpreter to show and run: one inside the environment's own folder (not a shim or a
  // compatibility link), found in the most specific way.
  const pool = group.leads.some(inside) ? group.leads.filter(inside) : group.leads;
  const chosen = [...pool].sort(
    (a, b) => SOURCE_SPECIFICITY.indexOf(a.source) - SOURCE_SPECIFICITY.indexOf(b.source),
  )[0] as Lead;
  const alsoFoundAs: EnvironmentCandidate['alsoFoundAs'] = [];
  for (const lead of group.leads) {
    if (lead.python !== chosen.python && !alsoFoundAs.some((a) => a.python === lead.python)) {
      alsoFoundAs.push({ python: lead.python, source: lead.source });
    }
  }
  const candidate: EnvironmentCandidate = {
    path: prefix ?? chosen.prefix,
    python: chosen.python,
    source: chosen.source,
    foundBy: [...new Set([chosen, ...group.leads].map((lead) => lead.foundBy))].join('; '),
    alsoFoundAs,
    pythonVersion: group.facts?.pythonVersion ?? null,
    packages: {},
    modes: [],
    problems: group.problem ? [group.problem] : [],
    notes: [],
    singleuserScript: null,
  };
  if (group.facts) await assess(candidate, group.facts, context);
  return candidate;
}

/** Fills in packages, modes, problems and notes from what the interpreter said. */
async function assess(candidate: EnvironmentCandidate, facts: InterpreterFacts, context: BuildContext): Promise<void> {
  const { fs, platform } = context;
  const { problems, notes } = candidate;
  const install = `${quoted(candidate.python)} -m pip install`;

  if (compareVersions(facts.pythonVersion, MINIMUM_VERSIONS.python) < 0) {
    problems.push(`Python ${facts.pythonVersion} is too old: Jupyter needs Python ${MINIMUM_VERSIONS.python} or newer.`);
    return;
  }

  // Which installed packages a student's server can actually use.
  const usable = new Map<JupyterPackage, string>();
  for (const name of JUPYTER_PACKAGES) {
    const found = facts.packages[name];
    if (!found) continue;
    if (found.version) candidate.packages[name] = found.version;
    if (!found.version) {
      problems.push(`${name} can be imported but has no package metadata, so its version is unknown: reinstall it (${install} --force-reinstall ${name}).`);
    } else if (!found.module) {
      problems.push(`${name} ${found.version} is listed as installed but its files are missing: reinstall it (${install} --force-reinstall ${name}).`);
    } else if (facts.userSite && isInside(fs.path, found.module, facts.userSite)) {
      problems.push(
        `${name} ${found.version} is installed for your user account only (pip install --user, in ${facts.userSite}): ` +
          `students' servers run with their own home folder and cannot see it. Install it into the environment: ${install} ${name}`,
      );
    } else {
      usable.set(name, found.version);
    }
  }

  if (!['jupyterhub', 'jupyterlab', 'notebook', 'jupyter_server', 'nbclassic'].some((name) => facts.packages[name as JupyterPackage])) {
    problems.push(`No Jupyter in this environment. To use it: ${install} jupyterlab ipykernel`);
    return;
  }

  const recent = (name: keyof typeof MINIMUM_VERSIONS & JupyterPackage, forWhat: string): string | null => {
    const version = usable.get(name);
    if (version === undefined) return null;
    if (compareVersions(version, MINIMUM_VERSIONS[name]) >= 0) return version;
    problems.push(`${name} ${version} is too old for ${forWhat} (Lectern needs ${MINIMUM_VERSIONS[name]} or newer): ${install} --upgrade ${name}`);
    return null;
  };
  const hub = recent('jupyterhub', 'jupyterhub-singleuser');
  const lab = recent('jupyterlab', 'JupyterLab');
  const notebook = recent('notebook', 'the Notebook');
  const server = recent('jupyter_server', 'Jupyter Server');
  const nbclassic = usable.get('nbclassic') ?? null;
  const kernel = recent('ipykernel', 'running notebooks');
  if (!facts.packages.ipykernel) problems.push('no ipykernel: notebooks cannot run code — install ipykernel');

  const modes: LaunchMode[] = [];
  if (hub) {
    const script = await findScript(fs, platform, 'jupyterhub-singleuser', [candidate.python, facts.executable], [
      fs.path.dirname(candidate.python),
      fs.path.dirname(facts.executable),
      ...facts.scriptDirs,
    ]);
    const notebookMajor = notebook ? Number(notebook.split('.')[0]) : 0;
    if (!script.found) {
      problems.push(`jupyterhub ${hub} is installed but its jupyterhub-singleuser program is not (looked in ${script.looked.join(', ')}).`);
    } else if (!lab && !notebook && !nbclassic) {
      problems.push(`jupyterhub ${hub} is installed but no web interface is (JupyterLab, Notebook or nbclassic): jupyterhub-singleuser would serve no pages. ${install} jupyterlab`);
    } else if (!server && notebookMajor !== 6) {
      problems.push(`jupyterhub ${hub} is installed but jupyter_server is not: jupyterhub-singleuser has nothing to run. ${install} jupyter_server`);
    } else {
      candidate.singleuserScript = script.found;
      modes.push('singleuser');
      if (compareVersions(hub, '4') >= 0) {
        notes.push(`jupyterhub ${hub} is newer than the JupyterHub 3.0 protocol Lectern speaks; its singleuser server is expected to work but is not tested.`);
      }
    }
  }
  if (lab) modes.push('lab');
  if (notebook) modes.push('notebook');
  if (server) modes.push('server');
  if (modes.length > 0 && !kernel) return; // without a kernel no mode is worth offering
  candidate.modes = modes;
  if (modes.length > 0 && modes.every((mode) => mode === 'server')) {
    notes.push(`Only jupyter_server is installed: it serves no notebook pages. For a usable interface: ${install} jupyterlab`);
  }
}

/**
 * The environment's own `name` program in one of `dirs`. A folder such as /usr/bin can hold
 * several Pythons' scripts: one whose `#!` line names another interpreter is not this one's.
 */
async function findScript(
  fs: DiscoveryFileSystem,
  platform: NodeJS.Platform,
  name: string,
  pythons: string[],
  dirs: string[],
): Promise<{ found: string | null; looked: string[] }> {
  const looked = [...new Set(dirs.filter(Boolean))];
  const file = platform === 'win32' ? `${name}.exe` : name;
  const ours = new Set(await Promise.all(pythons.map((python) => fs.realpath(python))));
  for (const dir of looked) {
    const script = fs.path.join(dir, file);
    const facts = await fs.stat(script);
    if (facts?.kind !== 'file' || !facts.executable) continue;
    const head = platform === 'win32' ? null : await fs.readText(script, 512);
    const runsWith = head === null ? null : interpreterOfScript(head, fs.path);
    if (runsWith === null || ours.has(await fs.realpath(runsWith))) return { found: script, looked };
  }
  return { found: null, looked };
}

// ---------------------------------------------------------------------------------------------
// Choosing.

/** What students see in their browser ('unknown' for a configured program Lectern cannot look into). */
export type StudentInterface = 'jupyterlab' | 'notebook' | 'nbclassic' | 'none' | 'unknown';

/**
 * How to launch a student's server in the chosen environment.
 *
 * `command` is the program and its first arguments, never a shell string; the spawner appends its
 * own (port, base URL, notebook folder…). For `singleuser` it is the `jupyterhub-singleuser`
 * program of the environment, which takes the JupyterHub environment (JUPYTERHUB_*) as the hub
 * already provides it. For the plain modes it is `[python, '-s', '-m', 'jupyterlab' | 'notebook' |
 * 'jupyter_server']`: `-m` runs the environment's own package even where its console scripts are
 * not on PATH or carry a stale `#!` line (relocated conda-pack envs such as JupyterLab Desktop's);
 * `-s` keeps the student's own packages and config (`pip install --user`, `~/.local/etc/jupyter`)
 * out of the server itself, as jupyterhub-singleuser's `disable_user_config` does, while kernels,
 * started without it, still import what the student installed.
 */
export interface LaunchPlan {
  mode: LaunchMode;
  command: string[];
  /** The environment it runs in; null for a configured program that is not a Python one (a wrapper script). */
  environment: Pick<EnvironmentCandidate, 'path' | 'python' | 'source' | 'pythonVersion' | 'packages'> | null;
  ui: StudentInterface;
  /**
   * Folders to put first on the server's PATH, as activating the environment would: its own
   * programs (so that `!pip` in a notebook and `python` in a terminal are this environment's),
   * and on Windows conda's DLL folders, without which packages such as pyzmq fail to load from an
   * env that was never activated (JupyterLab Desktop's `getAdditionalPathIncludesForPythonPath`
   * adds the same).
   */
  pathPrefix: string[];
  /**
   * For `singleuser`: the app `jupyterhub-singleuser` should wrap (its `JUPYTERHUB_SINGLEUSER_APP`)
   * when the default would serve no pages: the classic Notebook 6 when neither JupyterLab nor
   * nbclassic is installed (Debian's packages).
   */
  singleuserApp?: string;
  /**
   * How a fork server runs the same program (fork/fork-server.ts), the modules it imports before
   * forking, and whether servers fork their ipykernel kernels too (fork/kernel-forks.py); absent
   * for a configured `spawner.command`, which runs as it is.
   */
  fork?: { program: ForkProgram; preload: string[]; forkKernels: boolean };
}

export interface EnvironmentOverride {
  /** An environment folder or an interpreter, as configured; without it, the best environment for `mode`. */
  path?: string;
  /** A mode to use; by default the environment's best. */
  mode?: LaunchMode;
}

export interface EnvironmentChoice {
  /** null when nothing on this machine can run a student's server. */
  plan: LaunchPlan | null;
  /** Why this one (or why none), for the teacher. */
  reason: string;
  /**
   * Present when an override was given. When it cannot be used, `plan` is the automatic choice
   * and `problems` says what is wrong with the override; the caller decides whether to run the
   * automatic choice or refuse.
   */
  override?: EnvironmentOverride & { usable: boolean; problems: string[] };
}

const MODE_PACKAGE: Record<LaunchMode, JupyterPackage> = {
  singleuser: 'jupyterhub',
  lab: 'jupyterlab',
  notebook: 'notebook',
  server: 'jupyter_server',
};

const MODE_WORDS: Record<LaunchMode, string> = {
  singleuser: 'jupyterhub-singleuser',
  lab: 'JupyterLab',
  notebook: 'the Notebook',
  server: 'Jupyter Server',
};

/**
 * The best way to run students' servers among `candidates`: the best mode any environment has
 * (jupyterhub-singleuser, then JupyterLab, then the Notebook, then plain Jupyter Server), in the
 * environment with the newest version of that mode's package, the earliest found on a tie. An
 * override wins when it is usable.
 */
export function chooseEnvironment(candidates: readonly EnvironmentCandidate[], override?: EnvironmentOverride): EnvironmentChoice {
  const automatic = chooseAutomatically(candidates);
  if (!override) return automatic;

  const report = (problems: string[]): EnvironmentChoice => ({
    ...automatic,
    reason: `The configured ${override.path ? `environment ${override.path}` : `launch mode (${override.mode})`} cannot be used: ${problems.join(' ')} ${automatic.plan ? `Using instead: ${automatic.reason}` : automatic.reason}`,
    override: { ...override, usable: false, problems },
  });
  if (override.path === undefined) {
    const mode = override.mode as LaunchMode;
    const forMode = chooseAutomatically(candidates, [mode]);
    if (!forMode.plan) return report([`no environment found can run ${MODE_WORDS[mode]}.`]);
    return { ...forMode, override: { ...override, usable: true, problems: [] } };
  }
  const wanted = candidates.find((candidate) => namesEnvironment(override.path as string, candidate));
  if (!wanted) return report(['it is not a Python environment Lectern found (check the path).']);
  const mode = override.mode ?? wanted.modes[0];
  if (!mode || !wanted.modes.includes(mode)) {
    const problems = wanted.problems.length > 0 ? [...wanted.problems] : [];
    if (override.mode && wanted.modes.length > 0) {
      problems.unshift(`it cannot run ${MODE_WORDS[override.mode]} (it can run: ${wanted.modes.map((m) => MODE_WORDS[m]).join(', ')}).`);
    }
    if (problems.length === 0) problems.push('it cannot run a Jupyter server.');
    return report(problems);
  }
  return {
    plan: planFor(wanted, mode),
    reason: `${MODE_WORDS[mode]} from ${wanted.path}, as configured.`,
    override: { ...override, usable: true, problems: [] },
  };
}

function chooseAutomatically(candidates: readonly EnvironmentCandidate[], modes: readonly LaunchMode[] = LAUNCH_MODES): EnvironmentChoice {
  for (const mode of modes) {
    const able = candidates.filter((candidate) => candidate.modes.includes(mode));
    if (able.length === 0) continue;
    const version = (candidate: EnvironmentCandidate): string => candidate.packages[MODE_PACKAGE[mode]] ?? '0';
    // Array.prototype.sort is stable: on equal versions the earlier-found environment stays first.
    const best = [...able].sort((a, b) => compareVersions(version(b), version(a)))[0] as EnvironmentCandidate;
    const others = able.length > 1 ? `; ${able.length - 1} other environment(s) could too` : '';
    const better = LAUNCH_MODES.slice(0, LAUNCH_MODES.indexOf(mode)).map((m) => MODE_WORDS[m]);
    const why = better.length > 0 ? ` No environment can run ${better.join(' or ')}.` : '';
    return {
      plan: planFor(best, mode),
      reason:
        `${MODE_WORDS[mode]} ${version(best)} from ${best.path} (Python ${best.pythonVersion ?? '?'}, ${best.source})` +
        `: the best mode available, in its newest version${others}.${why}`,
    };
  }
  return {
    plan: null,
    reason:
      candidates.length === 0
        ? 'No Python was found on this machine. Install Jupyter (for example Anaconda, or on Debian/Ubuntu: apt install jupyterhub python3-ipykernel).'
        : 'None of the Python environments found can run a Jupyter server (each one says why). Install JupyterLab into one: python -m pip install jupyterlab ipykernel',
  };
}

/**
 * How to run `mode` in `candidate`. `command` replaces the environment's own program when the
 * teacher configured one (`spawner.command`), the rest still follows from the environment.
 */
export function planFor(candidate: EnvironmentCandidate, mode: LaunchMode, command?: string[]): LaunchPlan {
  const environment = {
    path: candidate.path,
    python: candidate.python,
    source: candidate.source,
    pythonVersion: candidate.pythonVersion,
    packages: candidate.packages,
  };
  const has = (name: JupyterPackage): boolean => candidate.packages[name] !== undefined;
  const pathPrefix = pathPrefixOf(candidate);
  switch (mode) {
    case 'singleuser': {
      const ui: StudentInterface = has('jupyterlab') ? 'jupyterlab' : has('nbclassic') ? 'nbclassic' : 'notebook';
      const script = candidate.singleuserScript as string;
      const plan: LaunchPlan = { mode, command: command ?? [script], environment, ui, pathPrefix };
      const classic = ui === 'notebook' && Number(candidate.packages.notebook?.split('.')[0]) === 6;
      if (classic) plan.singleuserApp = 'notebook.notebookapp.NotebookApp';
      // jupyterhub-singleuser serves JupyterLab through this app when it can.
      const app = ui === 'jupyterlab' ? ['jupyterlab.labhubapp'] : classic ? CLASSIC_NOTEBOOK_STARTS : [];
      if (!command) plan.fork = forkPlan({ script }, ['jupyterhub.singleuser', ...app]);
      return plan;
    }
    case 'lab':
      return modulePlan('jupyterlab', ['jupyterlab.labapp'], 'jupyterlab');
    case 'notebook': {
      const classic = Number(candidate.packages.notebook?.split('.')[0]) < 7;
      return modulePlan('notebook', classic ? CLASSIC_NOTEBOOK_STARTS : ['notebook.app'], 'notebook');
    }
    case 'server':
      return modulePlan('jupyter_server', ['jupyter_server.serverapp'], 'none');
  }

  /** `python -s -m MODULE`, whose app is imported with `preload`. */
  function modulePlan(module: string, preload: string[], ui: StudentInterface): LaunchPlan {
    if (command) return { mode, command, environment, ui, pathPrefix };
    return { mode, command: [candidate.python, '-s', '-m', module], environment, ui, pathPrefix, fork: forkPlan({ module }, preload) };
  }

  /** Servers forked after importing `preload`; with ipykernel here, their kernels forked too, after importing it. */
  function forkPlan(program: ForkProgram, preload: string[]): NonNullable<LaunchPlan['fork']> {
    const forkKernels = has('ipykernel');
    return { program, preload: forkKernels ? [...preload, ...KERNEL_STARTS] : preload, forkKernels };
  }
}

/** What an ipykernel kernel (`python -m ipykernel_launcher`) imports first, which is most of its start. */
const KERNEL_STARTS = ['ipykernel.kernelapp'];

/**
 * What the classic Notebook (6) imports as it starts: its app, and IPython, which it imports while
 * setting itself up (for its extensions' paths) and which took most of a forked server's start.
 */
const CLASSIC_NOTEBOOK_STARTS = ['notebook.notebookapp', 'IPython'];

function pathPrefixOf(candidate: EnvironmentCandidate): string[] {
  if (/\.exe$/i.test(candidate.python)) {
    const at = (...parts: string[]): string => path.win32.join(candidate.path, ...parts);
    return [...new Set([at(), at('Library', 'mingw-w64', 'bin'), at('Library', 'usr', 'bin'), at('Library', 'bin'), at('Scripts'), at('bin')])];
  }
  return [path.posix.dirname(candidate.python)];
}

/** Whether `wanted` (as a teacher wrote it) names this environment: its folder or any of its interpreters. */
export function namesEnvironment(wanted: string, candidate: EnvironmentCandidate): boolean {
  // Windows paths (a drive letter) compare without regard to case, as Windows does.
  const windows = /^[A-Za-z]:/.test(wanted);
  const normal = (value: string): string => {
    const trimmed = value.replace(/[\\/]+$/, '');
    return windows ? trimmed.toLowerCase() : trimmed;
  };
  const names = [candidate.path, candidate.python, ...candidate.alsoFoundAs.map((a) => a.python)].map(normal);
  return names.includes(normal(wanted));
}

// ---------------------------------------------------------------------------------------------
// The real machine, cached.

export interface EnvironmentCache {
  /** The environments, discovered on the first call for these configured paths; again with `refresh: true`. */
  find(options?: { configured?: readonly string[]; refresh?: boolean }): Promise<EnvironmentCandidate[]>;
}

/** Remembers what `discover` found, per list of configured paths. A failed discovery is not remembered. */
export function environmentCache(
  discover: (configured: readonly string[]) => Promise<EnvironmentCandidate[]>,
): EnvironmentCache {
  const found = new Map<string, Promise<EnvironmentCandidate[]>>();
  return {
    find(options = {}) {
      const configured = options.configured ?? [];
      const key = JSON.stringify(configured);
      let result = found.get(key);
      if (!result || options.refresh) {
        result = discover(configured);
        found.set(key, result);
        const settled = result;
        settled.catch(() => {
          if (found.get(key) === settled) found.delete(key);
        });
      }
      return result;
    },
  };
}

const machine = environmentCache((configured) => discoverEnvironments({ configured }));

/**
 * This machine's environments, discovered once per process (each Python takes a fraction of a
 * second to answer); pass `refresh: true` after the teacher installs something.
 */
export function findEnvironments(options: { configured?: readonly string[]; refresh?: boolean } = {}): Promise<EnvironmentCandidate[]> {
  return machine.find(options);
}

// ---------------------------------------------------------------------------------------------
// Reading commands.

/** The launch mode a configured `spawner.command` amounts to, when it is a Jupyter command Lectern knows. */
export function launchModeOfCommand(command: readonly string[]): LaunchMode | undefined {
  const [program = '', ...args] = command;
  const name = program.split(/[\\/]/).pop()?.replace(/\.exe$/i, '').toLowerCase() ?? '';
  const bySubcommand: Record<string, LaunchMode> = { lab: 'lab', notebook: 'notebook', server: 'server' };
  const byModule: Record<string, LaunchMode> = {
    'jupyterhub.singleuser': 'singleuser',
    jupyterlab: 'lab',
    notebook: 'notebook',
    jupyter_server: 'server',
  };
  if (name === 'jupyterhub-singleuser') return 'singleuser';
  if (name.startsWith('jupyter-')) return bySubcommand[name.slice('jupyter-'.length)];
  if (name === 'jupyter') return bySubcommand[args[0] ?? ''];
  if (/^python[\d.]*$/.test(name)) {
    const m = args.indexOf('-m');
    return m >= 0 ? byModule[args[m + 1] ?? ''] : undefined;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

/** Compares dotted version strings numerically ("1.13.0" > "1.5"); pre-release suffixes are ignored. */
export function compareVersions(a: string, b: string): number {
  const parts = (version: string): number[] => (/^\d+(\.\d+)*/.exec(version.trim())?.[0] ?? '0').split('.').map(Number);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const difference = (x[i] ?? 0) - (y[i] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

function isInside(p: path.PlatformPath, file: string, folder: string): boolean {
  const relative = p.relative(folder, file);
  return relative === '' || (!relative.startsWith('..') && !p.isAbsolute(relative));
}

function quoted(file: string): string {
  return /\s/.test(file) ? `"${file}"` : file;
}

async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
