/**
 * The server lifecycle on its own, with a spawner that starts no Jupyter (its "server" is a small
 * HTTP listener in this process, or nothing at all): phases and progress, the start line, routes
 * and credentials, a start stopped on purpose, one that failed, and a server that died. The same
 * paths with real servers are in test/integration/server-lifecycle.test.ts.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../../server/config/load.js';
import { HubUrls } from '../../../server/hub/urls.js';
import { silentLogger } from '../../../server/logging/logger.js';
import { RouteTable } from '../../../server/proxy/route-table.js';
import { ServerManager } from '../../../server/servers/server-manager.js';
import type { ProgressEvent, ServerState } from '../../../server/servers/server-state.js';
import type { SpawnContext, Spawner } from '../../../server/spawner/spawner.js';
import { Database } from '../../../server/store/database.js';
import { OAuthClientRepository } from '../../../server/store/oauth-clients.js';
import { ServerRepository } from '../../../server/store/servers.js';
import { TokenRepository } from '../../../server/store/tokens.js';
import { UserRepository, type UserRecord } from '../../../server/store/users.js';

type Behaviour = 'answers' | 'exits at start' | 'never answers';

/** A spawner whose server is a listener in this process that answers 200, or one that never comes up. */
class FakeSpawner implements Spawner {
  onExit: Spawner['onExit'];
  readonly state = {};
  readonly sandbox = null;
  /** Set by a test that samples usage: a real process's to measure. */
  pid: number | undefined;
  stopped = false;
  private listener: Server | undefined;

  constructor(
    private readonly behaviour: Behaviour,
    readonly context: SpawnContext,
  ) {}

  async start(): Promise<string> {
    if (this.behaviour === 'exits at start') setTimeout(() => this.onExit?.(1, null), 20);
    if (this.behaviour !== 'answers') return nothingListensAt;
    this.listener = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => this.listener?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.listener.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.close();
  }

  /** The server's process ends on its own. */
  async die(): Promise<void> {
    await this.close();
    this.onExit?.(null, 'SIGKILL');
  }

  adopt(): Promise<string> {
    throw new Error('not used');
  }

  poll(): Promise<number | null> {
    return Promise.resolve(null);
  }

  private async close(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    if (listener) await new Promise((resolve) => listener.close(resolve));
  }
}

/** A loopback address nothing listens at: a probe there is refused at once. */
let nothingListensAt = '';

describe('the server manager, with a fake spawner', () => {
  let dataDir: string;
  let db: Database;
  let users: UserRepository;
  let routes: RouteTable;
  let manager: ServerManager;
  const states: ServerState[] = [];
  const spawners: FakeSpawner[] = [];
  /** How the next servers behave, by user. */
  const behaviours = new Map<string, Behaviour>();

  before(async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    nothingListensAt = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise((resolve) => probe.close(resolve));

    dataDir = await mkdtemp(join(tmpdir(), 'lectern-server-manager-'));
    const { config } = await loadConfig({ env: {}, overrides: { dataDir, spawner: { concurrentSpawnLimit: 2, startTimeout: 30 } } });
    db = await Database.open(join(dataDir, 'lectern.sqlite'), { log: silentLogger });
    users = new UserRepository(db);
    routes = new RouteTable();
    const create = (context: SpawnContext) => {
      const spawner = new FakeSpawner(behaviours.get(context.user) ?? 'answers', context);
      spawners.push(spawner);
      return spawner;
    };
    manager = new ServerManager({
      config,
      db,
      users,
      tokens: new TokenRepository(db),
      oauthClients: new OAuthClientRepository(db),
      servers: new ServerRepository(db),
      routes,
      urls: new HubUrls('/'),
      hubApiUrl: () => 'http://127.0.0.1:1/hub/api',
      log: silentLogger,
      metrics: { observeSpawn: () => undefined },
      spawners: { prepare: async () => ({ mode: 'singleuser', sandbox: null, create }), forAdoption: create, close: async () => undefined },
      origins: undefined,
      gate: { protect: () => undefined, unprotect: () => undefined },
      events: { serverChanged: (state) => states.push(state), usageSampled: () => undefined },
    });
  });

  after(async () => {
    await manager.stopAll();
    await db.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const student = (name: string): UserRecord => users.find(name) ?? users.create({ name, admin: false, passwordHash: null });
  const phases = (name: string) => states.filter((state) => state.user === name).map((state) => state.phase);
  const progress = (user: UserRecord): Promise<ProgressEvent[]> =>
    new Promise((resolve) => {
      const seen: ProgressEvent[] = [];
      const stop = manager.subscribe(user, '', (event) => {
        seen.push(event);
        if (event.ready || event.failed) {
          queueMicrotask(() => stop());
          resolve(seen);
        }
      });
    });

  it('starts a server: spawning then running, its route added, its progress told to the end', async () => {
    const ann = student('ann');
    const started = manager.start(ann);
    const events = progress(ann);
    await started;
    assert.deepEqual(phases('ann'), ['spawning', 'running']);
    assert.equal(manager.view(ann).phase, 'running');
    assert.ok(routes.list().some((route) => route.prefix === '/user/ann' && route.data.user === 'ann'), 'the proxy routes to it');
    const messages = (await events).map((event) => event.message);
    assert.deepEqual(messages.slice(0, 2), ['Server requested', 'Spawning server...']);
    assert.match(messages.at(-1) ?? '', /^Server ready at \/user\/ann\/$/);
    await manager.start(ann);
    assert.equal(spawners.filter((spawner) => spawner.context.user === 'ann').length, 1, 'a running server is not started twice');
  });

  it('starts no more than the start limit at once, telling the others their place in line', async () => {
    const names = ['ben', 'cy', 'dee', 'eve'];
    for (const name of names) behaviours.set(name, 'never answers');
    for (const name of names) void manager.start(student(name)).catch(() => undefined);
    const waiting = (name: string) => manager.view(student(name)).events.some((event) => /number \d+ in line/.test(event.message ?? ''));
    assert.deepEqual(names.map(waiting), [false, false, true, true], 'two start, two wait');
    assert.match(manager.view(student('eve')).events.at(-1)?.message ?? '', /number 2 in line/);
    // Stopping a start that never answers frees its slot: the next in line goes ahead.
    await manager.stop(student('ben'));
    assert.equal(manager.view(student('ben')).phase, 'stopped');
    assert.equal(manager.view(student('ben')).failure, null, 'stopped on purpose is not a failure');
    await Promise.all(['cy', 'dee', 'eve'].map((name) => manager.stop(student(name))));
    assert.ok(spawners.filter((spawner) => names.includes(spawner.context.user)).every((spawner) => spawner.stopped));
  });

  it('reports a server that exits before it is ready as a failed start, with no route left', async () => {
    behaviours.set('fay', 'exits at start');
    const fay = student('fay');
    const events = progress(fay);
    await assert.rejects(manager.start(fay), /exited \(exit code 1\) before it was ready/);
    assert.equal(manager.view(fay).phase, 'stopped');
    assert.match(manager.view(fay).failure ?? '', /exited \(exit code 1\)/);
    assert.equal((await events).at(-1)?.failed, true);
    assert.ok(!routes.list().some((route) => route.prefix === '/user/fay'));
  });

  it('notices a running server that died: route gone, and the student told they can start it again', async () => {
    const gus = student('gus');
    await manager.start(gus);
    await spawners.find((spawner) => spawner.context.user === 'gus')?.die();
    assert.equal(manager.view(gus).phase, 'stopped');
    assert.match(manager.view(gus).failure ?? '', /stopped unexpectedly \(killed by SIGKILL\)\. You can start it again/);
    assert.ok(!routes.list().some((route) => route.prefix === '/user/gus'));
  });

  it('moves its revision on with every change the API shows of a server: each phase, and each usage sample', async () => {
    const moved = async (act: () => unknown): Promise<boolean> => {
      const before = manager.revision;
      await act();
      return manager.revision !== before;
    };
    // A teacher's: the sample below measures this very process, whose priority is lowered only for students.
    const jo = users.create({ name: 'jo', admin: true, passwordHash: null });
    let started: Promise<void> | undefined;
    assert.equal(await moved(() => void (started = manager.start(jo))), true, 'spawning');
    assert.equal(await moved(() => started), true, 'running');
    const spawner = spawners.find((candidate) => candidate.context.user === 'jo');
    assert.ok(spawner);
    spawner.pid = process.pid;
    assert.equal(await moved(() => manager.sampleUsage()), true, 'a usage sample');
    assert.notEqual(manager.view(jo).usage, null);
    assert.equal(await moved(() => manager.view(jo)), false, 'reading');
    assert.equal(await moved(() => manager.stop(jo)), true, 'stopped');
    assert.equal(await moved(() => manager.sampleUsage()), true, 'the usage of a stopped server forgotten');
    assert.equal(manager.view(jo).usage, null);
  });

  it('stops every server at once as the hub quits', async () => {
    await Promise.all(['hal', 'ivy'].map((name) => manager.start(student(name))));
    await manager.stopAll();
    for (const name of ['ann', 'hal', 'ivy']) assert.equal(manager.view(student(name)).phase, 'stopped', name);
    assert.equal(routes.list().filter((route) => route.data.user !== undefined).length, 0);
  });
});
