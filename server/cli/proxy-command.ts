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

import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { createLogger, LOG_LEVELS, type Logger, type LogLevel, scrubUrl } from '../logging/logger.js';
import { lecternVersion } from '../package-info.js';
import { Proxy, type ProxyOptions } from '../proxy/proxy.js';
import { prometheusText } from '../proxy/proxy-stats.js';
import { createPublicListener } from '../proxy/public-listener.js';
import { createRouteApi } from '../proxy/route-api.js';
import { RouteTable } from '../proxy/route-table.js';

export const PROXY_USAGE = `Usage: lectern proxy [options]

Lectern's proxy on its own, with configurable-http-proxy's command line and REST API.
The API token is read from the environment variable CONFIGPROXY_AUTH_TOKEN.

Listening:
  --ip ADDRESS                  Public address (default: every interface)
  --port N                      Public port (default 8000)
  --socket PATH                 Public UNIX socket instead of --ip/--port
  --api-ip ADDRESS              API address (default localhost)
  --api-port N                  API port (default: --port + 1)
  --api-socket PATH             API UNIX socket instead of --api-ip/--api-port
  --metrics-ip ADDRESS          Metrics address (default: every interface)
  --metrics-port N              Serve Prometheus metrics at /metrics on this port
  --metrics-socket PATH         Metrics UNIX socket
  --redirect-port N             Redirect plain HTTP on this port to HTTPS (needs --ssl-*)
  --redirect-to N               HTTPS port to redirect to (default: --port)
  --pid-file FILE               Write the process id to FILE (removed on exit)

Routing and forwarding:
  --default-target URL          Route / to URL
  --error-target URL            Fetch error pages from URL/<code>?url=<request URL>
  --error-path DIR              Serve error pages from DIR/<code>.html or DIR/error.html
  --host-routing                Route by host name first (/<host>/<path>)
  --no-x-forward                Do not add X-Forwarded-* headers
  --no-prepend-path             Do not prepend the target's path
  --no-include-prefix           Strip the route prefix from the forwarded path
  --auto-rewrite                Rewrite the host of redirects to the target
  --protocol-rewrite PROTO      Rewrite the scheme of redirects to the target
  --change-origin               Send the target's host as Host
  --custom-header "NAME: VALUE" Add a header to every proxied request (repeatable)
  --insecure                    Do not verify https targets' certificates

Timeouts and limits (milliseconds, bytes):
  --timeout N                   Drop a client connection idle for N during a request
  --proxy-timeout N             Give up on a target silent for N (503, or abort the response)
  --keep-alive-timeout N        Keep idle client connections open for N (default 5000)
  --headers-timeout N           Time a client has to send its headers (default 20000)
  --request-timeout N           Time a client has to send a whole request (default 300000)
  --max-header-size N           Largest request header block (default 16384)

TLS:
  --ssl-key FILE --ssl-cert FILE [--ssl-ca FILE] [--ssl-dhparam FILE] [--ssl-protocol NAME]
  [--ssl-ciphers LIST] [--ssl-allow-rc4] [--ssl-request-cert] [--ssl-reject-unauthorized]
                                TLS on the public port (passphrase: CONFIGPROXY_SSL_KEY_PASSPHRASE)
  --api-ssl-key FILE --api-ssl-cert FILE [--api-ssl-ca FILE]
  [--api-ssl-request-cert] [--api-ssl-reject-unauthorized]
                                TLS on the API (passphrase: CONFIGPROXY_API_SSL_KEY_PASSPHRASE)
  --client-ssl-key FILE --client-ssl-cert FILE [--client-ssl-ca FILE]
  [--client-ssl-request-cert] [--client-ssl-reject-unauthorized]
                                Client certificate and CAs for https targets

Other:
  --log-level LEVEL             debug, info, warn or error (default info)
  -h, --help                    Show this help
  -V, --version                 Show Lectern's version
`;

const OPTIONS = {
  ip: { type: 'string' },
  port: { type: 'string' },
  socket: { type: 'string' },
  'api-ip': { type: 'string' },
  'api-port': { type: 'string' },
  'api-socket': { type: 'string' },
  'metrics-ip': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-socket': { type: 'string' },
  'redirect-port': { type: 'string' },
  'redirect-to': { type: 'string' },
  'pid-file': { type: 'string' },
  'default-target': { type: 'string' },
  'error-target': { type: 'string' },
  'error-path': { type: 'string' },
  'host-routing': { type: 'boolean' },
  'no-x-forward': { type: 'boolean' },
  'no-prepend-path': { type: 'boolean' },
  'no-include-prefix': { type: 'boolean' },
  'auto-rewrite': { type: 'boolean' },
  'protocol-rewrite': { type: 'string' },
  'change-origin': { type: 'boolean' },
  'custom-header': { type: 'string', multiple: true },
  insecure: { type: 'boolean' },
  timeout: { type: 'string' },
  'proxy-timeout': { type: 'string' },
  'keep-alive-timeout': { type: 'string' },
  'headers-timeout': { type: 'string' },
  'request-timeout': { type: 'string' },
  'max-header-size': { type: 'string' },
  'storage-backend': { type: 'string' },
  'ssl-key': { type: 'string' },
  'ssl-cert': { type: 'string' },
  'ssl-ca': { type: 'string' },
  'ssl-dhparam': { type: 'string' },
  'ssl-protocol': { type: 'string' },
  'ssl-ciphers': { type: 'string' },
  'ssl-allow-rc4': { type: 'boolean' },
  'ssl-request-cert': { type: 'boolean' },
  'ssl-reject-unauthorized': { type: 'boolean' },
  'api-ssl-key': { type: 'string' },
  'api-ssl-cert': { type: 'string' },
  'api-ssl-ca': { type: 'string' },
  'api-ssl-request-cert': { type: 'boolean' },
  'api-ssl-reject-unauthorized': { type: 'boolean' },
  'client-ssl-key': { type: 'string' },
  'client-ssl-cert': { type: 'string' },
  'client-ssl-ca': { type: 'string' },
  'client-ssl-request-cert': { type: 'boolean' },
  'client-ssl-reject-unauthorized': { type: 'boolean' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} satisfies ParseArgsConfig['options'];

function parseOptions(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
}
type Values = ReturnType<typeof parseOptions>;

/** A command line that cannot be run; the message is for the user, as is. */
export class ProxyUsageError extends Error {}

/** Where one server listens: a TCP address or a UNIX socket. */
export type ListenAddress = { socket: string } | { host: string | undefined; port: number };

/** TLS files and switches, as given (files are read at start). */
export interface TlsArgs {
  key?: string | undefined;
  cert?: string | undefined;
  ca?: string | undefined;
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

/** Everything the command line asks for, checked but with no file read and nothing started. */
export interface ProxySettings {
  help: boolean;
  version: boolean;
  listen: ListenAddress;
  api: ListenAddress;
  metrics: ListenAddress | undefined;
  redirect: { port: number; to: number } | undefined;
  pidFile: string | undefined;
  defaultTarget: string | undefined;
  authToken: string | undefined;
  logLevel: LogLevel;
  proxy: Omit<ProxyOptions, 'log' | 'routes' | 'clientTls' | 'fallback' | 'renderErrorPage' | 'homeUrl'>;
  limits: {
    timeout: number | undefined;
    keepAliveTimeout: number | undefined;
    headersTimeout: number | undefined;
    requestTimeout: number | undefined;
    maxHeaderSize: number | undefined;
  };
  ssl: (TlsArgs & { dhparam?: string | undefined; protocol?: string | undefined; ciphers: string }) | undefined;
  apiSsl: TlsArgs | undefined;
  clientSsl: TlsArgs | undefined;
  /** Warnings to log once the logger exists. */
  warnings: string[];
}

/** CHP's default cipher list: modern suites first, no RC4 unless asked. */
function cipherList(allowRc4: boolean): string {
  return [
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'DHE-RSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-SHA256',
    'DHE-RSA-AES128-SHA256',
    'ECDHE-RSA-AES256-SHA384',
    'DHE-RSA-AES256-SHA384',
    'ECDHE-RSA-AES256-SHA256',
    'DHE-RSA-AES256-SHA256',
    'HIGH',
    allowRc4 ? 'RC4' : '!RC4',
    '!aNULL',
    '!eNULL',
    '!EXPORT',
    '!DES',
    '!MD5',
    '!PSK',
    '!SRP',
    '!CAMELLIA',
  ].join(':');
}

/** Parses `lectern proxy`'s arguments; throws ProxyUsageError with a message for the user. */
export function parseProxyArgs(argv: string[], env: NodeJS.ProcessEnv): ProxySettings {
  let values: Values;
  try {
    values = parseOptions(argv);
  } catch (error) {
    throw new ProxyUsageError((error as Error).message.split('\n')[0] ?? String(error));
  }
  const warnings: string[] = [];
  let logLevel = (values['log-level'] ?? 'info').toLowerCase();
  // Python's name for it, which a JupyterHub config may well pass on.
  if (logLevel === 'warning') logLevel = 'warn';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ProxyUsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, not "${values['log-level']}"`);
  }
  const customHeaders: Record<string, string> = {};
  for (const raw of values['custom-header'] ?? []) {
    const header = raw.trim();
    const colon = header.indexOf(':');
    if (colon <= 0) throw new ProxyUsageError(`A colon was expected in custom header: ${header}`);
    customHeaders[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
  }
  if (values['error-target'] !== undefined && values['error-path'] !== undefined) {
    throw new ProxyUsageError('Cannot specify both error-target and error-path. Pick one.');
  }
  if (values['storage-backend'] !== undefined) {
    throw new ProxyUsageError('--storage-backend is not supported: lectern proxy keeps its routes in memory');
  }
  const hasSsl = values['ssl-key'] !== undefined || values['ssl-cert'] !== undefined;
  if (values['redirect-port'] !== undefined && !hasSsl) {
    throw new ProxyUsageError('HTTPS redirection specified but certificates not provided.');
  }

  let ip = values.ip;
  if (ip === '*') {
    warnings.push("Interpreting ip='*' as all-interfaces. Preferred usage is 0.0.0.0 for all IPv4 or '' for all-interfaces.");
    ip = '';
  }
  const port = values.port === undefined ? 8000 : portNumber('--port', values.port);
  const listen = exclusiveAddress('--socket', values.socket, ['--ip', ip], ['--port', values.port], { host: ip || undefined, port });
  const apiPort =
    values['api-port'] !== undefined ? portNumber('--api-port', values['api-port']) : 'socket' in listen ? 8001 : port === 0 ? 0 : port + 1;
  const api = exclusiveAddress('--api-socket', values['api-socket'], ['--api-ip', values['api-ip']], ['--api-port', values['api-port']], {
    host: values['api-ip'] || 'localhost',
    port: apiPort,
  });
  let metrics: ListenAddress | undefined;
  if (values['metrics-socket'] !== undefined || values['metrics-port'] !== undefined) {
    metrics = exclusiveAddress(
      '--metrics-socket',
      values['metrics-socket'],
      ['--metrics-ip', values['metrics-ip']],
      ['--metrics-port', values['metrics-port']],
      { host: values['metrics-ip'] || undefined, port: portNumber('--metrics-port', values['metrics-port'] ?? '0') },
    );
  }
  let redirect: ProxySettings['redirect'];
  // CHP skips the redirect server when the proxy itself is on port 80.
  if (values['redirect-port'] !== undefined && !('socket' in listen) && port !== 80) {
    redirect = {
      port: portNumber('--redirect-port', values['redirect-port']),
      to: values['redirect-to'] !== undefined ? portNumber('--redirect-to', values['redirect-to']) : port,
    };
  }

  const hasApiSsl = values['api-ssl-key'] !== undefined || values['api-ssl-cert'] !== undefined;
  const hasClientSsl =
    values['client-ssl-key'] !== undefined || values['client-ssl-cert'] !== undefined || values['client-ssl-ca'] !== undefined;

  return {
    help: values.help ?? false,
    version: values.version ?? false,
    listen,
    api,
    metrics,
    redirect,
    pidFile: values['pid-file'],
    defaultTarget: values['default-target'],
    authToken: env.CONFIGPROXY_AUTH_TOKEN || undefined,
    logLevel: logLevel as LogLevel,
    proxy: {
      xForward: !values['no-x-forward'],
      prependPath: !values['no-prepend-path'],
      includePrefix: !values['no-include-prefix'],
      hostRouting: values['host-routing'] ?? false,
      autoRewrite: values['auto-rewrite'] ?? false,
      changeOrigin: values['change-origin'] ?? false,
      protocolRewrite: values['protocol-rewrite'],
      customHeaders,
      errorTarget: values['error-target'],
      errorPath: values['error-path'],
      proxyTimeout: wholeNumber('--proxy-timeout', values['proxy-timeout']),
      insecure: values.insecure ?? false,
    },
    limits: {
      timeout: wholeNumber('--timeout', values.timeout),
      keepAliveTimeout: wholeNumber('--keep-alive-timeout', values['keep-alive-timeout']),
      headersTimeout: wholeNumber('--headers-timeout', values['headers-timeout']),
      requestTimeout: wholeNumber('--request-timeout', values['request-timeout']),
      maxHeaderSize: wholeNumber('--max-header-size', values['max-header-size']),
    },
    ssl: hasSsl
      ? {
          ...tlsArgs(values['ssl-key'], values['ssl-cert'], values['ssl-ca'], values['ssl-request-cert'], values['ssl-reject-unauthorized']),
          dhparam: values['ssl-dhparam'],
          protocol: values['ssl-protocol'],
          ciphers: values['ssl-ciphers'] ?? cipherList(values['ssl-allow-rc4'] ?? false),
        }
      : undefined,
    apiSsl: hasApiSsl
      ? tlsArgs(
          values['api-ssl-key'],
          values['api-ssl-cert'],
          values['api-ssl-ca'],
          values['api-ssl-request-cert'],
          values['api-ssl-reject-unauthorized'],
        )
      : undefined,
    clientSsl: hasClientSsl
      ? tlsArgs(
          values['client-ssl-key'],
          values['client-ssl-cert'],
          values['client-ssl-ca'],
          values['client-ssl-request-cert'],
          values['client-ssl-reject-unauthorized'],
        )
      : undefined,
    warnings,
  };
}

function tlsArgs(
  key: string | undefined,
  cert: string | undefined,
  ca: string | undefined,
  requestCert: boolean | undefined,
  rejectUnauthorized: boolean | undefined,
): TlsArgs {
  return { key, cert, ca, requestCert: requestCert ?? false, rejectUnauthorized: rejectUnauthorized ?? false };
}

function portNumber(option: string, value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port > 65535) throw new ProxyUsageError(`${option} must be a port number (0-65535), not "${value}"`);
  return port;
}

/** A count of milliseconds or bytes. */
function wholeNumber(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw new ProxyUsageError(`${option} must be a whole number, not "${value}"`);
  return Number(value);
}

/** A UNIX socket or an address, as commander's `.conflicts()` lets CHP have one or the other. */
function exclusiveAddress(
  socketOption: string,
  socket: string | undefined,
  ip: [string, string | undefined],
  port: [string, string | undefined],
  address: { host: string | undefined; port: number },
): ListenAddress {
  if (socket === undefined) return address;
  for (const [option, value] of [ip, port]) {
    if (value !== undefined) throw new ProxyUsageError(`option '${socketOption} <path>' cannot be used with option '${option}'`);
  }
  return { socket };
}

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

/** A reason the proxy cannot start that the user can fix: a taken port, an unreadable file. */
export class ProxyStartError extends Error {}

export interface RunningProxy {
  proxy: Proxy;
  routes: RouteTable;
  /** Where each listener ended up (ports resolved when 0 was asked for). */
  addresses: { proxy: string; api: string; metrics?: string | undefined };
  /** Closes every listener and connection and removes the pid file. Idempotent. */
  close(): Promise<void>;
}

/** Starts the proxy, its API and the optional metrics and redirect servers, all or nothing. */
export async function startStandaloneProxy(settings: ProxySettings, log: Logger): Promise<RunningProxy> {
  const clientTls = settings.clientSsl && {
    key: readOptional('--client-ssl-key', settings.clientSsl.key),
    cert: readOptional('--client-ssl-cert', settings.clientSsl.cert),
    ca: readOptional('--client-ssl-ca', settings.clientSsl.ca),
  };
  const tls = settings.ssl && {
    ...serverTls('--ssl', settings.ssl, process.env.CONFIGPROXY_SSL_KEY_PASSPHRASE),
    dhparam: readOptional('--ssl-dhparam', settings.ssl.dhparam),
    ...(settings.ssl.protocol ? { secureProtocol: `${settings.ssl.protocol}_method` } : {}),
    ciphers: settings.ssl.ciphers,
    honorCipherOrder: true,
  };
  const apiTls =
    settings.apiSsl &&
    ({
      ...serverTls('--api-ssl', settings.apiSsl, process.env.CONFIGPROXY_API_SSL_KEY_PASSPHRASE),
      ciphers: settings.ssl?.ciphers ?? cipherList(false),
      honorCipherOrder: true,
    } satisfies HttpsServerOptions);

  const routes = new RouteTable();
  let proxy: Proxy;
  try {
    proxy = new Proxy({ log, routes, clientTls, ...settings.proxy });
  } catch (error) {
    throw new ProxyStartError((error as Error).message);
  }
  if (settings.defaultTarget !== undefined) {
    try {
      routes.add('/', settings.defaultTarget, { target: settings.defaultTarget });
    } catch (error) {
      throw new ProxyStartError(`--default-target: ${(error as Error).message}`);
    }
    log.info(`Route added / -> ${scrubUrl(settings.defaultTarget)}`);
  }
  if (!settings.authToken) log.warn('REST API is not authenticated.');

  const publicServer = createPublicListener(proxy, { tls, ...settings.limits });
  const apiHandler = createRouteApi({ routes, authToken: settings.authToken, log, hostRouting: settings.proxy.hostRouting });
  const apiServer = apiTls ? createHttpsServer(apiTls, apiHandler) : createHttpServer(apiHandler);
  const servers: Array<{ server: Server; address: ListenAddress; label: string }> = [
    { server: publicServer, address: settings.listen, label: 'the proxy' },
    { server: apiServer, address: settings.api, label: 'the API' },
  ];
  if (settings.metrics !== undefined) {
    servers.push({ server: createHttpServer(metricsHandler(proxy, routes)), address: settings.metrics, label: 'metrics' });
  }
  if (settings.redirect !== undefined) {
    // All interfaces, as CHP: the redirect exists for browsers that typed plain http://.
    servers.push({ server: createHttpServer(redirectHandler(settings.redirect.to)), address: { host: undefined, port: settings.redirect.port }, label: 'the HTTPS redirect' });
  }

  let closing: Promise<void> | undefined;
  let pidFileWritten = false;
  const removePidFile = (): void => {
    if (!pidFileWritten || settings.pidFile === undefined) return;
    pidFileWritten = false;
    try {
      unlinkSync(settings.pidFile);
    } catch {
      // Already gone: nothing to clean.
    }
  };
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      proxy.close();
      await Promise.all(servers.map(({ server }) => closeServer(server)));
      removePidFile();
      process.removeListener('exit', removePidFile);
    })());

  try {
    await Promise.all(servers.map(({ server, address, label }) => listen(server, address, label)));
  } catch (error) {
    await close();
    throw error;
  }
  for (const { server, label } of servers) {
    server.on('error', (error) => log.error(`${label}: ${(error as Error).message}`));
  }

  const scheme = tls ? 'https' : 'http';
  const addresses = {
    proxy: describe(publicServer, scheme),
    api: describe(apiServer, apiTls ? 'https' : 'http'),
    metrics: settings.metrics ? describe(servers[2]?.server as Server, 'http') : undefined,
  };
  log.info(`Proxying ${addresses.proxy} to ${settings.defaultTarget ? scrubUrl(settings.defaultTarget) : '(no default)'}`);
  log.info(`Proxy API at ${addresses.api}/api/routes`);
  if (addresses.metrics) log.info(`Serve metrics at ${addresses.metrics}/metrics`);
  if (settings.redirect) log.info(`Added HTTP to HTTPS redirection from ${settings.redirect.port} to ${settings.redirect.to}`);

  if (settings.pidFile !== undefined) {
    try {
      writeFileSync(settings.pidFile, String(process.pid));
    } catch (error) {
      await close();
      throw new ProxyStartError(`cannot write the pid file: ${(error as Error).message}`);
    }
    pidFileWritten = true;
    log.info(`Writing pid ${process.pid} to ${settings.pidFile}`);
    // Also when the process ends some other way.
    process.once('exit', removePidFile);
  }
  return { proxy, routes, addresses, close };
}

function serverTls(option: string, args: TlsArgs, passphrase: string | undefined): HttpsServerOptions {
  return {
    key: readOptional(`${option}-key`, args.key),
    cert: readOptional(`${option}-cert`, args.cert),
    ca: readOptional(`${option}-ca`, args.ca),
    ...(passphrase ? { passphrase } : {}),
    requestCert: args.requestCert,
    rejectUnauthorized: args.rejectUnauthorized,
  };
}

function readOptional(option: string, file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ProxyStartError(`${option}: cannot read ${file}: ${(error as Error).message}`);
  }
}

function listen(server: Server, address: ListenAddress, label: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.removeListener('listening', onListening);
      reject(new ProxyStartError(`cannot listen for ${label} on ${where(address)}: ${explainListenError(error)}`));
    };
    const onListening = (): void => {
      server.removeListener('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    if ('socket' in address) server.listen(address.socket);
    else server.listen({ port: address.port, host: address.host });
  });
}

function explainListenError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'EADDRINUSE':
      return 'address already in use (EADDRINUSE): another program is listening there';
    case 'EACCES':
      return 'permission denied (EACCES): ports below 1024 need privileges';
    case 'EADDRNOTAVAIL':
      return 'address not available (EADDRNOTAVAIL): no network interface has that address';
    default:
      return error.message;
  }
}

function where(address: ListenAddress): string {
  if ('socket' in address) return address.socket;
  const host = address.host ?? '*';
  return `${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

function describe(server: Server, scheme: string): string {
  const address = server.address();
  if (typeof address === 'string') return `${scheme}+unix://${encodeURIComponent(address)}`;
  const { address: host, port } = address as AddressInfo;
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** CHP's redirect server: 301 to https on the same host name, or a 400 without a Host. */
function redirectHandler(httpsPort: number): RequestListener {
  return (req, res) => {
    const host = req.headers.host;
    if (host === undefined) {
      res.statusCode = 400;
      res.end(
        `This server is HTTPS-only on port ${httpsPort}, but an HTTP request was made and the host could not be determined from the request.`,
      );
      return;
    }
    const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? host);
    // A number, unlike CHP's string, so --redirect-to 443 gives https://host/ without ":443".
    const authority = httpsPort === 443 ? hostname : `${hostname}:${httpsPort}`;
    res.writeHead(301, { Location: `https://${authority}${req.url ?? '/'}` });
    res.end();
  };
}

/** CHP's metrics server: Prometheus text at /metrics, 404 elsewhere, no authentication. */
function metricsHandler(proxy: Proxy, routes: RouteTable): RequestListener {
  return (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404);
      res.end('Not Found');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(prometheusText(proxy.stats, routes.size));
  };
}
