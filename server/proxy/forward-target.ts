/**
 * A route's target, parsed once into what forwarding needs, instead of a URL parse per request.
 */

/** Where and how to connect for one route target. */
export interface ForwardTarget {
  /** The route's target string this was parsed from (a route whose target changed is re-parsed). */
  readonly source: string;
  /** TLS to the target (`https:` or `wss:`). */
  readonly secure: boolean;
  /** The host to connect to, IPv6 brackets removed; `localhost` for a UNIX socket. */
  readonly hostname: string;
  readonly port: number;
  /** The socket of an `http+unix://` target. */
  readonly socketPath: string | undefined;
  /** The target's `host[:port]`, for `--change-origin` and HTTP/1.0 requests without a Host. */
  readonly hostHeader: string;
  /** The target URL's own path and query, joined before the request's when prepending paths. */
  readonly basePath: string;
  /** The target as http-proxy-3 wants it for websockets (with `socketPath` for UNIX sockets). */
  readonly wsTarget: URL & { socketPath?: string };
}

/**
 * Parses a target URL: `http:`/`ws:` and `https:`/`wss:` (http-proxy-3 would pick clear text for a
 * `wss:` target on a plain request; here the scheme decides TLS for both), or CHP's
 * `http+unix://<percent-encoded socket path>/base`. Throws a TypeError for anything else.
 */
export function parseForwardTarget(source: string): ForwardTarget {
  const url = new URL(source);
  const protocol = url.protocol;
  const wsTarget: URL & { socketPath?: string } = new URL(source);
  let socketPath: string | undefined;
  let secure = false;
  if (protocol === 'http+unix:' || protocol === 'unix+http:') {
    socketPath = decodeURIComponent(url.hostname);
    wsTarget.socketPath = socketPath;
  } else if (protocol === 'https:' || protocol === 'wss:') {
    secure = true;
  } else if (protocol !== 'http:' && protocol !== 'ws:') {
    throw new TypeError(`unsupported target protocol ${protocol}`);
  }
  if (url.hostname === '') throw new TypeError('target has no host');
  const bracketed = url.hostname.startsWith('[') && url.hostname.endsWith(']');
  const defaultPort = secure ? 443 : 80;
  return {
    source,
    secure,
    hostname: socketPath !== undefined ? 'localhost' : bracketed ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port === '' ? defaultPort : Number(url.port),
    socketPath,
    hostHeader: socketPath !== undefined ? 'localhost' : url.host,
    basePath: `${url.pathname || '/'}${url.search}`,
    wsTarget,
  };
}
