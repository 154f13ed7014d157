/**
 * What Debian's Jupyter on this machine is, asked of its Python (`/usr/bin/python3`) directly: tests
 * that drive the real Jupyter derive what they expect from it, so they hold whichever of Debian's
 * optional Jupyter packages (python3-nbclassic, python3-ipywidgets, python3-jupyterlab…) a machine has.
 */
import { execFileSync } from 'node:child_process';

const PACKAGES = ['jupyterhub', 'jupyter_server', 'jupyterlab', 'notebook', 'nbclassic', 'ipykernel'];

let known: Record<string, string> | undefined;

/** The Jupyter packages Debian's Python has, with their versions. */
export function debianJupyterPackages(): Record<string, string> {
  known ??= JSON.parse(
    execFileSync(
      '/usr/bin/python3',
      ['-c', `import json, importlib.metadata as m\nfound = {}\nfor name in ${JSON.stringify(PACKAGES)}:\n    try:\n        found[name] = m.version(name)\n    except m.PackageNotFoundError:\n        pass\nprint(json.dumps(found))`],
      { encoding: 'utf8' },
    ),
  ) as Record<string, string>;
  return known;
}

/**
 * The pages students get from `jupyterhub-singleuser` with these packages, as Lectern's doctor names
 * them: JupyterLab where it is installed, else the classic Notebook of nbclassic, else Notebook 6
 * (which Lectern names as the singleuser app, since jupyterhub-singleuser 3.0 would serve none).
 */
export function singleuserPages(packages: Record<string, string>): { words: string; singleuserApp: string | undefined } {
  if (packages.jupyterlab) return { words: 'JupyterLab', singleuserApp: undefined };
  if (packages.nbclassic) return { words: 'the classic Notebook (nbclassic)', singleuserApp: undefined };
  return { words: 'the Notebook (JUPYTERHUB_SINGLEUSER_APP=notebook.notebookapp.NotebookApp)', singleuserApp: 'notebook.notebookapp.NotebookApp' };
}
