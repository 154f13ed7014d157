/**
 * Asks a Python interpreter what it is and which Jupyter packages it has, by running it with a
 * small script: the only reliable answer, since a folder's layout says nothing about what its
 * Python imports (and a pyenv shim is not even a Python).
 *
 * The script is written for Python 2.7 as well as 3, so that an old interpreter answers "too
 * old" instead of a syntax error. It runs with `-E` and an environment holding only PATH (and on
 * Windows SYSTEMROOT, without which Python cannot start): the hub's PYTHONPATH or an activated
 * env must not change the answer. It reports, for each package, its version from the package
 * metadata and where its module would be imported from, so that a package installed for the
 * teacher's account only (`pip install --user`) can be told apart: students' servers run with
 * their own home folder and never see it.
 */
import { execFile, type ExecFileException } from 'node:child_process';

export const JUPYTER_PACKAGES = ['jupyterhub', 'jupyter_server', 'jupyterlab', 'notebook', 'nbclassic', 'ipykernel'] as const;
export type JupyterPackage = (typeof JUPYTER_PACKAGES)[number];

export interface PackageFacts {
  /** From the package's metadata; null when there is none. */
  version: string | null;
  /** Where its module would be imported from; null when it cannot be imported. */
  module: string | null;
}

/** What an interpreter says about itself. */
export interface InterpreterFacts {
  pythonVersion: string;
  /** `sys.executable`: for a pyenv shim, the real interpreter behind it. */
  executable: string;
  /** `sys.prefix`: the environment's folder. */
  prefix: string;
  /** `sys.base_prefix`: the Python a venv was made from (the prefix itself otherwise). */
  basePrefix: string;
  /** Where the environment's console scripts are installed (`sysconfig`). */
  scriptDirs: string[];
  /** The per-user site-packages folder (`pip install --user`), if Python has one. */
  userSite: string | null;
  packages: Partial<Record<JupyterPackage, PackageFacts>>;
}

export type ProbeOutcome = { ok: true; facts: InterpreterFacts } | { ok: false; problem: string };

/** Runs (or pretends to run) the interpreter at `python` and says what it found. Never rejects. */
export type InterpreterProbe = (python: string) => Promise<ProbeOutcome>;

const MARKER = 'LECTERN-PROBE ';

/** Python 2.7-compatible on purpose: see the file comment. */
export const PROBE_SCRIPT = `
import json, os, sys
info = {"python": "%d.%d.%d" % tuple(sys.version_info[:3]), "executable": sys.executable,
        "prefix": sys.prefix, "basePrefix": getattr(sys, "base_prefix", sys.prefix),
        "scriptDirs": [], "userSite": None, "packages": {}}
try:
    import sysconfig
    info["scriptDirs"].append(sysconfig.get_path("scripts"))
except Exception:
    pass
try:
    import site
    if site.ENABLE_USER_SITE is not False:
        info["userSite"] = site.getusersitepackages()
except Exception:
    pass
try:
    from importlib import metadata
except ImportError:
    try:
        import importlib_metadata as metadata
    except ImportError:
        metadata = None
def version(name):
    for spelling in (name, name.replace("_", "-")):
        try:
            if metadata is not None:
                return metadata.version(spelling)
            import pkg_resources
            return pkg_resources.get_distribution(spelling).version
        except Exception:
            pass
    return None
def module(name):
    try:
        import importlib.util
        spec = importlib.util.find_spec(name)
    except Exception:
        return None
    if spec is None:
        return None
    if spec.origin and spec.origin != "namespace":
        return spec.origin
    return list(spec.submodule_search_locations or [""])[0] or None
for name in ${JSON.stringify(JUPYTER_PACKAGES)}:
    info["packages"][name] = {"version": version(name), "module": module(name)}
sys.stdout.write("${MARKER}" + json.dumps(info) + "\\n")
`;

export interface ProbeOptions {
  /** How long the interpreter may take; conda Pythons on Windows with antivirus can take seconds. */
  timeoutMs?: number;
  /** PATH for the probe; defaults to the hub's. */
  path?: string;
  platform?: NodeJS.Platform;
  systemRoot?: string;
}

export const DEFAULT_PROBE_TIMEOUT_MS = 15_000;

/** Runs `python` (a path on this machine) with the probe script. */
export function probeInterpreter(python: string, options: ProbeOptions = {}): Promise<ProbeOutcome> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const platform = options.platform ?? process.platform;
  const env: Record<string, string> = { PATH: options.path ?? process.env.PATH ?? '' };
  const systemRoot = options.systemRoot ?? process.env.SYSTEMROOT;
  if (platform === 'win32' && systemRoot) env.SYSTEMROOT = systemRoot;
  return new Promise((resolve) => {
    execFile(
      python,
      ['-E', '-c', PROBE_SCRIPT],
      { timeout: timeoutMs, killSignal: 'SIGKILL', env, maxBuffer: 1 << 20, windowsHide: true, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) {
          resolve({ ok: false, problem: explainFailure(error, stderr, timeoutMs) });
          return;
        }
        resolve(parseProbeOutput(stdout));
      },
    );
  });
}

/** Reads the probe's answer out of whatever else the interpreter printed (start-up banners, warnings). */
export function parseProbeOutput(stdout: string): ProbeOutcome {
  const line = stdout.split(/\r?\n/).find((l) => l.startsWith(MARKER));
  if (!line) return { ok: false, problem: `Python ran but did not answer as expected${excerpt(stdout)}.` };
  let raw: unknown;
  try {
    raw = JSON.parse(line.slice(MARKER.length));
  } catch {
    return { ok: false, problem: 'Python answered with something that is not valid JSON.' };
  }
  const facts = readFacts(raw);
  return facts ? { ok: true, facts } : { ok: false, problem: 'Python answered with an unexpected shape.' };
}

function readFacts(raw: unknown): InterpreterFacts | null {
  if (!isRecord(raw)) return null;
  const { python, executable, prefix, basePrefix, scriptDirs, userSite, packages } = raw;
  if (typeof python !== 'string' || typeof executable !== 'string' || typeof prefix !== 'string') return null;
  const facts: InterpreterFacts = {
    pythonVersion: python,
    executable,
    prefix,
    basePrefix: typeof basePrefix === 'string' ? basePrefix : prefix,
    scriptDirs: Array.isArray(scriptDirs) ? scriptDirs.filter((d): d is string => typeof d === 'string' && d !== '') : [],
    userSite: typeof userSite === 'string' ? userSite : null,
    packages: {},
  };
  if (isRecord(packages)) {
    for (const name of JUPYTER_PACKAGES) {
      const entry = packages[name];
      if (!isRecord(entry)) continue;
      const version = typeof entry.version === 'string' ? entry.version : null;
      const module = typeof entry.module === 'string' ? entry.module : null;
      if (version !== null || module !== null) facts.packages[name] = { version, module };
    }
  }
  return facts;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function explainFailure(error: ExecFileException, stderr: string, timeoutMs: number): string {
  if (error.killed || error.signal === 'SIGKILL') {
    return (
      `Python did not answer within ${Number((timeoutMs / 1000).toFixed(1))} s: it hangs while starting ` +
      '(a damaged environment, or antivirus scanning it). Try running it yourself.'
    );
  }
  // A failure to start has a string code (errno); a Python that ran and failed, its exit status.
  switch (error.code) {
    case 'ENOENT':
      return 'Python could not be run: the file is not there (or the interpreter its #! line names is missing).';
    case 'EACCES':
      return 'Python could not be run: permission denied (the file is not executable).';
    case 'ENOEXEC':
      return 'Python could not be run: the file is not a program this system can run.';
    case 9009:
      // The Microsoft Store's python.exe alias exits 9009 when no Store Python is installed.
      return "This is Windows' placeholder python.exe (an alias for the Microsoft Store), not an installed Python.";
  }
  const code = typeof error.code === 'number' ? ` with exit code ${error.code}` : error.code ? ` (${error.code})` : '';
  return `Python failed${code}${excerpt(stderr)}.`;
}

/** The last meaningful line of some output, for a one-line problem. */
function excerpt(output: string): string {
  const last = output
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1);
  return last ? `: ${last.length > 200 ? `${last.slice(0, 200)}…` : last}` : '';
}
