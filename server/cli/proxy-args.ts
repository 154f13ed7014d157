/**
 * `lectern proxy`'s command line: configurable-http-proxy 5.3's options (every one JupyterHub 3.0
 * passes, and the rest), checked into the settings the standalone proxy (proxy/standalone.ts)
 * starts with. Nothing is read or started here.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LOG_LEVELS, type LogLevel } from '../logging/logger.js';
import type { ListenAddress } from '../net/listen.js';
import { chpCipherList, type StandaloneProxySettings, type TlsArgs } from '../proxy/standalone.js';

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

/** Everything the command line asks for, checked but with no file read and nothing started. */
export interface ProxySettings extends StandaloneProxySettings {
  help: boolean;
  version: boolean;
  logLevel: LogLevel;
  /** Warnings to log once the logger exists. */
  warnings: string[];
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
          ciphers: values['ssl-ciphers'] ?? chpCipherList(values['ssl-allow-rc4'] ?? false),
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
