/**
 * How students' servers will be launched, from the three spawner settings that decide it:
 *
 * - `command` set: that program, as JupyterHub's `Spawner.cmd` — found on PATH, looked into when it
 *   is a Python program (for its environment's packages), run in the mode `launchMode` names or,
 *   on `auto`, the mode its name says (`jupyter lab` → lab); a program Lectern does not recognise
 *   is expected to speak JupyterHub's single-user protocol, as JupyterHub expects of it.
 * - `command` unset: environment discovery picks the environment (`python`, or the best one found)
 *   and the mode (`launchMode`, or that environment's best).
 *
 * A configuration that cannot be followed is refused with its reason, never silently replaced by
 * something else: a teacher who named an environment wants to know it is broken.
 */
import path from 'node:path';
import { open } from 'node:fs/promises';
import {
  chooseEnvironment,
  findEnvironments,
  interpreterOfScript,
  launchModeOfCommand,
  namesEnvironment,
  planFor,
  type EnvironmentCandidate,
  type EnvironmentChoice,
  type LaunchMode,
  type LaunchPlan,
} from './discovery.js';
import { findExecutable } from './environment.js';

export interface LaunchSettings {
  command: string[] | null;
  python: string | null;
  launchMode: 'auto' | LaunchMode;
}

/** What a configured `spawner.command` turned out to be. */
export interface CommandCheck {
  command: string[];
  /** The program found on PATH (or as given), or null. */
  resolved: string | null;
  /** The Python it runs with, when it is a Python program. */
  python: string | null;
  /** The discovered environment it belongs to (its folder), when known. */
  environment: string | null;
}

export interface LaunchResolution {
  /** How servers start; null when they cannot, and then `problem` says why. */
  plan: LaunchPlan | null;
  /** Why this plan, or why none, for the teacher. */
  reason: string;
  /** What stops servers from starting, in words a teacher can act on; null when nothing does. */
  problem: string | null;
  /** The environments looked at: every one found, or none for a configured non-Python program. */
  environments: EnvironmentCandidate[];
  /** Set when `spawner.command` is. */
  command: CommandCheck | null;
  /** Discovery's choice, when discovery chose. */
  choice: EnvironmentChoice | null;
}

export interface ResolveOptions {
  /** Discover again instead of using what this process found before. */
  refresh?: boolean;
  /** Replaces this machine's discovery (tests). */
  find?: typeof findEnvironments;
}

export async function resolveLaunch(settings: LaunchSettings, options: ResolveOptions = {}): Promise<LaunchResolution> {
  const find = options.find ?? findEnvironments;
  const refresh = options.refresh ?? false;
  if (settings.command) return resolveCommand(settings.command, settings.launchMode, find, refresh);

  const configured = settings.python ? [settings.python] : [];
  const environments = await find({ configured, refresh });
  const mode = settings.launchMode === 'auto' ? undefined : settings.launchMode;
  const override = settings.python || mode ? { ...(settings.python ? { path: settings.python } : {}), ...(mode ? { mode } : {}) } : undefined;
  const choice = chooseEnvironment(environments, override);
  const refused = choice.override?.usable === false || !choice.plan;
  return {
    plan: refused ? null : choice.plan,
    reason: choice.reason,
    problem: refused ? choice.reason : null,
    environments,
    command: null,
    choice,
  };
}

async function resolveCommand(
  command: string[],
  launchMode: LaunchSettings['launchMode'],
  find: typeof findEnvironments,
  refresh: boolean,
): Promise<LaunchResolution> {
  const [program = '', ...args] = command;
  const resolved = findExecutable(program);
  const check: CommandCheck = { command, resolved, python: null, environment: null };
  const none = (problem: string): LaunchResolution => ({ plan: null, reason: problem, problem, environments: [], command: check, choice: null });
  if (!resolved) return none(`spawner.command "${program}" was not found: fix the path in the config file, or remove spawner.command to let Lectern find Jupyter.`);

  check.python = /^python[\d.]*(\.exe)?$/i.test(path.basename(resolved)) ? resolved : await pythonOfScript(resolved);
  const environments = check.python ? await find({ configured: [check.python], refresh }) : [];
  const environment = check.python ? environments.find((candidate) => namesEnvironment(check.python as string, candidate)) : undefined;
  check.environment = environment?.path ?? null;
  const mode = launchMode === 'auto' ? (launchModeOfCommand(command) ?? 'singleuser') : launchMode;
  const runs = [resolved, ...args];
  const plan: LaunchPlan = environment
    ? planFor(environment, mode, runs)
    : { mode, command: runs, environment: null, ui: 'unknown', pathPrefix: [] };
  const where = environment ? ` in ${environment.path}` : '';
  return { plan, reason: `spawner.command as configured (${mode} mode${where}).`, problem: null, environments, command: check, choice: null };
}

/** The Python a console script runs with, from its `#!` line; null for anything else. */
async function pythonOfScript(script: string): Promise<string | null> {
  const handle = await open(script, 'r').catch(() => null);
  if (!handle) return null;
  try {
    const buffer = Buffer.alloc(512);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return interpreterOfScript(buffer.toString('utf8', 0, bytesRead), path);
  } finally {
    await handle.close();
  }
}

/**
 * The plan the hub launches servers with: resolved at the first call and then kept, since finding
 * environments takes a second. A resolution that found nothing usable is not kept, so a teacher
 * who installs Jupyter (or fixes the config) is not told to restart the hub.
 */
export function launchPlanProvider(settings: LaunchSettings, options: ResolveOptions = {}): () => Promise<LaunchResolution> {
  let pending: Promise<LaunchResolution> | undefined;
  let failedBefore = false;
  const forget = (settled: Promise<LaunchResolution>): void => {
    if (pending !== settled) return;
    pending = undefined;
    failedBefore = true;
  };
  return () => {
    if (pending) return pending;
    // After a failure, look at the machine again rather than at what this process found before.
    const current = resolveLaunch(settings, failedBefore ? { ...options, refresh: true } : options);
    pending = current;
    current.then((resolution) => resolution.plan || forget(current), () => forget(current));
    return current;
  };
}
