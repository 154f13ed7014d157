import { createServer } from 'node:net';

/**
 * A port that is free on loopback right now. Another process could take it before the server binds
 * it: the server then exits at once, and `loopbackPortTaken` tells why.
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

/** Whether another program now listens at `url`'s loopback port (`http://127.0.0.1:PORT`). */
export function loopbackPortTaken(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE'));
    server.listen(Number(new URL(url).port), '127.0.0.1', () => server.close(() => resolve(false)));
  });
}
