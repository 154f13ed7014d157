/**
 * The arguments and environment a server is launched with, per launch mode.
 *
 * `jupyterhub-singleuser` reads everything from the JupyterHub environment (JUPYTERHUB_*), port
 * included. The plain modes are told on the command line: loopback only, the port, the base URL,
 * the student's folder, no browser. Their token never goes on the command line (every user of the
 * machine can read a process list): it is passed as `JUPYTER_TOKEN`, which Jupyter Server and the
 * classic Notebook read at start and, because it was given rather than generated, print as `...`
 * in their logs.
 */
import { compareVersions, type LaunchPlan } from './discovery.js';

export interface ServerPlace {
  port: number;
  /** `/user/alice/`: the server serves under it. */
  servicePrefix: string;
  notebookDir: string;
  /** The page a student lands on (`/lab`, `/tree`); empty for the server's own default. */
  defaultUrl: string;
}

export interface CommandLine {
  args: string[];
  environment: Record<string, string>;
}

/**
 * Arguments after `plan.command`, and variables on top of the base environment. `hubEnvironment`
 * is the JupyterHub contract (singleuser only); `token` the server's own token.
 */
export function commandLine(plan: LaunchPlan, place: ServerPlace, hubEnvironment: Record<string, string>, token: string): CommandLine {
  if (plan.mode === 'singleuser') {
    const environment = { ...hubEnvironment };
    if (plan.singleuserApp) environment.JUPYTERHUB_SINGLEUSER_APP = plan.singleuserApp;
    return { args: [], environment };
  }
  const app = usesClassicNotebook(plan) ? 'NotebookApp' : 'ServerApp';
  const folderOption = app === 'NotebookApp' ? 'notebook_dir' : 'root_dir';
  const args = [
    `--${app}.ip=127.0.0.1`,
    `--${app}.port=${place.port}`,
    // Another port than the one the hub routes to would be a server nobody reaches.
    `--${app}.port_retries=0`,
    `--${app}.base_url=${place.servicePrefix}`,
    `--${app}.${folderOption}=${place.notebookDir}`,
    `--${app}.open_browser=False`,
    // Browsers reach the server through the proxy with the hub's own name in Host (a LAN address);
    // the server listens on loopback only, so its DNS-rebinding check would refuse them.
    `--${app}.allow_remote_access=True`,
  ];
  if (place.defaultUrl) args.push(`--${app}.default_url=${place.defaultUrl}`);
  return { args, environment: { JUPYTER_TOKEN: token } };
}

/** The classic Notebook (6.x and older) is its own web app with its own option names. */
function usesClassicNotebook(plan: LaunchPlan): boolean {
  const notebook = plan.environment?.packages.notebook;
  return plan.mode === 'notebook' && notebook !== undefined && compareVersions(notebook, '7') < 0;
}
