/**
 * Whether students' servers run in a sandbox, from `spawner.isolation` and what this machine can do:
 *
 * - `auto`: in a sandbox where one works here; elsewhere without, and the teacher is told so
 *   (dashboard, servers screen, `lectern doctor`, the start banner) with what it means and the fix.
 * - `sandbox`: in a sandbox, or not at all: servers refuse to start, with the reason and the fix,
 *   rather than quietly run unisolated.
 * - `off`: without a sandbox, and the teacher is still reminded of what that means.
 *
 * Finding out runs the sandbox once (bubblewrap fails only when run, e.g. when the kernel forbids
 * unprivileged user namespaces), so it is done once per hub and kept.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findExecutable } from '../environment.js';
import { BUBBLEWRAP_CHECK_ARGS } from './bubblewrap.js';
import type { SandboxKind } from './launcher.js';

export type IsolationSetting = 'auto' | 'sandbox' | 'off';

/** What this machine offers: a sandbox program that works, or why there is none and how to get one. */
export type SandboxAvailability =
  | { kind: SandboxKind; program: string }
  | { kind: null; reason: string; fix: string | null };

export interface Isolation {
  setting: IsolationSetting;
  /** The sandbox new servers start in; null when they start without one (or not at all). */
  sandbox: SandboxKind | null;
  /** The sandbox program, when there is one. */
  program: string | null;
  /** Why servers must not start: `sandbox` was asked for and none works here. Null when they may. */
  problem: string | null;
  /** Servers start without a sandbox: what that means, why, and how to fix it. Null when isolated. */
  warning: string | null;
}

const WHAT_IT_MEANS =
  'every student’s server runs as your own user, so a student’s code can read and change classmates’ work, ' +
  'Lectern’s data (including password hashes) and your own files, and can stop other servers.';

/** `sharesCourseData`: every server reads the class's course data folder (spawner.courseData). */
export function decideIsolation(setting: IsolationSetting, available: SandboxAvailability, sharesCourseData = false): Isolation {
  const means = sharesCourseData ? `${WHAT_IT_MEANS} They can also change the course data every student reads.` : WHAT_IT_MEANS;
  if (setting === 'off') {
    return {
      setting,
      sandbox: null,
      program: null,
      problem: null,
      warning: `Students are not isolated (spawner.isolation is "off"): ${means} Set spawner.isolation to "auto" to sandbox their servers.`,
    };
  }
  if (available.kind !== null) return { setting, sandbox: available.kind, program: available.program, problem: null, warning: null };
  const fix = available.fix ? ` ${available.fix}` : '';
  if (setting === 'sandbox') {
    return {
      setting,
      sandbox: null,
      program: null,
      problem:
        `Students’ servers are not started: spawner.isolation is "sandbox", but ${available.reason}${fix} ` +
        'Or set spawner.isolation to "auto" to start them without a sandbox.',
      warning: null,
    };
  }
  return { setting, sandbox: null, program: null, problem: null, warning: `Students are not isolated: ${means} Why: ${available.reason}${fix}` };
}

/** The sandbox this machine offers, found by trying it. `path` is where to look for bubblewrap. */
export async function findSandbox(platform: NodeJS.Platform = process.platform, path = process.env.PATH ?? ''): Promise<SandboxAvailability> {
  if (platform === 'linux') return findBubblewrap(path);
  if (platform === 'darwin') {
    const program = '/usr/bin/sandbox-exec';
    if (existsSync(program)) return { kind: 'sandbox-exec', program };
    return { kind: null, reason: 'this Mac has no /usr/bin/sandbox-exec.', fix: null };
  }
  if (platform === 'win32') {
    return {
      kind: null,
      reason: 'Windows has no sandbox Lectern can use without administrator rights.',
      fix: 'To keep students apart, run Lectern on Linux (with bubblewrap) or macOS.',
    };
  }
  return { kind: null, reason: `Lectern has no sandbox for ${platform}.`, fix: null };
}

const INSTALL_BUBBLEWRAP = 'Install bubblewrap: sudo apt install bubblewrap (Debian, Ubuntu), sudo dnf install bubblewrap (Fedora).';

async function findBubblewrap(path: string): Promise<SandboxAvailability> {
  const program = findExecutable('bwrap', path);
  if (!program) return { kind: null, reason: 'bubblewrap (bwrap) is not installed.', fix: INSTALL_BUBBLEWRAP };
  const failure = await new Promise<string | null>((resolve) => {
    execFile(program, BUBBLEWRAP_CHECK_ARGS, { timeout: 10_000 }, (error, _stdout, stderr) =>
      resolve(error ? (stderr.trim().split('\n').at(-1) ?? '') || error.message : null),
    );
  });
  if (failure === null) return { kind: 'bubblewrap', program };
  return {
    kind: null,
    reason: `bubblewrap cannot make a sandbox on this system ("${failure}"): it does not let ordinary users create user namespaces.`,
    fix:
      'On Ubuntu 23.10 and later, allow it for bubblewrap with an AppArmor profile (see the README, "Students are isolated"), ' +
      'or for all programs with: sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0. ' +
      'On Debian 10 and older: sudo sysctl kernel.unprivileged_userns_clone=1.',
  };
}

/** The isolation servers start with, found on first use and then kept for the life of the hub. */
export function isolationProvider(
  spawner: { isolation: IsolationSetting; courseData: string | null },
  find: () => Promise<SandboxAvailability> = () => findSandbox(),
): () => Promise<Isolation> {
  let pending: Promise<Isolation> | undefined;
  return () => (pending ??= find().then((available) => decideIsolation(spawner.isolation, available, spawner.courseData !== null)));
}
