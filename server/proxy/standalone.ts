/**
 * Lectern's proxy on its own (`lectern proxy`, a drop-in for configurable-http-proxy): the proxy,
 * CHP's REST API for its routes, and CHP's optional metrics and HTTP-to-HTTPS redirect servers, all
 * started or none, with a pid file. The command line that asks for them is cli/proxy-args.ts.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import { type Logger, scrubUrl } from '../logging/logger.js';
import { closeServer, listen, ListenError, listenerUrl, type ListenAddress } from '../net/listen.js';
import { Proxy, type ProxyOptions } from './proxy.js';
import { prometheusText } from './proxy-stats.js';
import { createPublicListener } from './public-listener.js';
import { createRouteApi } from './route-api.js';
import { RouteTable } from './route-table.js';

/** TLS files and switches, as given (files are read at start). */
export interface TlsArgs {
  key?: string | undefined;
  cert?: string | undefined;
  ca?: string | undefined;
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

/** CHP's default cipher list: modern suites first, no RC4 unless asked. */
export function chpCipherList(allowRc4: boolean): string {
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

/** What the standalone proxy serves, and where: checked, with no file read yet. */
export interface StandaloneProxySettings {
  listen: ListenAddress;
  api: ListenAddress;
  metrics: ListenAddress | undefined;
  redirect: { port: number; to: number } | undefined;
  pidFile: string | undefined;
  defaultTarget: string | undefined;
  authToken: string | undefined;
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
export async function startStandaloneProxy(settings: StandaloneProxySettings, log: Logger): Promise<RunningProxy> {
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
      ciphers: settings.ssl?.ciphers ?? chpCipherList(false),
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
    await Promise.all(
      servers.map(({ server, address, label }) =>
        listen(server, address, label).catch((error: unknown) => {
          throw error instanceof ListenError ? new ProxyStartError(error.message) : error;
        }),
      ),
    );
  } catch (error) {
    await close();
    throw error;
  }
  for (const { server, label } of servers) {
    server.on('error', (error) => log.error(`${label}: ${(error as Error).message}`));
  }

  const scheme = tls ? 'https' : 'http';
  const addresses = {
    proxy: listenerUrl(publicServer, scheme),
    api: listenerUrl(apiServer, apiTls ? 'https' : 'http'),
    metrics: settings.metrics ? listenerUrl(servers[2]?.server as Server, 'http') : undefined,
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
