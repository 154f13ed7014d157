/**
 * A real nginx (Debian's, installed by `scripts/setup.sh --for-tests`) in front of a hub, as a
 * school's reverse proxy would be, or to make the hub see requests as a classroom LAN delivers them.
 *
 * `frontPorts` listens on 127.0.0.2 at each port given and forwards to 127.0.0.1 at the same port
 * (the hub's and its servers' origins keep their port numbers), removing the `Sec-Fetch-*` headers:
 * Chromium sends them to loopback, and browsers on a plain-HTTP LAN address do not, so through
 * this front the hub must hold without them. `frontPath` serves a hub at a path (`/jupyter/`), as
 * the seed's deployment does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX = '/usr/sbin/nginx';
export const FRONT_HOST = '127.0.0.2';

export interface Nginx {
  stop(): Promise<void>;
}

const FORWARDING = `
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_buffering off;
      proxy_read_timeout 3600s;
      client_max_body_size 0;`;

const WITHOUT_FETCH_METADATA = `
      proxy_set_header Sec-Fetch-Site "";
      proxy_set_header Sec-Fetch-Mode "";
      proxy_set_header Sec-Fetch-Dest "";
      proxy_set_header Sec-Fetch-User "";`;

/** nginx at 127.0.0.2:`port` for each of `ports`, forwarding to 127.0.0.1:`port`, without Sec-Fetch-* headers. */
export function frontPorts(ports: readonly number[]): Promise<Nginx> {
  return startNginx(`
    server {
${ports.map((port) => `      listen ${FRONT_HOST}:${port};`).join('\n')}
      location / {
        proxy_pass http://127.0.0.1:$server_port;${FORWARDING}${WITHOUT_FETCH_METADATA}
      }
    }`);
}

/** nginx at 127.0.0.2:`port`, serving the hub at 127.0.0.1:`hubPort` under `path` (`/jupyter/`), as a school's reverse proxy. */
export function frontPath(port: number, path: string, hubPort: number): Promise<Nginx> {
  return startNginx(`
    server {
      listen ${FRONT_HOST}:${port};
      location ${path} {
        proxy_pass http://127.0.0.1:${hubPort};${FORWARDING}
        proxy_set_header X-Forwarded-Proto $scheme;
      }
    }`);
}

async function startNginx(servers: string): Promise<Nginx> {
  const dir = await mkdtemp(join(tmpdir(), 'lectern-nginx-'));
  for (const temp of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, temp));
  await writeFile(
    join(dir, 'nginx.conf'),
    `daemon off;
master_process off;
error_log ${join(dir, 'error.log')} warn;
pid ${join(dir, 'nginx.pid')};
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
${servers}
}
`,
  );
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // nginx writes its pid file once it listens.
  for (let tries = 0; ; tries++) {
    if (child.exitCode !== null) throw new Error(`nginx did not start: ${stderr}${await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')}`);
    if ((await readFile(join(dir, 'nginx.pid'), 'utf8').catch(() => '')).trim() !== '') break;
    if (tries > 200) throw new Error('nginx did not start within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `count` consecutive ports free on both 127.0.0.1 and 127.0.0.2, for a hub and its servers behind a front. */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = 20_000 + Math.floor(Math.random() * 30_000);
    const ports = Array.from({ length: count }, (_, i) => first + i);
    const free = await Promise.all(ports.flatMap((port) => ['127.0.0.1', FRONT_HOST].map((host) => canListen(host, port))));
    if (free.every(Boolean)) return first;
  }
  throw new Error(`found no ${count} free consecutive ports`);
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}
