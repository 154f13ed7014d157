/**
 * A real hub for integration tests: port 0 on loopback, a temp data dir, an admin service token,
 * and every log line captured so tests can check what was (and was not) logged.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ConfigOverrides } from '../../server/config/load.js';
import type { LecternConfig } from '../../server/config/schema.js';
import { startHub, type RunningHub, type StartOptions } from '../../server/index.js';
import { createLogger } from '../../server/logging/logger.js';
import { HttpClient } from './http-client.js';
import { ResponseRecorder } from './openapi.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface TestHub {
  hub: RunningHub;
  config: LecternConfig;
  dataDir: string;
  origin: string;
  logLines: string[];
  /** Calls the REST API with the admin service token. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** Creates a user with a password through the API. */
  addUser(name: string, password: string, admin?: boolean): Promise<void>;
  client(): HttpClient;
  /** Every API response made through `api()` and `client()`, checked against the OpenAPI description. */
  recorder: ResponseRecorder;
  /** Stops the hub; throws if any recorded API response did not match the OpenAPI description. */
  stop(): Promise<void>;
}

export async function startTestHub(overrides: ConfigOverrides = {}, options: StartOptions = {}): Promise<TestHub> {
  const dataDir = await mkdtemp(join(tmpdir(), 'lectern-test-'));
  const { config } = await loadConfig({
    env: {},
    overrides: deepMerge(
      {
        dataDir,
        logLevel: 'debug',
        network: { ip: '127.0.0.1', port: 0, serverPorts: '0' },
        services: [{ name: 'test-admin', apiToken: ADMIN_TOKEN, admin: true }],
        spawner: { stopTimeouts: { interrupt: 3, terminate: 2, kill: 2 } },
      },
      overrides,
    ),
  });
  const logLines: string[] = [];
  const log = createLogger({ level: 'debug', sink: (line) => logLines.push(line) });
  const hub = await startHub(config, { log, ...options });
  const origin = new URL(hub.url).origin;
  const recorder = new ResponseRecorder(`${hub.url}hub/api`);
  const api = async (path: string, init: RequestInit = {}) => {
    const url = `${hub.url}hub/api${path}`;
    const response = await fetch(url, {
      ...init,
      headers: { Authorization: `token ${ADMIN_TOKEN}`, ...(init.headers as Record<string, string>) },
    });
    recorder.record(init.method ?? 'GET', url, response);
    return response;
  };
  return {
    hub,
    config,
    dataDir,
    origin,
    logLines,
    api,
    async addUser(name, password, admin = false) {
      const response = await api(`/users/${name}`, { method: 'POST', body: JSON.stringify({ password, admin }) });
      if (response.status !== 201) throw new Error(`creating ${name}: ${response.status} ${await response.text()}`);
    },
    client: () => new HttpClient(origin, recorder),
    recorder,
    async stop() {
      await hub.dispose();
      await rm(dataDir, { recursive: true, force: true });
      // Checked last, so a mismatch fails the test without leaving a hub or a temp dir behind.
      await recorder.settled();
      const problems = recorder.problems();
      if (problems.length > 0) {
        throw new Error(`API responses that do not match server/hub/api/openapi.yaml:\n  ${problems.join('\n  ')}`);
      }
    },
  };
}

/** Config overrides that run a fake server (see test/fixtures/servers/fake-server.mjs) in `mode`. */
export function fakeServer(mode: 'ok' | 'never-ready' | 'crash' | 'port-taken-once', extra: ConfigOverrides = {}): ConfigOverrides {
  return {
    spawner: {
      command: [process.execPath, join(projectRoot(), 'test/fixtures/servers/fake-server.mjs')],
      environment: { FAKE_SERVER_MODE: mode },
      ...extra,
    },
  };
}

export function projectRoot(): string {
  // dist/test/helpers → project root (tests run compiled), or test/helpers when run from source.
  const here = new URL('.', import.meta.url).pathname;
  return here.includes('/dist/') ? join(here, '../../..') : join(here, '../..');
}

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current)
        ? deepMerge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}
