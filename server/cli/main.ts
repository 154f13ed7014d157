#!/usr/bin/env node
/**
 * The `lectern` command.
 *
 *   lectern start            run the hub, proxy and spawner until Ctrl-C / SIGTERM
 *   lectern users add NAME   create an account (password from stdin, or generated and shown once)
 *   lectern users list       list accounts
 *   lectern users import FILE   accounts from a class roster, all or none
 *   lectern users reset-password NAME   a new temporary password, shown once
 *   lectern export --format F   the class's configuration for Lectern, JupyterHub or Kubernetes
 *   lectern handout …        hand out a folder of files (through the running hub)
 *   lectern collect NAME     collect a handout's work (through the running hub)
 *
 * `users` and `export` work whether or not a hub is running on the data dir: with a running hub they
 * go through its REST API (it owns the database), otherwise they open the database themselves,
 * holding the data-dir lock so a hub cannot start meanwhile.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { LoadedConfig } from '../config/load.js';
import { lecternVersion } from '../package-info.js';

// Each command loads only what it needs: `lectern proxy` must start fast, without the hub's code.

const USAGE = `Usage: lectern <command> [options]

Commands:
  start                 Start the hub: students join at the URLs it prints.
  users add NAME        Create an account. The password is read from standard input,
                        or generated and printed once. Options: --admin.
  users list            List the accounts.
  users import FILE     Create the accounts of a class roster (CSV or one name per line),
                        all or none; generated passwords are printed once.
                        Options: --cards (login cards to print; needs a running hub).
  users reset-password NAME
                        Give NAME a new temporary password, printed once; they choose
                        their own after logging in. Also works for a locked-out teacher.
  export --format FORMAT
                        Write the class's configuration (with the settings changed in the GUI)
                        for its next home. FORMAT: lectern (a Lectern config file), jupyterhub
                        (jupyterhub_config.py, also for The Littlest JupyterHub, with the
                        accounts and groups) or z2jh (values.yaml for Zero to JupyterHub).
                        Options: --output FILE (default: print it).
  handout create NAME --from FOLDER
                        Hand out FOLDER's files: each student gets them in a folder NAME.
                        Options: --class CLASS (default everyone), --available TIME,
                        --due TIME (collected then; TIME like 2026-12-01T10:00:00Z),
                        --late refuse (refuse hand-ins after it; default: mark them late).
  handout update NAME --from FOLDER
                        Hand out FOLDER's new and changed files; students keep what they
                        changed. Options: --restore-deleted.
  handout list          List the handouts.
  collect NAME          Collect every student's copy of handout NAME now.
                        Options: --output FILE.zip (also download the class's work).
  doctor                Check this machine: Python environments, data dir, port, network, firewall.
  proxy [OPTIONS]       Run only the proxy, as configurable-http-proxy (lectern proxy --help).

Options:
  --config FILE         Config file (YAML or JSON).
  --data-dir DIR        Where Lectern keeps its database, notebooks and logs
                        (default: your user's application-data folder).
  --ip ADDRESS          Address to listen on (default 0.0.0.0: every network).
  --port N              Port to listen on (default 8000).
  --base-url PATH       URL prefix, e.g. /class/ (default /).
  --log-level LEVEL     debug, info, warn or error (default info).
  -h, --help            Show this help.
  --version             Show Lectern's version.
`;

const OPTIONS = {
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  ip: { type: 'string' },
  port: { type: 'string' },
  'base-url': { type: 'string' },
  'log-level': { type: 'string' },
  admin: { type: 'boolean' },
  cards: { type: 'boolean' },
  format: { type: 'string' },
  output: { type: 'string' },
  from: { type: 'string' },
  class: { type: 'string' },
  available: { type: 'string' },
  due: { type: 'string' },
  late: { type: 'string' },
  'restore-deleted': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} satisfies ParseArgsConfig['options'];

/** Where each option lands in the config, and how errors name it. */
const OPTION_KEYS: Record<string, string> = {
  'data-dir': 'dataDir',
  ip: 'network.ip',
  port: 'network.port',
  'base-url': 'network.baseUrl',
  'log-level': 'logLevel',
};

async function main(argv: string[]): Promise<number> {
  // `lectern proxy` takes configurable-http-proxy's options, not the hub's.
  if (argv[0] === 'proxy') return (await import('./proxy-command.js')).runProxyCommand(argv.slice(1));
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  if (values.version) {
    console.log(lecternVersion);
    return 0;
  }
  const [command, subcommand, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const { loadConfig } = await import('../config/load.js');
  const loaded = await loadConfig({ file: values.config, overrides: overridesFrom(values), optionNames: optionNames() });
  // `collect` takes a handout's name where other commands have a subcommand.
  switch (command === 'collect' ? command : `${command} ${subcommand ?? ''}`.trim()) {
    case 'start':
      return start(loaded);
    case 'users add':
      if (rest.length !== 1) return usage('lectern users add NAME [--admin]');
      return (await import('./users.js')).addUser(loaded.config, rest[0] as string, values.admin ?? false);
    case 'users list':
      return (await import('./users.js')).listUsers(loaded.config);
    case 'users import':
      if (rest.length !== 1) return usage('lectern users import FILE [--cards]');
      return (await import('./roster.js')).importRosterFile(loaded.config, rest[0] as string, values.cards ?? false);
    case 'users reset-password':
      if (rest.length !== 1) return usage('lectern users reset-password NAME');
      return (await import('./users.js')).resetUserPassword(loaded.config, rest[0] as string);
    case 'export':
      return (await import('./export.js')).runExport(loaded.config, values.format, values.output);
    case 'handout create':
    case 'handout update': {
      if (rest.length !== 1) return usage(`lectern handout ${subcommand} NAME --from FOLDER`);
      const handouts = await import('./handouts.js');
      const options = { ...values, restoreDeleted: values['restore-deleted'] };
      return subcommand === 'create' ? handouts.createHandout(loaded.config, rest[0] as string, options) : handouts.updateHandout(loaded.config, rest[0] as string, options);
    }
    case 'handout list':
      return (await import('./handouts.js')).listHandouts(loaded.config);
    case 'collect':
      if (subcommand === undefined || rest.length > 0) return usage('lectern collect NAME [--output FILE.zip]');
      return (await import('./handouts.js')).collect(loaded.config, subcommand, values.output);
    case 'doctor':
      return (await import('./doctor.js')).runDoctor(loaded.config);
    default:
      return usage(`unknown command "${positionals.join(' ')}"`);
  }
}

async function start(loaded: LoadedConfig): Promise<number> {
  const { startHub } = await import('../index.js');
  const { printBanner } = await import('./banner.js');
  let finish: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => (finish = resolve));
  let stopping = false;
  /** Set while a restart is under way: a stop waits for it, then stops the new hub. */
  let restarting: Promise<void> | null = null;

  const launch = async () => {
    const started = await startHub(loaded.config, { onShutdownRequest: () => stop('shutdown'), onRestartRequest: () => void restart() });
    await printBanner(started);
    return started;
  };
  // A promise, so that Ctrl-C is handled from the first moment, even while the hub starts.
  let hub = launch();

  // A teacher asked for it on the settings page, to apply settings read only at start.
  const restart = () => {
    if (stopping || restarting) return;
    console.error('\nRestarting Lectern to apply the new settings: stopping every student server, then the hub…');
    restarting = (async () => {
      await (await hub).dispose();
      try {
        hub = launch();
        await hub;
      } catch (error) {
        console.error(`lectern: the restart failed: ${explain(error)}`);
        stopping = true;
        finish(1);
      }
    })().finally(() => (restarting = null));
  };

  const stop = (reason: string) => {
    if (stopping) {
      console.error(`\nStopping anyway (${reason} again): servers may be left running.`);
      process.exit(1);
    }
    stopping = true;
    console.error('\nStopping every student server, then the hub… (press Ctrl-C again to force)');
    void (async () => {
      await restarting;
      // A hub that failed to start has nothing to stop; its error is reported below.
      const running = await hub.catch(() => null);
      await running?.dispose();
      finish(0);
    })();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  await hub;
  return finished;
}

function overridesFrom(values: Record<string, unknown>): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  for (const [option, key] of Object.entries(OPTION_KEYS)) {
    const value = values[option];
    if (value === undefined) continue;
    const path = key.split('.');
    let node = overrides;
    for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[path.at(-1) as string] = value;
  }
  return overrides;
}

function optionNames(): Record<string, string> {
  return Object.fromEntries(Object.entries(OPTION_KEYS).map(([option, key]) => [key, `--${option}`]));
}

function usage(problem: string): number {
  console.error(`lectern: ${problem}\n\n${USAGE}`);
  return 2;
}

/** Errors a user can act on are one line; anything else is a bug and keeps its stack. */
const ACTIONABLE_ERRORS = new Set(['ConfigError', 'StoreError', 'LockedError', 'AccountError', 'CliError', 'StartupError']);

function explain(error: unknown): string {
  const actionable = error instanceof Error && ACTIONABLE_ERRORS.has(error.name);
  const badArguments = String((error as NodeJS.ErrnoException)?.code).startsWith('ERR_PARSE_ARGS_');
  if (actionable || badArguments) return (error as Error).message;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`lectern: ${explain(error)}`);
    process.exit(1);
  },
);
