/**
 * Environment discovery against fake Linux, macOS and Windows trees built in a temp folder (read
 * through `fileSystemAt(root, platform)`), with a probe that answers canned facts, plus real
 * probes of tiny fake "pythons" and of this machine's own Pythons.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileSystemAt } from '../../../server/spawner/discovery-fs.js';
import { discoveryPlaces, envVar } from '../../../server/spawner/discovery-places.js';
import { probeInterpreter, type InterpreterFacts, type JupyterPackage } from '../../../server/spawner/discovery-probe.js';
import {
  chooseEnvironment,
  compareVersions,
  discoverEnvironments,
  environmentCache,
  findEnvironments,
  interpreterOfScript,
  launchModeOfCommand,
  type EnvironmentCandidate,
  type InterpreterProbe,
} from '../../../server/spawner/discovery.js';
import { debianJupyterPackages, singleuserPages } from '../../helpers/debian-jupyter.js';

type Entry = 'dir' | { link: string } | { text: string; mode?: number } | 'python' | 'plain';

/** Builds a tree under `root`; keys are paths inside it with "/" separators. */
async function build(root: string, entries: Record<string, Entry>): Promise<void> {
  for (const [relative, entry] of Object.entries(entries)) {
    const file = path.join(root, ...relative.split('/'));
    if (entry === 'dir') {
      await mkdir(file, { recursive: true });
      continue;
    }
    await mkdir(path.dirname(file), { recursive: true });
    if (typeof entry === 'object' && 'link' in entry) {
      await symlink(entry.link, file);
    } else if (entry === 'python' || entry === 'plain') {
      await writeFile(file, '#!/bin/sh\nexit 99\n');
      await chmod(file, entry === 'python' ? 0o755 : 0o644);
    } else {
      await writeFile(file, entry.text);
      await chmod(file, entry.mode ?? 0o755);
    }
  }
}

/** What a Python at `prefix` would say, with `packages` importable from its own site-packages. */
function facts(
  prefix: string,
  pythonVersion: string,
  packages: Partial<Record<JupyterPackage, string>>,
  extra: Partial<InterpreterFacts> = {},
  p: path.PlatformPath = path.posix,
): InterpreterFacts {
  const bin = p === path.win32 ? p.join(prefix, 'Scripts') : p.join(prefix, 'bin');
  return {
    pythonVersion,
    executable: p === path.win32 ? p.join(prefix, 'python.exe') : p.join(bin, 'python3'),
    prefix,
    basePrefix: prefix,
    scriptDirs: [bin],
    userSite: p === path.win32 ? 'C:\\Users\\t\\AppData\\Roaming\\Python\\Python312\\site-packages' : '/home/t/.local/lib/python3.11/site-packages',
    packages: Object.fromEntries(
      Object.entries(packages).map(([name, version]) => [name, { version, module: p.join(prefix, 'lib', 'site-packages', name, '__init__.py') }]),
    ),
    ...extra,
  };
}

/** A probe answering from a table (a string is a failure); it records what it was asked. */
function cannedProbe(answers: Record<string, InterpreterFacts | string>): InterpreterProbe & { calls: string[] } {
  const calls: string[] = [];
  const probe = async (python: string) => {
    calls.push(python);
    const answer = answers[python];
    if (answer === undefined) return { ok: false as const, problem: `unexpected probe of ${python}` };
    return typeof answer === 'string' ? { ok: false as const, problem: answer } : { ok: true as const, facts: answer };
  };
  return Object.assign(probe, { calls });
}

function byPath(candidates: EnvironmentCandidate[], prefix: string): EnvironmentCandidate {
  const found = candidates.find((candidate) => candidate.path === prefix);
  assert.ok(found, `no candidate at ${prefix}; found ${candidates.map((c) => c.path).join(', ')}`);
  return found;
}

const DEBIAN = { jupyterhub: '3.0.0', jupyter_server: '1.23.3', notebook: '6.4.12', ipykernel: '6.17.0' };

describe('environment discovery', () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'lectern-discovery-'));
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  describe('on a Linux laptop with conda, a venv, pyenv, JupyterLab Desktop and Debian Jupyter', () => {
    let candidates: EnvironmentCandidate[];
    let probe: ReturnType<typeof cannedProbe>;

    before(async () => {
      const root = path.join(scratch, 'linux');
      await build(root, {
        'usr/bin/python3.11': 'python',
        'usr/bin/python3': { link: 'python3.11' },
        'usr/bin/jupyterhub-singleuser': { text: '#!/usr/bin/python3\nimport sys\n' },
        bin: { link: 'usr/bin' },
        'home/t/miniconda3/condabin': 'dir',
        'home/t/miniconda3/conda-meta': 'dir',
        'home/t/miniconda3/bin/python3': 'python',
        'home/t/miniconda3/envs/class/bin/python3': 'python',
        'home/t/miniconda3/envs/class/bin/jupyterhub-singleuser': 'python',
        'home/t/miniconda3/envs/broken/bin/python3': 'plain',
        'home/t/miniconda3/envs/hangs/bin/python3': 'python',
        'home/t/miniconda3/envs/r-only/conda-meta': 'dir',
        'home/t/.conda/environments.txt': { text: '/home/t/miniconda3\n/home/t/miniconda3/envs/class\n/home/t/deleted-env\n', mode: 0o644 },
        'home/t/projects/venv/bin/python3': { link: '/usr/bin/python3.11' },
        'home/t/projects/venv/pyvenv.cfg': { text: 'home = /usr/bin\n', mode: 0o644 },
        'home/t/old-venv/bin/python3': { link: '/usr/bin/python3.9' },
        'home/t/.pyenv/versions/3.12.1/bin/python3': 'python',
        'home/t/.pyenv/shims/python3': { text: '#!/usr/bin/env bash\nexec pyenv exec "$0" "$@"\n' },
        'home/t/.config/jupyterlab-desktop/jlab_server/bin/python3': 'python',
      });
      const pyenv312 = facts('/home/t/.pyenv/versions/3.12.1', '3.12.1', {});
      probe = cannedProbe({
        '/usr/bin/python3': facts('/usr', '3.11.2', DEBIAN, { executable: '/usr/bin/python3', scriptDirs: ['/usr/local/bin'] }),
        '/home/t/projects/venv/bin/python3': facts('/home/t/projects/venv', '3.11.2', {
          jupyterlab: '4.0.9',
          notebook: '7.0.6',
          jupyter_server: '2.10.0',
          ipykernel: '6.26.0',
        }, { basePrefix: '/usr' }),
        '/home/t/.pyenv/shims/python3': pyenv312,
        '/home/t/.pyenv/versions/3.12.1/bin/python3': pyenv312,
        '/home/t/miniconda3/bin/python3': facts('/home/t/miniconda3', '3.12.2', { jupyterlab: '4.1.2', jupyter_server: '2.12.5', ipykernel: '6.29.0' }),
        '/home/t/miniconda3/envs/class/bin/python3': facts('/home/t/miniconda3/envs/class', '3.11.8', {
          jupyterhub: '4.1.5',
          jupyterlab: '4.1.2',
          jupyter_server: '2.12.5',
          ipykernel: '6.29.0',
        }),
        '/home/t/miniconda3/envs/hangs/bin/python3': 'Python did not answer within 15 s: it hangs while starting.',
        '/home/t/.config/jupyterlab-desktop/jlab_server/bin/python3': facts('/home/t/.config/jupyterlab-desktop/jlab_server', '3.12.1', {
          jupyterlab: '4.0.11',
          jupyter_server: '2.12.1',
          ipykernel: '6.28.0',
        }),
      });
      candidates = await discoverEnvironments({
        platform: 'linux',
        home: '/home/t',
        env: { PATH: '/home/t/.pyenv/shims:/usr/bin:/bin:relative/bin', VIRTUAL_ENV: '/home/t/projects/venv' },
        fs: fileSystemAt(root, 'linux'),
        probe,
        configured: ['/home/t/old-venv'],
      });
    });

    it('lists each environment once, in a stable order: configured, activated, PATH, then the usual places', () => {
      assert.deepEqual(
        candidates.map((c) => [c.source, c.path]),
        [
          ['configured', '/home/t/old-venv'],
          ['venv', '/home/t/projects/venv'],
          ['pyenv', '/home/t/.pyenv/versions/3.12.1'],
          ['system', '/usr'],
          ['anaconda-folder', '/home/t/miniconda3'],
          ['conda', '/home/t/miniconda3/envs/class'],
          ['conda', '/home/t/miniconda3/envs/broken'],
          ['conda', '/home/t/miniconda3/envs/hangs'],
          ['jupyterlab-desktop', '/home/t/.config/jupyterlab-desktop/jlab_server'],
        ],
      );
    });

    it('runs each distinct interpreter once, and never a broken one', () => {
      assert.deepEqual([...probe.calls].sort(), [
        '/home/t/.config/jupyterlab-desktop/jlab_server/bin/python3',
        '/home/t/.pyenv/shims/python3',
        '/home/t/.pyenv/versions/3.12.1/bin/python3',
        '/home/t/miniconda3/bin/python3',
        '/home/t/miniconda3/envs/class/bin/python3',
        '/home/t/miniconda3/envs/hangs/bin/python3',
        '/home/t/projects/venv/bin/python3',
        '/usr/bin/python3',
      ]);
    });

    it('merges a pyenv shim into the version it runs, and /bin/python3 into /usr/bin/python3', () => {
      const pyenv = byPath(candidates, '/home/t/.pyenv/versions/3.12.1');
      assert.equal(pyenv.python, '/home/t/.pyenv/versions/3.12.1/bin/python3');
      assert.deepEqual(pyenv.alsoFoundAs, [{ python: '/home/t/.pyenv/shims/python3', source: 'path' }]);
      assert.match(pyenv.foundBy, /~\/\.pyenv\/versions; PATH \(\/home\/t\/\.pyenv\/shims\)/);
      assert.deepEqual(pyenv.modes, []);
      assert.match(pyenv.problems.join(' '), /No Jupyter in this environment.*-m pip install jupyterlab ipykernel/);

      const debian = byPath(candidates, '/usr');
      assert.equal(debian.python, '/usr/bin/python3');
      assert.deepEqual(debian.alsoFoundAs, [{ python: '/bin/python3', source: 'path' }]);
    });

    it('keeps a venv apart from the Python it links to', () => {
      const venv = byPath(candidates, '/home/t/projects/venv');
      assert.equal(venv.python, '/home/t/projects/venv/bin/python3');
      assert.deepEqual(venv.modes, ['lab', 'notebook', 'server']);
      assert.equal(byPath(candidates, '/usr').packages.jupyterhub, '3.0.0');
    });

    it('says which modes each environment can run', () => {
      const debian = byPath(candidates, '/usr');
      assert.deepEqual(debian.modes, ['singleuser', 'notebook', 'server']);
      // Found next to the interpreter, not in sysconfig's /usr/local/bin.
      assert.equal(debian.singleuserScript, '/usr/bin/jupyterhub-singleuser');
      assert.deepEqual(debian.problems, []);
      const klass = byPath(candidates, '/home/t/miniconda3/envs/class');
      assert.deepEqual(klass.modes, ['singleuser', 'lab', 'server']);
      assert.match(klass.notes.join(' '), /newer than the JupyterHub 3\.0 protocol/);
      assert.deepEqual(byPath(candidates, '/home/t/miniconda3').modes, ['lab', 'server']);
      assert.deepEqual(byPath(candidates, '/home/t/.config/jupyterlab-desktop/jlab_server').modes, ['lab', 'server']);
    });

    it('explains broken environments: a dangling venv, a non-executable python, a probe that hangs', () => {
      const old = byPath(candidates, '/home/t/old-venv');
      assert.equal(old.pythonVersion, null);
      assert.match(old.problems[0] ?? '', /points to \/usr\/bin\/python3\.9, which no longer exists.*Recreate/);
      assert.match(byPath(candidates, '/home/t/miniconda3/envs/broken').problems[0] ?? '', /is not executable/);
      assert.match(byPath(candidates, '/home/t/miniconda3/envs/hangs').problems[0] ?? '', /did not answer/);
      for (const path of ['/home/t/old-venv', '/home/t/miniconda3/envs/broken', '/home/t/miniconda3/envs/hangs']) {
        assert.deepEqual(byPath(candidates, path).modes, []);
      }
    });

    it('chooses jupyterhub-singleuser, in its newest version', () => {
      const choice = chooseEnvironment(candidates);
      assert.equal(choice.plan?.mode, 'singleuser');
      assert.deepEqual(choice.plan?.command, ['/home/t/miniconda3/envs/class/bin/jupyterhub-singleuser']);
      assert.equal(choice.plan?.ui, 'jupyterlab');
      assert.equal(choice.plan?.singleuserApp, undefined);
      assert.deepEqual(choice.plan?.pathPrefix, ['/home/t/miniconda3/envs/class/bin']);
      assert.match(choice.reason, /jupyterhub-singleuser 4\.1\.5 from \/home\/t\/miniconda3\/envs\/class/);
      assert.equal(choice.override, undefined);
    });

    it('lets a configured environment win, by folder or by any of its interpreters', () => {
      for (const wanted of ['/usr', '/usr/bin/python3', '/bin/python3', '/usr/']) {
        const choice = chooseEnvironment(candidates, { path: wanted });
        assert.equal(choice.plan?.environment?.path, '/usr', wanted);
        assert.deepEqual(choice.plan?.command, ['/usr/bin/jupyterhub-singleuser']);
        // Debian has only the classic Notebook 6: jupyterhub-singleuser must be told to run it.
        assert.equal(choice.plan?.singleuserApp, 'notebook.notebookapp.NotebookApp');
        assert.equal(choice.override?.usable, true);
      }
      const lab = chooseEnvironment(candidates, { path: '/home/t/projects/venv', mode: 'lab' });
      assert.deepEqual(lab.plan?.command, ['/home/t/projects/venv/bin/python3', '-s', '-m', 'jupyterlab']);
      const notebook = chooseEnvironment(candidates, { path: '/home/t/projects/venv', mode: 'notebook' });
      assert.deepEqual(notebook.plan?.command, ['/home/t/projects/venv/bin/python3', '-s', '-m', 'notebook']);
      const server = chooseEnvironment(candidates, { path: '/usr', mode: 'server' });
      assert.deepEqual(server.plan?.command, ['/usr/bin/python3', '-s', '-m', 'jupyter_server']);
      assert.equal(server.plan?.ui, 'none');
    });

    it('reports an unusable override, and falls back to the automatic choice', () => {
      const wrongMode = chooseEnvironment(candidates, { path: '/usr', mode: 'lab' });
      assert.equal(wrongMode.override?.usable, false);
      assert.match(wrongMode.override?.problems[0] ?? '', /cannot run JupyterLab \(it can run: jupyterhub-singleuser, the Notebook, Jupyter Server\)/);
      assert.equal(wrongMode.plan?.environment?.path, '/home/t/miniconda3/envs/class');
      assert.match(wrongMode.reason, /^The configured environment \/usr cannot be used: .* Using instead: jupyterhub-singleuser 4\.1\.5/);

      const broken = chooseEnvironment(candidates, { path: '/home/t/old-venv' });
      assert.equal(broken.override?.usable, false);
      assert.match(broken.override?.problems.join(' ') ?? '', /no longer exists/);

      const missing = chooseEnvironment(candidates, { path: '/nowhere/python3' });
      assert.match(missing.override?.problems[0] ?? '', /not a Python environment Lectern found/);
    });
  });

  it('says why packages are unusable: --user installs, missing files, too old, no ipykernel, no singleuser program', async () => {
    const root = path.join(scratch, 'packages');
    const envs = ['userpip', 'nokernel', 'old', 'hubnoscript', 'brokenpkg', 'serveronly', 'oldhub'];
    await build(root, Object.fromEntries(envs.map((name) => [`envs/${name}/bin/python3`, 'python' as Entry])));
    await build(root, {
      'envs/oldhub/bin/jupyterhub-singleuser': 'python',
      // Another Python's program in the same folder is not this environment's.
      'envs/hubnoscript/bin/jupyterhub-singleuser': { text: '#!/opt/other/bin/python3\n' },
      'opt/other/bin/python3': 'python',
      'home/t': 'dir',
    });
    const userSite = '/home/t/.local/lib/python3.11/site-packages';
    const userpip = facts('/envs/userpip', '3.11.2', { ipykernel: '6.29.0' });
    userpip.packages.jupyterlab = { version: '4.1.2', module: `${userSite}/jupyterlab/__init__.py` };
    const brokenpkg = facts('/envs/brokenpkg', '3.11.2', { ipykernel: '6.29.0' });
    brokenpkg.packages.jupyterlab = { version: '4.1.2', module: null };
    const probe = cannedProbe({
      '/envs/userpip/bin/python3': userpip,
      '/envs/nokernel/bin/python3': facts('/envs/nokernel', '3.11.2', { jupyterlab: '4.1.2', jupyter_server: '2.12.0' }),
      '/envs/old/bin/python3': facts('/envs/old', '3.8.10', { notebook: '6.0.3', ipykernel: '5.3.4' }),
      '/envs/hubnoscript/bin/python3': facts('/envs/hubnoscript', '3.11.2', DEBIAN),
      '/envs/brokenpkg/bin/python3': brokenpkg,
      '/envs/serveronly/bin/python3': facts('/envs/serveronly', '3.11.2', { jupyter_server: '2.12.0', ipykernel: '6.29.0' }),
      '/envs/oldhub/bin/python3': facts('/envs/oldhub', '3.9.1', { jupyterhub: '1.4.2', notebook: '6.4.0', ipykernel: '6.0.0' }),
    });
    const candidates = await discoverEnvironments({
      platform: 'linux',
      home: '/home/t',
      env: { PATH: '' },
      fs: fileSystemAt(root, 'linux'),
      probe,
      configured: envs.map((name) => `/envs/${name}`),
    });
    const problems = (name: string): string => byPath(candidates, `/envs/${name}`).problems.join(' | ');
    const modes = (name: string) => byPath(candidates, `/envs/${name}`).modes;

    assert.match(problems('userpip'), /jupyterlab 4\.1\.2 is installed for your user account only .*cannot see it/);
    assert.deepEqual(modes('userpip'), []);
    assert.equal(problems('nokernel'), 'no ipykernel: notebooks cannot run code — install ipykernel');
    assert.deepEqual(modes('nokernel'), []);
    assert.match(problems('old'), /notebook 6\.0\.3 is too old for the Notebook \(Lectern needs 6\.4 or newer\)/);
    assert.deepEqual(modes('old'), []);
    assert.match(problems('hubnoscript'), /jupyterhub 3\.0\.0 is installed but its jupyterhub-singleuser program is not \(looked in \/envs\/hubnoscript\/bin\)/);
    assert.deepEqual(modes('hubnoscript'), ['notebook', 'server']);
    assert.match(problems('brokenpkg'), /jupyterlab 4\.1\.2 is listed as installed but its files are missing/);
    assert.deepEqual(modes('serveronly'), ['server']);
    assert.match(byPath(candidates, '/envs/serveronly').notes.join(' '), /serves no notebook pages/);
    assert.match(problems('oldhub'), /jupyterhub 1\.4\.2 is too old for jupyterhub-singleuser \(Lectern needs 1\.5 or newer\)/);
    // notebook 6.4.0 is recent enough: the Notebook still runs there.
    assert.deepEqual(modes('oldhub'), ['notebook']);

    // Nothing better than hubnoscript's Notebook: it is chosen, over a bare jupyter_server.
    const choice = chooseEnvironment(candidates);
    assert.equal(choice.plan?.mode, 'notebook');
    assert.equal(choice.plan?.environment?.path, '/envs/hubnoscript');
    assert.match(choice.reason, /No environment can run jupyterhub-singleuser or JupyterLab\./);
    assert.equal(chooseEnvironment([byPath(candidates, '/envs/serveronly')]).plan?.ui, 'none');
    assert.equal(chooseEnvironment([byPath(candidates, '/envs/old')]).plan, null);
    assert.match(chooseEnvironment([]).reason, /No Python was found/);
  });

  it('finds the macOS places, and never runs the placeholder /usr/bin/python3', async () => {
    const root = path.join(scratch, 'macos');
    await build(root, {
      'usr/bin/python3': 'python',
      'Users/t/Library/jupyterlab-desktop/jlab_server/bin/python3': 'python',
      'Users/t/Library/jupyterlab-desktop/envs/course/bin/python3': 'python',
      'Users/t/opt/anaconda3/condabin': 'dir',
      'Users/t/opt/anaconda3/conda-meta': 'dir',
      'Users/t/opt/anaconda3/bin/python3': 'python',
      'opt/homebrew/Caskroom/miniforge/base/condabin': 'dir',
      'opt/homebrew/Caskroom/miniforge/base/conda-meta': 'dir',
      'opt/homebrew/Caskroom/miniforge/base/bin/python3': 'python',
      'opt/homebrew/Caskroom/miniforge/base/envs/stats/bin/python3': 'python',
      'Library/Frameworks/Python.framework/Versions/3.12/bin/python3': 'python',
      'Library/Frameworks/Python.framework/Versions/Current': { link: '3.12' },
    });
    const lab = { jupyterlab: '4.1.0', jupyter_server: '2.12.0', ipykernel: '6.29.0' };
    const answers: Record<string, InterpreterFacts> = {};
    for (const prefix of [
      '/Users/t/Library/jupyterlab-desktop/jlab_server',
      '/Users/t/Library/jupyterlab-desktop/envs/course',
      '/Users/t/opt/anaconda3',
      '/opt/homebrew/Caskroom/miniforge/base',
      '/opt/homebrew/Caskroom/miniforge/base/envs/stats',
      '/Library/Frameworks/Python.framework/Versions/3.12',
    ]) {
      answers[`${prefix}/bin/python3`] = facts(prefix, '3.12.1', lab);
    }
    const probe = cannedProbe(answers);
    const candidates = await discoverEnvironments({
      platform: 'darwin',
      home: '/Users/t',
      env: { PATH: '/usr/bin:/bin' },
      fs: fileSystemAt(root, 'darwin'),
      probe,
    });
    assert.deepEqual(
      candidates.map((c) => [c.source, c.path]),
      [
        ['system', '/usr'],
        ['anaconda-folder', '/Users/t/opt/anaconda3'],
        ['anaconda-folder', '/opt/homebrew/Caskroom/miniforge/base'],
        ['conda', '/opt/homebrew/Caskroom/miniforge/base/envs/stats'],
        ['jupyterlab-desktop', '/Users/t/Library/jupyterlab-desktop/jlab_server'],
        ['jupyterlab-desktop', '/Users/t/Library/jupyterlab-desktop/envs/course'],
        ['system', '/Library/Frameworks/Python.framework/Versions/3.12'],
      ],
    );
    assert.match(byPath(candidates, '/usr').problems[0] ?? '', /placeholder python3/);
    assert.ok(!probe.calls.includes('/usr/bin/python3'), 'the placeholder would pop up an installer');
  });

  it('finds the Windows places: Scripts folders, %APPDATA%, ProgramData, pyenv-win, python.org installs', async () => {
    const root = path.join(scratch, 'windows');
    await build(root, {
      'C/Users/t/anaconda3/condabin': 'dir',
      'C/Users/t/anaconda3/conda-meta': 'dir',
      'C/Users/t/anaconda3/python.exe': 'python',
      'C/Users/t/anaconda3/Scripts/jupyterhub-singleuser.exe': 'python',
      'C/Users/t/anaconda3/Scripts/jupyter-lab.exe': 'python',
      'C/Users/t/anaconda3/envs/ds/python.exe': 'python',
      'C/Users/t/venv/Scripts/python.exe': 'python',
      'C/Users/t/venv/pyvenv.cfg': { text: 'home = C:\\Users\\t\\AppData\\Local\\Programs\\Python\\Python312\n', mode: 0o644 },
      'C/Users/t/AppData/Local/Programs/Python/Python312/python.exe': 'python',
      'C/Users/t/AppData/Roaming/jupyterlab-desktop/jlab_server/python.exe': 'python',
      'C/ProgramData/miniconda3/condabin': 'dir',
      'C/ProgramData/miniconda3/conda-meta': 'dir',
      'C/ProgramData/miniconda3/python.exe': 'python',
      'C/Users/t/.pyenv/pyenv-win/versions/3.11.7/python.exe': 'python',
      'C/Windows/notepad.exe': 'python',
    });
    const w = path.win32;
    const answers: Record<string, InterpreterFacts> = {
      'C:\\Users\\t\\anaconda3\\python.exe': facts('C:\\Users\\t\\anaconda3', '3.11.7', { ...DEBIAN, jupyterlab: '4.0.11', jupyterhub: '4.0.2' }, {}, w),
      'C:\\Users\\t\\venv\\Scripts\\python.exe': facts('C:\\Users\\t\\venv', '3.12.1', { notebook: '7.1.0', jupyter_server: '2.12.0', ipykernel: '6.29.0' }, {}, w),
    };
    for (const prefix of [
      'C:\\Users\\t\\anaconda3\\envs\\ds',
      'C:\\Users\\t\\AppData\\Local\\Programs\\Python\\Python312',
      'C:\\Users\\t\\AppData\\Roaming\\jupyterlab-desktop\\jlab_server',
      'C:\\ProgramData\\miniconda3',
      'C:\\Users\\t\\.pyenv\\pyenv-win\\versions\\3.11.7',
    ]) {
      answers[w.join(prefix, 'python.exe')] = facts(prefix, '3.12.1', {}, {}, w);
    }
    const probe = cannedProbe(answers);
    const candidates = await discoverEnvironments({
      platform: 'win32',
      home: 'C:\\Users\\t',
      // Windows spells these as it likes; discovery must not care.
      env: {
        Path: 'C:\\Users\\t\\anaconda3;C:\\Users\\t\\anaconda3\\Scripts;C:\\Windows',
        USERPROFILE: 'C:\\Users\\t',
        AppData: 'C:\\Users\\t\\AppData\\Roaming',
        LOCALAPPDATA: 'C:\\Users\\t\\AppData\\Local',
        ProgramData: 'C:\\ProgramData',
        VIRTUAL_ENV: 'C:\\Users\\t\\venv',
      },
      fs: fileSystemAt(root, 'win32'),
      probe,
    });
    assert.deepEqual(
      candidates.map((c) => [c.source, c.path]),
      [
        ['venv', 'C:\\Users\\t\\venv'],
        ['anaconda-folder', 'C:\\Users\\t\\anaconda3'],
        ['conda', 'C:\\Users\\t\\anaconda3\\envs\\ds'],
        ['anaconda-folder', 'C:\\ProgramData\\miniconda3'],
        ['pyenv', 'C:\\Users\\t\\.pyenv\\pyenv-win\\versions\\3.11.7'],
        ['jupyterlab-desktop', 'C:\\Users\\t\\AppData\\Roaming\\jupyterlab-desktop\\jlab_server'],
        ['system', 'C:\\Users\\t\\AppData\\Local\\Programs\\Python\\Python312'],
      ],
    );
    const venv = byPath(candidates, 'C:\\Users\\t\\venv');
    assert.equal(venv.python, 'C:\\Users\\t\\venv\\Scripts\\python.exe');
    assert.deepEqual(venv.modes, ['notebook', 'server']);
    const anaconda = byPath(candidates, 'C:\\Users\\t\\anaconda3');
    assert.equal(anaconda.singleuserScript, 'C:\\Users\\t\\anaconda3\\Scripts\\jupyterhub-singleuser.exe');
    assert.match(anaconda.foundBy, /PATH \(C:\\Users\\t\\anaconda3\)/);
    const choice = chooseEnvironment(candidates, { path: 'c:\\users\\t\\ANACONDA3\\python.exe' });
    assert.equal(choice.override?.usable, true, 'Windows paths match without regard to case');
    assert.deepEqual(choice.plan?.command, ['C:\\Users\\t\\anaconda3\\Scripts\\jupyterhub-singleuser.exe']);
    // Never activated, a conda env on Windows needs its DLL folders on PATH.
    assert.deepEqual(choice.plan?.pathPrefix.slice(0, 4), [
      'C:\\Users\\t\\anaconda3',
      'C:\\Users\\t\\anaconda3\\Library\\mingw-w64\\bin',
      'C:\\Users\\t\\anaconda3\\Library\\usr\\bin',
      'C:\\Users\\t\\anaconda3\\Library\\bin',
    ]);
  });

  describe('the real probe', () => {
    let root: string;
    const answer = (prefix: string) =>
      JSON.stringify({
        python: '3.11.4',
        executable: `${prefix}/bin/python3`,
        prefix,
        basePrefix: prefix,
        scriptDirs: [`${prefix}/bin`],
        userSite: null,
        packages: {
          jupyterhub: { version: '3.1.1', module: `${prefix}/lib/jupyterhub/__init__.py` },
          jupyter_server: { version: '2.7.0', module: `${prefix}/lib/jupyter_server/__init__.py` },
          jupyterlab: { version: '4.0.5', module: `${prefix}/lib/jupyterlab/__init__.py` },
          ipykernel: { version: '6.25.0', module: `${prefix}/lib/ipykernel/__init__.py` },
          notebook: { version: null, module: null },
        },
      });

    before(async () => {
      root = path.join(scratch, 'real-probe');
      await build(root, {
        // Start-up noise before the answer, as conda activation scripts and sitecustomize print.
        'envs/good/bin/python3': { text: `#!/bin/sh\necho "some banner"\ncat <<'EOF'\nLECTERN-PROBE ${answer('/envs/good')}\nEOF\n` },
        'envs/good/bin/jupyterhub-singleuser': 'python',
        'envs/hangs/bin/python3': { text: '#!/bin/sh\nexec sleep 10\n' },
        'envs/fails/bin/python3': { text: '#!/bin/sh\necho "ModuleNotFoundError: No module named encodings" >&2\nexit 3\n' },
        'envs/chatty/bin/python3': { text: '#!/bin/sh\necho hello\n' },
        'envs/nonsense/bin/python3': { text: '#!/bin/sh\necho "LECTERN-PROBE {oops"\n' },
        'home/t': 'dir',
      });
    });

    it('runs each fake python, with a timeout, and explains every failure', async () => {
      const started = Date.now();
      const candidates = await discoverEnvironments({
        platform: 'linux',
        home: '/home/t',
        env: { PATH: '/usr/bin:/bin' },
        fs: fileSystemAt(root, 'linux'),
        configured: ['/envs/good', '/envs/hangs', '/envs/fails', '/envs/chatty', '/envs/nonsense'],
        probeTimeoutMs: 400,
      });
      assert.ok(Date.now() - started < 5000, 'a hanging python is given up on');
      const good = byPath(candidates, '/envs/good');
      assert.equal(good.pythonVersion, '3.11.4');
      assert.deepEqual(good.packages, { jupyterhub: '3.1.1', jupyter_server: '2.7.0', jupyterlab: '4.0.5', ipykernel: '6.25.0' });
      assert.deepEqual(good.modes, ['singleuser', 'lab', 'server']);
      assert.equal(good.singleuserScript, '/envs/good/bin/jupyterhub-singleuser');
      assert.match(byPath(candidates, '/envs/hangs').problems[0] ?? '', /did not answer within 0\.4 s/);
      assert.equal(byPath(candidates, '/envs/fails').problems[0], 'Python failed with exit code 3: ModuleNotFoundError: No module named encodings.');
      assert.equal(byPath(candidates, '/envs/chatty').problems[0], 'Python ran but did not answer as expected: hello.');
      assert.match(byPath(candidates, '/envs/nonsense').problems[0] ?? '', /not valid JSON/);
    });

    it('reports a file it cannot run', async () => {
      const missing = await probeInterpreter(path.join(root, 'envs/none/bin/python3'));
      assert.deepEqual(missing, { ok: false, problem: 'Python could not be run: the file is not there (or the interpreter its #! line names is missing).' });
    });
  });

  describe('on this machine (pyenv first on PATH, Debian Jupyter in /usr/bin)', () => {
    const debianJupyter = existsSync('/usr/bin/jupyterhub-singleuser');
    let candidates: EnvironmentCandidate[];
    before(async () => {
      candidates = await findEnvironments();
    });

    it('finds Debian Python with jupyterhub 3.0.0 and chooses jupyterhub-singleuser', { skip: !debianJupyter && 'no Debian jupyterhub' }, () => {
      const debian = candidates.find((c) => c.python === '/usr/bin/python3' || c.alsoFoundAs.some((a) => a.python === '/usr/bin/python3'));
      assert.ok(debian, JSON.stringify(candidates, null, 2));
      assert.equal(debian.packages.jupyterhub, '3.0.0');
      assert.ok(debian.modes.includes('singleuser'));
      assert.equal(debian.singleuserScript, '/usr/bin/jupyterhub-singleuser');
      const choice = chooseEnvironment(candidates);
      assert.equal(choice.plan?.mode, 'singleuser');
      assert.deepEqual(choice.plan?.command, ['/usr/bin/jupyterhub-singleuser']);
      assert.equal(choice.plan?.singleuserApp, singleuserPages(debianJupyterPackages()).singleuserApp, 'the pages its packages give');
    });

    it('reports the pyenv python3 that comes first on PATH as lacking Jupyter', { skip: !existsSync('/root/.pyenv/shims/python3') && 'no pyenv here' }, () => {
      const pyenv = candidates.find((c) => c.alsoFoundAs.some((a) => a.python === '/root/.pyenv/shims/python3') || c.python === '/root/.pyenv/shims/python3');
      assert.ok(pyenv, JSON.stringify(candidates.map((c) => [c.python, c.alsoFoundAs]), null, 2));
      assert.equal(pyenv.source, 'pyenv');
      assert.deepEqual(pyenv.modes, []);
      assert.match(pyenv.problems.join(' '), /^No Jupyter in this environment\. To use it: \/root\/\.pyenv\/versions\/.* -m pip install jupyterlab ipykernel$/);
    });

    it('is the same answer for the rest of the process', async () => {
      assert.equal(await findEnvironments(), candidates);
    });
  });

  it('caches discoveries per configured paths until asked to refresh, and forgets failures', async () => {
    const calls: string[][] = [];
    let fail = false;
    const cache = environmentCache(async (configured) => {
      calls.push([...configured]);
      if (fail) throw new Error('boom');
      return [];
    });
    const first = cache.find();
    assert.equal(cache.find(), first);
    assert.notEqual(cache.find({ configured: ['/x'] }), first);
    const refreshed = cache.find({ refresh: true });
    assert.notEqual(refreshed, first);
    assert.equal(cache.find(), refreshed);
    fail = true;
    await assert.rejects(cache.find({ configured: ['/y'] }));
    fail = false;
    await cache.find({ configured: ['/y'] });
    assert.deepEqual(calls, [[], ['/x'], [], ['/y'], ['/y']]);
  });

  describe('pieces', () => {
    it('compares versions numerically', () => {
      assert.equal(compareVersions('1.13.0', '1.5'), 1);
      assert.equal(compareVersions('6.4', '6.4.0'), 0);
      assert.equal(compareVersions('4.0.0rc1', '4.0'), 0);
      assert.equal(compareVersions('2.7.18', '3.7'), -1);
    });

    it('reads the interpreter of a console script', () => {
      assert.equal(interpreterOfScript('#!/usr/bin/python3\nimport x', path.posix), '/usr/bin/python3');
      assert.equal(interpreterOfScript('#!/opt/env/bin/python3.11 -s\n', path.posix), '/opt/env/bin/python3.11');
      assert.equal(interpreterOfScript('#!/usr/bin/env python3\n', path.posix), null);
      assert.equal(interpreterOfScript('#!/bin/bash\n', path.posix), null);
      assert.equal(
        interpreterOfScript(`#!/bin/sh\n'''exec' "/home/t/my envs/x/bin/python3" "$0" "$@"\n' '''\n`, path.posix),
        '/home/t/my envs/x/bin/python3',
      );
    });

    it('knows the mode of a configured command', () => {
      assert.equal(launchModeOfCommand(['jupyterhub-singleuser']), 'singleuser');
      assert.equal(launchModeOfCommand(['C:\\a\\Scripts\\jupyterhub-singleuser.exe']), 'singleuser');
      assert.equal(launchModeOfCommand(['jupyter', 'lab']), 'lab');
      assert.equal(launchModeOfCommand(['/x/bin/jupyter-notebook']), 'notebook');
      assert.equal(launchModeOfCommand(['/x/bin/python3', '-m', 'jupyter_server']), 'server');
      assert.equal(launchModeOfCommand(['node', 'fake-server.mjs']), undefined);
    });

    it('lists JupyterLab Desktop where its source puts it on each OS', () => {
      assert.deepEqual(discoveryPlaces('linux', '/home/t', {}).desktopEnvironments, ['/home/t/.config/jupyterlab-desktop/jlab_server']);
      assert.deepEqual(discoveryPlaces('linux', '/home/t', { XDG_CONFIG_HOME: '/cfg' }).desktopEnvironments, ['/cfg/jupyterlab-desktop/jlab_server']);
      assert.deepEqual(discoveryPlaces('linux', '/home/t', { XDG_CONFIG_HOME: 'relative' }).desktopEnvironments, [
        '/home/t/.config/jupyterlab-desktop/jlab_server',
      ]);
      assert.deepEqual(discoveryPlaces('darwin', '/Users/t', {}).desktopEnvironments, ['/Users/t/Library/jupyterlab-desktop/jlab_server']);
      assert.deepEqual(discoveryPlaces('win32', 'C:\\Users\\t', { APPDATA: 'D:\\Roaming' }).desktopEnvironments, [
        'D:\\Roaming\\jupyterlab-desktop\\jlab_server',
      ]);
    });

    it('looks in the usual conda places of each OS', () => {
      const linux = discoveryPlaces('linux', '/home/t', { CONDA_EXE: '/srv/conda/bin/conda', MAMBA_ROOT_PREFIX: '/srv/mamba' });
      for (const root of ['/srv/conda', '/home/t/anaconda3', '/home/t/miniforge3', '/opt/conda', '/usr/local/anaconda3']) {
        assert.ok(linux.condaRoots.includes(root), root);
      }
      assert.ok(linux.condaEnvFolders.includes('/srv/mamba/envs'));
      assert.ok(linux.condaEnvironmentLists.includes('/home/t/.conda/environments.txt'));
      const mac = discoveryPlaces('darwin', '/Users/t', {});
      for (const root of ['/opt/homebrew/Caskroom/miniforge/base', '/usr/local/anaconda3', '/Users/t/opt/anaconda3', '/opt/anaconda3']) {
        assert.ok(mac.condaRoots.includes(root), root);
      }
      const windows = discoveryPlaces('win32', 'C:\\Users\\t', { USERPROFILE: 'C:\\Users\\t', LOCALAPPDATA: 'C:\\Users\\t\\AppData\\Local' });
      for (const root of ['C:\\ProgramData\\anaconda3', 'C:\\Users\\t\\anaconda3', 'C:\\Users\\t\\AppData\\Local\\Continuum\\anaconda3']) {
        assert.ok(windows.condaRoots.includes(root), root);
      }
      assert.equal(envVar({ Path: 'C:\\x' }, 'PATH', 'win32'), 'C:\\x');
      assert.equal(envVar({ Path: '/x' }, 'PATH', 'linux'), undefined);
    });
  });
});
