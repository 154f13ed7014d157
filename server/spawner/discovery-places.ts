/**
 * Where Python environments live on each OS, as installers leave them. A pure function of the
 * platform, the home folder and the environment variables, so every OS's list can be checked from
 * any OS. Nothing here touches the disk: discovery looks at each place and skips what is absent.
 *
 * Sources, for the less obvious entries:
 * - conda/mamba: `~/.conda/environments.txt` is the list conda appends every created env to;
 *   `envs/` under an install root, `~/.conda/envs` (conda's fallback when the root is read-only),
 *   `MAMBA_ROOT_PREFIX/envs` (micromamba; its default root is `~/micromamba`, and
 *   `~/.local/share/mamba` since micromamba 2).
 * - JupyterLab Desktop (jupyterlab/jupyterlab-desktop, `src/main/utils.ts`
 *   `getBundledPythonInstallDir`, `src/main/env.ts` `getPythonEnvsDirectory`, `troubleshoot.md`
 *   "Installation Path"): the bundled env is `<dir>/jlab_server` and envs it creates are
 *   `<dir>/envs/*`, where `<dir>` is `~/Library/jupyterlab-desktop` on macOS and Electron's
 *   userData folder elsewhere: `%APPDATA%\jupyterlab-desktop` on Windows and
 *   `$XDG_CONFIG_HOME/jupyterlab-desktop` (default `~/.config/jupyterlab-desktop`) on Linux.
 * - Anaconda on macOS installed to `~/opt/anaconda3` for some years (the .pkg default), to
 *   `/opt/anaconda3` for all users, and Homebrew casks to `<brew>/anaconda3` or
 *   `<brew>/Caskroom/<name>/base`. On Windows, "just me" installs went to
 *   `%LOCALAPPDATA%\Continuum\anaconda3` before 2019 and to `%USERPROFILE%\anaconda3` since.
 */
import path from 'node:path';

export interface DiscoveryPlaces {
  /** conda/mamba install roots: each is a (base) environment, and its `envs/*` are environments. */
  condaRoots: string[];
  /** Folders whose sub-folders are conda environments. */
  condaEnvFolders: string[];
  /** conda's own lists of environments, one prefix per line. */
  condaEnvironmentLists: string[];
  /** Folders whose sub-folders are pyenv (or pyenv-win) versions. */
  pyenvVersionFolders: string[];
  /** JupyterLab Desktop's bundled environment(s). */
  desktopEnvironments: string[];
  /** Folders whose sub-folders are environments JupyterLab Desktop created. */
  desktopEnvFolders: string[];
  /** Interpreters installed with the OS or a system package manager. */
  systemPythons: string[];
  /** Folders whose sub-folders named `Python…` or a version are system Python installs (python.org installers). */
  systemPythonFolders: string[];
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** An environment variable, matched without regard to case on Windows as Windows itself does. */
export function envVar(env: Environment, name: string, platform: NodeJS.Platform): string | undefined {
  const exact = env[name];
  if (exact !== undefined || platform !== 'win32') return exact || undefined;
  const key = Object.keys(env).find((k) => k.toUpperCase() === name.toUpperCase());
  return (key && env[key]) || undefined;
}

const CONDA_FOLDER_NAMES = ['anaconda3', 'miniconda3', 'miniforge3', 'mambaforge'];

export function discoveryPlaces(platform: NodeJS.Platform, home: string, env: Environment): DiscoveryPlaces {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const get = (name: string): string | undefined => envVar(env, name, platform);
  const places: DiscoveryPlaces = {
    condaRoots: [],
    condaEnvFolders: [p.join(home, '.conda', 'envs')],
    condaEnvironmentLists: [p.join(home, '.conda', 'environments.txt')],
    pyenvVersionFolders: [],
    desktopEnvironments: [],
    desktopEnvFolders: [],
    systemPythons: [],
    systemPythonFolders: [],
  };

  // A conda that is set up in the teacher's shell names its own root.
  const condaExe = get('CONDA_EXE');
  if (condaExe) places.condaRoots.push(p.dirname(p.dirname(condaExe)));
  const mambaRoot = get('MAMBA_ROOT_PREFIX');
  const mambaRoots = [...(mambaRoot ? [mambaRoot] : []), p.join(home, 'micromamba')];

  if (platform === 'win32') {
    const profile = get('USERPROFILE') ?? home;
    const local = get('LOCALAPPDATA') ?? p.join(profile, 'AppData', 'Local');
    const roaming = get('APPDATA') ?? p.join(profile, 'AppData', 'Roaming');
    const programData = get('ProgramData') ?? 'C:\\ProgramData';
    const programFiles = get('ProgramFiles') ?? 'C:\\Program Files';
    for (const base of [profile, local, p.join(local, 'Continuum'), programData, 'C:\\', 'C:\\tools']) {
      for (const name of CONDA_FOLDER_NAMES) places.condaRoots.push(p.join(base, name));
    }
    const pyenvRoot = get('PYENV_ROOT') ?? get('PYENV');
    if (pyenvRoot) places.pyenvVersionFolders.push(p.join(pyenvRoot, 'versions'));
    places.pyenvVersionFolders.push(p.join(profile, '.pyenv', 'pyenv-win', 'versions'));
    const desktop = p.join(roaming, 'jupyterlab-desktop');
    places.desktopEnvironments.push(p.join(desktop, 'jlab_server'));
    places.desktopEnvFolders.push(p.join(desktop, 'envs'));
    places.systemPythonFolders.push(p.join(local, 'Programs', 'Python'), programFiles);
  } else {
    const common = CONDA_FOLDER_NAMES.map((name) => p.join(home, name));
    mambaRoots.push(p.join(home, '.local', 'share', 'mamba'));
    places.pyenvVersionFolders.push(p.join(get('PYENV_ROOT') ?? p.join(home, '.pyenv'), 'versions'));
    if (platform === 'darwin') {
      places.condaRoots.push(
        ...common,
        ...['anaconda3', 'miniconda3'].map((name) => p.join(home, 'opt', name)),
        ...CONDA_FOLDER_NAMES.map((name) => p.join('/opt', name)),
        ...['/opt/homebrew', '/usr/local'].flatMap((brew) => [
          p.join(brew, 'anaconda3'),
          ...['miniforge', 'miniconda', 'mambaforge', 'anaconda'].map((cask) => p.join(brew, 'Caskroom', cask, 'base')),
        ]),
      );
      const desktop = p.join(home, 'Library', 'jupyterlab-desktop');
      places.desktopEnvironments.push(p.join(desktop, 'jlab_server'));
      places.desktopEnvFolders.push(p.join(desktop, 'envs'));
      places.systemPythons.push('/opt/homebrew/bin/python3', '/usr/local/bin/python3', '/usr/bin/python3');
      places.systemPythonFolders.push('/Library/Frameworks/Python.framework/Versions');
      // Homebrew's jupyterlab formula keeps its own virtualenv.
      places.systemPythons.push(
        '/opt/homebrew/opt/jupyterlab/libexec/bin/python',
        '/usr/local/opt/jupyterlab/libexec/bin/python',
      );
    } else {
      places.condaRoots.push(
        ...common,
        '/opt/conda',
        ...CONDA_FOLDER_NAMES.map((name) => p.join('/opt', name)),
        '/usr/local/anaconda3',
        '/usr/local/miniconda3',
      );
      const xdgConfig = get('XDG_CONFIG_HOME');
      const config = xdgConfig && p.isAbsolute(xdgConfig) ? xdgConfig : p.join(home, '.config');
      const desktop = p.join(config, 'jupyterlab-desktop');
      places.desktopEnvironments.push(p.join(desktop, 'jlab_server'));
      places.desktopEnvFolders.push(p.join(desktop, 'envs'));
      places.systemPythons.push('/usr/bin/python3', '/usr/local/bin/python3');
    }
  }
  // A mamba root's own base rarely holds a Python; its environments are what matter.
  places.condaEnvFolders.push(...mambaRoots.map((root) => p.join(root, 'envs')));
  return {
    condaRoots: unique(places.condaRoots),
    condaEnvFolders: unique(places.condaEnvFolders),
    condaEnvironmentLists: unique(places.condaEnvironmentLists),
    pyenvVersionFolders: unique(places.pyenvVersionFolders),
    desktopEnvironments: unique(places.desktopEnvironments),
    desktopEnvFolders: unique(places.desktopEnvFolders),
    systemPythons: unique(places.systemPythons),
    systemPythonFolders: unique(places.systemPythonFolders),
  };
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}
