/**
 * Which web app `jupyterhub-singleuser` should wrap. Left alone it runs jupyter_server, which
 * serves no pages unless JupyterLab or nbclassic is installed: on a machine with only the classic
 * Notebook 6 (Debian's packages, older Anacondas) a student would land on a 404. There the classic
 * NotebookApp is chosen instead, through the variable JupyterHub reads for this,
 * `JUPYTERHUB_SINGLEUSER_APP`.
 */
import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';

const PROBE = `
import importlib.util as u, json
def version(name):
    try:
        import importlib.metadata as m
        return m.version(name)
    except Exception:
        return None
print(json.dumps({"lab": u.find_spec("jupyterlab") is not None,
                  "nbclassic": u.find_spec("nbclassic") is not None,
                  "notebook": version("notebook")}))
`;

const CLASSIC_NOTEBOOK_APP = 'notebook.notebookapp.NotebookApp';
const chosen = new Map<string, Promise<string | null>>();

/** The app to run for `executable`, or null to keep jupyterhub-singleuser's own choice. Cached per executable. */
export function singleuserAppFor(executable: string): Promise<string | null> {
  let choice = chosen.get(executable);
  if (!choice) {
    choice = probe(executable).catch(() => null);
    chosen.set(executable, choice);
  }
  return choice;
}

async function probe(executable: string): Promise<string | null> {
  const python = await interpreterOf(executable);
  if (!python) return null;
  const output = await new Promise<string>((resolve, reject) =>
    execFile(python, ['-c', PROBE], { timeout: 20_000, env: { PATH: process.env.PATH ?? '' } }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    ),
  );
  const found = JSON.parse(output) as { lab: boolean; nbclassic: boolean; notebook: string | null };
  if (found.lab || found.nbclassic) return null;
  const major = Number(found.notebook?.split('.')[0]);
  return major > 0 && major < 7 ? CLASSIC_NOTEBOOK_APP : null;
}

/** The Python a console script runs with, read from its `#!` line. */
async function interpreterOf(executable: string): Promise<string | null> {
  const handle = await open(executable, 'r');
  try {
    const buffer = Buffer.alloc(256);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const firstLine = buffer.toString('utf8', 0, bytesRead).split('\n')[0] ?? '';
    const match = /^#!\s*(\S*python[\d.]*)\s*$/.exec(firstLine);
    return match?.[1] ?? null;
  } finally {
    await handle.close();
  }
}
