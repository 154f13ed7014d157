/**
 * Opening and closing listeners, for the hub and for `lectern proxy` alike: one way to start
 * listening, with a refusal that says what to do in words, one way to stop, and one way to say
 * where a listener is.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A TCP address (`host` undefined: every interface), or a Unix socket's path. */
export type ListenAddress = { socket: string } | { host: string | undefined; port: number };

/** A listener that could not open, with the reason in words and what to do about it. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
}

/** Starts `server` listening at `address`; rejects with a ListenError naming `what` it is for. */
export function listen(server: Server, address: ListenAddress, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.removeListener('listening', onListening);
      reject(new ListenError(`Cannot listen for ${what} on ${where(address)}: ${explain(error)}`));
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

function explain(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'EADDRINUSE':
      return 'address already in use (EADDRINUSE): another program is listening there. Stop it, or choose another port.';
    case 'EACCES':
      return 'permission denied (EACCES): ports below 1024 need administrator rights. Choose a port above 1024, such as 8000.';
    case 'EADDRNOTAVAIL':
      return 'address not available (EADDRNOTAVAIL): no network interface of this machine has that address. Use one it has, or 0.0.0.0 for all.';
    default:
      return error.message;
  }
}

function where(address: ListenAddress): string {
  if ('socket' in address) return address.socket;
  const host = address.host ?? '*';
  return `${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/** Where a listening server is, as a URL: `http://127.0.0.1:8000`, or `http+unix://…` for a socket. */
export function listenerUrl(server: Server, scheme: string): string {
  const address = server.address();
  if (typeof address === 'string') return `${scheme}+unix://${encodeURIComponent(address)}`;
  const { address: host, port } = address as AddressInfo;
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Stops listening and ends every connection; resolves once closed (at once if it never listened). */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
