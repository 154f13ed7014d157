/**
 * The headers a proxied request and its response carry, built from the raw header lists (no
 * header objects are made on the way through).
 *
 * To the target: the client's headers as sent, with the Host kept (CHP's rule, which Jupyter's
 * origin checks rely on), X-Forwarded-For/-Port/-Proto appended and X-Forwarded-Host set when absent,
 * then the configured custom headers, which win over the client's. Unlike CHP, the hop-by-hop
 * headers of the client's own connection (`Connection`, `Keep-Alive`, `Proxy-Connection`) and an
 * `Expect` the proxy has already answered are not passed on: a client's `Connection: close` would
 * otherwise close the pooled connection to the target after every request.
 *
 * To the client: the target's status and headers, minus the hop-by-hop headers of the upstream
 * connection; Node frames the body for the client's connection itself.
 */

import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import type { ForwardTarget } from './forward-target.js';

export interface RequestHeaderPolicy {
  /** Append X-Forwarded-For/-Port/-Proto and set X-Forwarded-Host. */
  xForward: boolean;
  /** Send the target's host as Host instead of the client's. */
  changeOrigin: boolean;
  /** Added last, replacing any client header of the same name (compared case-insensitively). */
  customHeaders: ReadonlyArray<readonly [name: string, value: string]>;
  /** Lower-cased names of `customHeaders`, to drop the client's versions. */
  customNames: ReadonlySet<string>;
}

/** What the raw headers say about the request body. */
export interface BodyInfo {
  /** A Content-Length above 0 or any Transfer-Encoding: the body must be streamed on. */
  hasBody: boolean;
}

/**
 * The header list for the upstream request of `req`, in `rawHeaders` form, and whether the request
 * has a body (in `body`). Comparisons go by name length first, so most headers are looked at once.
 */
export function upstreamRequestHeaders(
  req: IncomingMessage,
  target: ForwardTarget,
  policy: RequestHeaderPolicy,
  body: BodyInfo,
): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  let host: string | undefined;
  let forwardedFor: string | undefined;
  let forwardedPort: string | undefined;
  let forwardedProto: string | undefined;
  let forwardedHost: string | undefined;
  let hasLength = false;
  let hasBody = false;
  const replaceHost = policy.changeOrigin || policy.customNames.has('host');
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') {
          host ??= value;
          if (replaceHost) continue;
        }
        break;
      case 6:
        if (name.toLowerCase() === 'expect') continue;
        break;
      case 7: {
        const lower = name.toLowerCase();
        // A Trailer header without trailers wedges some servers (http-proxy-3 drops it too).
        if (lower === 'trailer' || lower === 'upgrade') continue;
        break;
      }
      case 10: {
        const lower = name.toLowerCase();
        if (lower === 'connection' || lower === 'keep-alive') continue;
        break;
      }
      case 14:
        if (name.toLowerCase() === 'content-length') {
          hasLength = true;
          if (value !== '0') hasBody = true;
        }
        break;
      case 15:
        if (policy.xForward && name.toLowerCase() === 'x-forwarded-for') {
          forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
          continue;
        }
        break;
      case 16: {
        const lower = name.toLowerCase();
        if (lower === 'proxy-connection') continue;
        if (policy.xForward && lower === 'x-forwarded-port') {
          forwardedPort = forwardedPort === undefined ? value : `${forwardedPort}, ${value}`;
          continue;
        }
        if (policy.xForward && lower === 'x-forwarded-host') {
          forwardedHost ??= value;
          continue;
        }
        break;
      }
      case 17: {
        const lower = name.toLowerCase();
        if (lower === 'transfer-encoding') {
          hasLength = true;
          hasBody = true;
        } else if (policy.xForward && lower === 'x-forwarded-proto') {
          forwardedProto = forwardedProto === undefined ? value : `${forwardedProto}, ${value}`;
          continue;
        }
        break;
      }
    }
    if (policy.customNames.size > 0 && policy.customNames.has(name.toLowerCase())) continue;
    out.push(name, value);
  }
  if (host === undefined || replaceHost) {
    // HTTP/1.0 clients may send no Host; the target still needs one (Node adds it the same way).
    if (!policy.customNames.has('host')) out.push('host', target.hostHeader);
  }
  if (policy.xForward) {
    const encrypted = isEncrypted(req);
    const address = req.socket.remoteAddress ?? '';
    const port = portOf(host) ?? (encrypted ? '443' : '80');
    const proto = encrypted ? 'https' : 'http';
    // A custom header of the same name replaces the computed one, as in CHP.
    const custom = policy.customNames;
    if (!custom.has('x-forwarded-for')) {
      out.push('x-forwarded-for', forwardedFor === undefined ? address : `${forwardedFor},${address}`);
    }
    if (!custom.has('x-forwarded-port')) {
      out.push('x-forwarded-port', forwardedPort === undefined ? port : `${forwardedPort},${port}`);
    }
    if (!custom.has('x-forwarded-proto')) {
      out.push('x-forwarded-proto', forwardedProto === undefined ? proto : `${forwardedProto},${proto}`);
    }
    if (!custom.has('x-forwarded-host')) out.push('x-forwarded-host', forwardedHost ?? host ?? '');
  }
  // http-proxy-3 gives a body-less DELETE or OPTIONS an explicit empty body, as some servers want.
  if (!hasLength && (req.method === 'DELETE' || req.method === 'OPTIONS')) out.push('content-length', '0');
  for (const [name, value] of policy.customHeaders) out.push(name, value);
  body.hasBody = hasBody;
  return out;
}

/**
 * The target's response headers for the client, in `rawHeaders` form: the upstream connection's
 * hop-by-hop headers go, Node frames the body for the client's connection itself, and each
 * Set-Cookie goes through `vetCookie` when given (its answer replaces it; undefined drops it). (The
 * list is copied, not filtered in place: Node builds the upstream response's header object from it
 * later, when the keep-alive pool asks.)
 */
export function clientResponseHeaders(raw: string[], vetCookie?: (setCookie: string) => string | undefined): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    let value = raw[i + 1] as string;
    if (name.length === 10 || name.length === 16 || name.length === 17) {
      const lower = name.toLowerCase();
      if (lower === 'connection' || lower === 'keep-alive' || lower === 'proxy-connection' || lower === 'transfer-encoding') {
        continue;
      }
      if (vetCookie !== undefined && lower === 'set-cookie') {
        const vetted = vetCookie(value);
        if (vetted === undefined) continue;
        value = vetted;
      }
    }
    out.push(name, value);
  }
  return out;
}

/**
 * The Location rewrite of CHP's `--auto-rewrite` / `--protocol-rewrite` (http-proxy-3's rule): for
 * 201/301/302/307/308 responses whose Location points at the target itself, the host becomes the
 * client's Host and/or the scheme the given protocol. Returns the new Location, or undefined.
 */
export function rewriteLocation(
  location: string,
  status: number,
  target: ForwardTarget,
  clientHost: string | undefined,
  autoRewrite: boolean,
  protocolRewrite: string | undefined,
): string | undefined {
  if (status !== 201 && status !== 301 && status !== 302 && status !== 307 && status !== 308) return undefined;
  let url: URL;
  try {
    url = new URL(location, 'http://lectern.invalid');
  } catch {
    return undefined;
  }
  if (url.host !== target.hostHeader) return undefined;
  if (autoRewrite && clientHost !== undefined) url.host = clientHost;
  if (protocolRewrite !== undefined) url.protocol = protocolRewrite;
  return url.toString();
}

/** The port a Host header names, if any (`[::1]:8000` → `8000`). */
function portOf(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  const colon = host.lastIndexOf(':');
  if (colon === -1 || colon < host.lastIndexOf(']')) return undefined;
  const port = host.slice(colon + 1);
  return /^\d+$/.test(port) ? port : undefined;
}

function isEncrypted(req: IncomingMessage): boolean {
  return req.socket instanceof TLSSocket && req.socket.encrypted;
}
