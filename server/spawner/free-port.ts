import { createServer } from 'node:net';

/**
 * A port that is free on loopback right now. Another process could take it before the server binds
 * it; the spawner then sees the server exit early and reports it, as JupyterHub's random_port does.
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
