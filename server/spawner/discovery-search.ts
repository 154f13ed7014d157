/**
 * Walks the places environments live (`discovery-places.ts`, plus PATH, the activated env and
 * configured paths) and collects every interpreter worth asking, with where it was found. Nothing
 * is run here; what can be told from the files alone (no interpreter, a link to a Python that is
 * gone, a file that is not executable) is recorded as the lead's problem, and such a lead is never run.
 */
import type path from 'node:path';
import type { DiscoveryFileSystem } from './discovery-fs.js';
import { discoveryPlaces, envVar, type Environment } from './discovery-places.js';

/** How an environment was found. When several ways found it, the most specific one names it. */
export type EnvironmentSource =
  | 'configured'
  | 'jupyterlab-desktop'
  | 'venv'
  | 'pyenv'
  | 'conda'
  | 'anaconda-folder'
  | 'system'
  | 'path';

/** An interpreter to ask, before anything was run. */
export interface Lead {
  python: string;
  /** The environment's folder, when it was found as a folder; else guessed from `python`. */
  prefix: string;
  source: EnvironmentSource;
  foundBy: string;
  /** Known without running anything (no interpreter, a dangling link): such a lead is not probed. */
  problem?: string;
}

const SCRIPT_NAMES = ['jupyterhub-singleuser', 'jupyter-lab', 'jupyter-notebook', 'jupyter-server', 'jupyter'];

export class Search {
  private readonly p: path.PlatformPath;
  private readonly leads: Lead[] = [];

  constructor(
    private readonly fs: DiscoveryFileSystem,
    private readonly platform: NodeJS.Platform,
    private readonly home: string,
    private readonly env: Environment,
  ) {
    this.p = fs.path;
  }

  async gatherLeads(configured: readonly string[]): Promise<Lead[]> {
    const places = discoveryPlaces(this.platform, this.home, this.env);
    const get = (name: string) => envVar(this.env, name, this.platform);

    for (const item of configured) await this.addConfigured(item);
    const virtualEnv = get('VIRTUAL_ENV');
    if (virtualEnv) await this.addPrefix(virtualEnv, 'venv', 'VIRTUAL_ENV (an activated venv)', true);
    const condaPrefix = get('CONDA_PREFIX');
    if (condaPrefix) await this.addPrefix(condaPrefix, await this.condaSource(condaPrefix), 'CONDA_PREFIX (an activated conda env)', true);

    await this.addPathEntries(get('PATH') ?? '');

    for (const list of places.condaEnvironmentLists) {
      const text = await this.fs.readText(list, 1 << 20);
      for (const line of text?.split(/\r?\n/) ?? []) {
        const prefix = line.trim();
        if (!prefix || prefix.startsWith('#') || !this.p.isAbsolute(prefix)) continue;
        // conda never removes lines for deleted envs: a missing folder is not news.
        if ((await this.fs.stat(prefix))?.kind !== 'directory') continue;
        await this.addPrefix(prefix, await this.condaSource(prefix), this.tilde(list), false);
      }
    }
    for (const root of places.condaRoots) {
      // conda-meta/ is in every conda install; without it a folder (CONDA_EXE pointing at a
      // micromamba in /usr/local/bin, say) is no conda root.
      if ((await this.fs.stat(this.p.join(root, 'conda-meta')))?.kind !== 'directory') continue;
      await this.addPrefix(root, 'anaconda-folder', 'a usual Anaconda/Miniconda/Miniforge folder', true);
      await this.addChildren(this.p.join(root, 'envs'), 'conda');
    }
    for (const folder of places.condaEnvFolders) await this.addChildren(folder, 'conda');
    for (const folder of places.pyenvVersionFolders) await this.addChildren(folder, 'pyenv');
    for (const prefix of places.desktopEnvironments) {
      if ((await this.fs.stat(prefix))?.kind === 'directory') {
        await this.addPrefix(prefix, 'jupyterlab-desktop', "JupyterLab Desktop's bundled environment", true);
      }
    }
    for (const folder of places.desktopEnvFolders) await this.addChildren(folder, 'jupyterlab-desktop');
    for (const python of places.systemPythons) {
      if (await this.present(python)) await this.addInterpreter(python, 'system', 'a usual system location');
    }
    for (const folder of places.systemPythonFolders) {
      for (const name of await this.fs.readdir(folder)) {
        if (!/^(python|\d)/i.test(name)) continue;
        const prefix = this.p.join(folder, name);
        if ((await this.fs.stat(prefix))?.kind === 'directory') await this.addPrefix(prefix, 'system', this.tilde(folder), false);
      }
    }
    return this.leads;
  }

  private async addConfigured(item: string): Promise<void> {
    const facts = await this.fs.stat(item);
    if (facts?.kind === 'directory') return this.addPrefix(item, 'configured', 'configured', true);
    if (facts || (await this.fs.readlink(item)) !== null) return this.addInterpreter(item, 'configured', 'configured');
    this.leads.push({
      python: item,
      prefix: item,
      source: 'configured',
      foundBy: 'configured',
      problem: `${item} does not exist.`,
    });
  }

  /** Every sub-folder of `folder` that holds an environment (hidden ones are conda's own bookkeeping). */
  private async addChildren(folder: string, source: EnvironmentSource): Promise<void> {
    for (const name of await this.fs.readdir(folder)) {
      if (name.startsWith('.')) continue;
      const prefix = this.p.join(folder, name);
      if ((await this.fs.stat(prefix))?.kind !== 'directory') continue;
      const kind = source === 'conda' ? await this.condaSource(prefix) : source;
      await this.addPrefix(prefix, kind, this.tilde(folder), false);
    }
  }

  /**
   * The environment in `prefix`. `reportEmpty`: a folder named on purpose (configured, activated,
   * an install root) with no Python in it is worth a problem; a stray sub-folder of envs/ is not.
   */
  private async addPrefix(prefix: string, source: EnvironmentSource, foundBy: string, reportEmpty: boolean): Promise<void> {
    const expected = this.interpreterNames(prefix);
    const facts = await this.fs.stat(prefix);
    if (facts?.kind !== 'directory') {
      if (reportEmpty) {
        this.leads.push({ python: expected[0] as string, prefix, source, foundBy, problem: `The folder ${prefix} does not exist.` });
      }
      return;
    }
    for (const python of expected) {
      if (await this.present(python)) {
        const problem = (await this.interpreterProblem(python)) ?? (await this.venvProblem(prefix));
        this.leads.push({ python, prefix, source, foundBy, ...(problem ? { problem } : {}) });
        return;
      }
    }
    if (reportEmpty) {
      const names = expected.map((python) => this.p.relative(prefix, python)).join(' or ');
      this.leads.push({
        python: expected[0] as string,
        prefix,
        source,
        foundBy,
        problem: `No Python in this folder (looked for ${names}): it is not an environment, or it is damaged.`,
      });
    }
  }

  private async addInterpreter(python: string, source: EnvironmentSource, foundBy: string): Promise<void> {
    const prefix = this.prefixOf(python);
    const problem = (await this.interpreterProblem(python)) ?? (await this.venvProblem(prefix));
    this.leads.push({ python, prefix, source, foundBy, ...(problem ? { problem } : {}) });
  }

  private async addPathEntries(pathVariable: string): Promise<void> {
    const delimiter = this.platform === 'win32' ? ';' : ':';
    for (const dir of pathVariable.split(delimiter)) {
      // A relative entry ("." or "") would run whatever python sits in the current folder.
      if (!dir || !this.p.isAbsolute(dir)) continue;
      const foundBy = `PATH (${dir})`;
      if (this.platform === 'win32') {
        if (await this.present(this.p.join(dir, 'python.exe'))) await this.addInterpreter(this.p.join(dir, 'python.exe'), 'path', foundBy);
        // Console scripts are .exe launchers here, with no readable #! line: their env is the folder around Scripts.
        if (this.p.basename(dir).toLowerCase() === 'scripts') {
          const hasJupyter = (await this.fs.readdir(dir)).some((name) => /^jupyter.*\.exe$/i.test(name));
          if (hasJupyter) await this.addPrefix(this.p.dirname(dir), 'path', foundBy, false);
        }
        continue;
      }
      for (const name of ['python3', 'python']) {
        const python = this.p.join(dir, name);
        if (await this.present(python)) await this.addInterpreter(python, 'path', foundBy);
      }
      for (const name of SCRIPT_NAMES) {
        const script = this.p.join(dir, name);
        const python = await this.shebangInterpreter(script);
        if (python) await this.addInterpreter(python, 'path', foundBy);
      }
    }
  }

  private async shebangInterpreter(script: string): Promise<string | null> {
    const head = await this.fs.readText(script, 512);
    return head === null ? null : interpreterOfScript(head, this.p);
  }

  /** Interpreter paths an environment folder may hold, most likely first. */
  private interpreterNames(prefix: string): string[] {
    return this.platform === 'win32'
      ? [this.p.join(prefix, 'python.exe'), this.p.join(prefix, 'Scripts', 'python.exe')]
      : [this.p.join(prefix, 'bin', 'python3'), this.p.join(prefix, 'bin', 'python')];
  }

  /** The environment folder around an interpreter: above `bin/` (POSIX), the folder itself or above `Scripts\` (Windows). */
  private prefixOf(python: string): string {
    const dir = this.p.dirname(python);
    const base = this.p.basename(dir).toLowerCase();
    if (this.platform === 'win32') return base === 'scripts' ? this.p.dirname(dir) : dir;
    return base === 'bin' ? this.p.dirname(dir) : dir;
  }

  /** A file or a link (even a dangling one: that is a finding) at `file`. */
  private async present(file: string): Promise<boolean> {
    return (await this.fs.stat(file)) !== null || (await this.fs.readlink(file)) !== null;
  }

  /** What is wrong with the interpreter file itself, if anything, without running it. */
  private async interpreterProblem(python: string): Promise<string | null> {
    const facts = await this.fs.stat(python);
    if (!facts) {
      const target = await this.finalLinkTarget(python);
      return target
        ? `${python} points to ${target}, which no longer exists: the Python this environment was made from ` +
            'was removed or upgraded. Recreate the environment.'
        : `There is no Python at ${python}.`;
    }
    if (facts.kind !== 'file') return `${python} is not a file.`;
    if (!facts.executable) return `${python} is not executable: the environment is damaged (or its files lost their permissions).`;
    if (this.platform === 'darwin' && python === '/usr/bin/python3' && !(await this.hasAppleDeveloperTools())) {
      return "This is macOS's placeholder python3: running it only offers to install Apple's Command Line Tools.";
    }
    return null;
  }

  /** A venv remembers the Python it was made from (`home` in pyvenv.cfg); if that is gone, so is the venv. */
  private async venvProblem(prefix: string): Promise<string | null> {
    const config = await this.fs.readText(this.p.join(prefix, 'pyvenv.cfg'), 8192);
    const home = config && /^\s*home\s*=\s*(.+?)\s*$/m.exec(config)?.[1];
    if (!home || !this.p.isAbsolute(home) || (await this.fs.stat(home))?.kind === 'directory') return null;
    return `This venv was made from the Python in ${home}, which is no longer there: recreate the venv.`;
  }

  private async finalLinkTarget(file: string): Promise<string | null> {
    let current = file;
    let target: string | null = null;
    for (let hops = 0; hops < 20; hops++) {
      const next = await this.fs.readlink(current);
      if (next === null) break;
      current = this.p.isAbsolute(next) ? next : this.p.join(this.p.dirname(current), next);
      target = current;
    }
    return target;
  }

  private async hasAppleDeveloperTools(): Promise<boolean> {
    const pythons = [
      '/Library/Developer/CommandLineTools/usr/bin/python3',
      '/Applications/Xcode.app/Contents/Developer/usr/bin/python3',
    ];
    for (const python of pythons) if ((await this.fs.stat(python))?.kind === 'file') return true;
    return false;
  }

  /** A conda install root (`condabin/` exists only there) or one of its environments. */
  private async condaSource(prefix: string): Promise<EnvironmentSource> {
    return (await this.fs.stat(this.p.join(prefix, 'condabin')))?.kind === 'directory' ? 'anaconda-folder' : 'conda';
  }

  /** `~/x` for paths in the home folder: shorter for a teacher to read. */
  private tilde(file: string): string {
    const relative = this.p.relative(this.home, file);
    return relative && !relative.startsWith('..') && !this.p.isAbsolute(relative) ? `~${this.p.sep}${relative}` : file;
  }
}

/**
 * The interpreter a console script runs with, from the start of the script: its `#!` line, or
 * pip's `'''exec'` form for paths too long or spaced for `#!`. null for `#!/usr/bin/env python3`
 * (PATH decides, and PATH is searched anyway) and for anything that is not a Python script.
 */
export function interpreterOfScript(head: string, p: path.PlatformPath): string | null {
  if (!head.startsWith('#!')) return null;
  const [first = '', second = ''] = head.split('\n');
  const direct = /^#!\s*(\S+)/.exec(first)?.[1];
  const long = /^'''exec' "?([^"]+?)"? "\$0"/.exec(second)?.[1];
  const python = first.startsWith('#!/bin/sh') && long ? long : direct;
  if (!python || !p.isAbsolute(python) || !/python[\d.]*(\.exe)?$/i.test(python)) return null;
  return python;
}

