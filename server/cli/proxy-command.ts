/**
 * `lectern proxy`: Lectern's proxy on its own, as a drop-in for configurable-http-proxy. It takes
 * CHP 5.3's command line (every option JupyterHub 3.0 passes, and the rest) and serves CHP's REST
 * API, so JupyterHub can run it with
 *
 *     c.ConfigurableHTTPProxy.command = ['lectern', 'proxy']
 *
 * Where CHP misbehaves this does not: a port that is taken ends the process at once with a non-zero
 * exit and a message saying which (CHP keeps running without its API, or exits 0); `--insecure`
 * works; `--redirect-to 443` gives `https://host/`; a target that stalls after its headers aborts
 * the client's response instead of leaving it hanging.
 *
 * SIGINT and SIGTERM close the listeners and every connection and exit 0. CHP exits 2 after
 * logging "Interrupted"/"Terminated"; JupyterHub only waits for the process to end (it ignores the
 * code), and 0 tells a service manager the stop went as asked.
 */

import { createLogger } from '../logging/logger.js';
import { lecternVersion } from '../package-info.js';
import { ProxyStartError, startStandaloneProxy, type RunningProxy } from '../proxy/standalone.js';
import { parseProxyArgs, PROXY_USAGE, ProxyUsageError, type ProxySettings } from './proxy-args.js';

/** Runs `lectern proxy` until SIGINT or SIGTERM; resolves with the exit code. */
export async function runProxyCommand(argv: string[]): Promise<number> {
  let settings: ProxySettings;
  try {
    settings = parseProxyArgs(argv, process.env);
  } catch (error) {
    if (!(error instanceof ProxyUsageError)) throw error;
    console.error(`lectern proxy: ${error.message}\nRun "lectern proxy --help" for the options.`);
    return 1;
  }
  if (settings.help) {
    process.stdout.write(PROXY_USAGE);
    return 0;
  }
  if (settings.version) {
    process.stdout.write(`${lecternVersion}\n`);
    return 0;
  }
  // Logs go to standard output, as CHP's do: scripts (CHP's own tests among them) wait there for
  // "Route added /".
  const log = createLogger({ level: settings.logLevel, name: 'proxy', sink: (line) => process.stdout.write(`${line}\n`) });
  for (const warning of settings.warnings) log.warn(warning);

  let running: RunningProxy;
  try {
    running = await startStandaloneProxy(settings, log);
  } catch (error) {
    if (!(error instanceof ProxyStartError)) throw error;
    console.error(`lectern proxy: ${error.message}`);
    return 1;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  log.warn(signal === 'SIGINT' ? 'Interrupted' : 'Terminated');
  await running.close();
  return 0;
}
