import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Database } from '../../../server/store/database.js';
import { StoreError } from '../../../server/store/errors.js';
import { type Migration, migrations } from '../../../server/store/migrations.js';

let root: string;
let counter = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'lectern-migrations-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const freshFile = (): string => join(root, `case-${++counter}`, 'lectern.db');
const now = (): string => new Date().toISOString();
const userVersion = (db: Database): number | undefined =>
  db.get<{ user_version: number }>('PRAGMA user_version')?.user_version;
const count = (db: Database, table: string): number | undefined =>
  db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`)?.n;
const columns = (db: Database, table: string): string[] =>
  db.all<{ name: string }>(`PRAGMA table_info(${table})`).map((column) => column.name);

const logTable: Migration = { version: 1, description: 'log', sql: 'CREATE TABLE log (entry TEXT NOT NULL);' };
const logTwo: Migration = { version: 2, description: 'second entry', sql: "INSERT INTO log VALUES ('two');" };

describe("Lectern's migrations", () => {
  it('are numbered 1, 2, 3… and described', () => {
    migrations.forEach((migration, index) => {
      assert.equal(migration.version, index + 1);
      assert.ok(migration.description.length > 0);
    });
  });

  it('build the schema on a new database', async () => {
    const db = await Database.open(freshFile());
    assert.equal(userVersion(db), migrations.at(-1)?.version);
    assert.deepEqual(columns(db, 'users'), [
      'id',
      'name',
      'admin',
      'password_hash',
      'created',
      'last_activity',
      'display_name',
      'must_change_password',
      'approved',
    ]);
    assert.deepEqual(columns(db, 'login_links'), ['id', 'user_id', 'hash', 'created', 'expires_at', 'used_at']);
    assert.deepEqual(columns(db, 'settings'), ['name', 'value']);
    assert.deepEqual(columns(db, 'sessions'), ['id', 'user_id', 'hash', 'created', 'expires_at', 'last_activity']);
    assert.deepEqual(columns(db, 'oauth_clients'), [
      'identifier',
      'secret_hash',
      'redirect_uri',
      'description',
      'allowed_scopes',
      'user_id',
    ]);
    assert.deepEqual(columns(db, 'api_tokens'), [
      'id',
      'hash',
      'prefix',
      'kind',
      'user_id',
      'service_name',
      'scopes',
      'note',
      'oauth_client_id',
      'session_id',
      'created',
      'expires_at',
      'last_activity',
    ]);
    assert.deepEqual(columns(db, 'servers'), [
      'id',
      'user_id',
      'name',
      'url',
      'state',
      'user_options',
      'started',
      'last_activity',
      'origin_port',
    ]);
    assert.deepEqual(
      db.all<{ name: string }>('PRAGMA index_list(servers)').some((index) => index.name === 'servers_origin_port'),
      true,
      'no two servers share an origin',
    );
    assert.deepEqual(
      db.all<{ name: string }>('PRAGMA index_list(api_tokens)').some((index) => index.name === 'api_tokens_prefix'),
      true,
    );
    await db.close();
  });

  it('enforce the constraints and cascades the repositories rely on', async () => {
    const db = await Database.open(freshFile());
    const user = db.run('INSERT INTO users (name, created) VALUES (?, ?)', ['ann', now()]).lastInsertRowid;
    const session = db.run("INSERT INTO sessions (user_id, hash, created, expires_at) VALUES (?, 's', ?, ?)", [
      user,
      now(),
      now(),
    ]).lastInsertRowid;
    db.run(
      "INSERT INTO oauth_clients (identifier, secret_hash, redirect_uri, description, user_id) VALUES ('c', 'x', '/r', 'd', ?)",
      [user],
    );
    const token = (hash: string, kind: string, links: { client?: string; session?: number } = {}) =>
      db.run(
        'INSERT INTO api_tokens (hash, prefix, kind, user_id, oauth_client_id, session_id, created) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [hash, hash.slice(0, 4), kind, user, links.client ?? null, links.session ?? null, now()],
      );
    token('api-token', 'api');
    token('oauth-token', 'oauth', { client: 'c' });
    token('session-token', 'oauth', { session });
    assert.throws(() => token('bad-kind', 'root'), /CHECK/);
    assert.throws(() => token('api-token', 'api'), /UNIQUE/);

    db.run('INSERT INTO servers (user_id) VALUES (?)', [user]);
    assert.throws(() => db.run('INSERT INTO servers (user_id) VALUES (?)', [user]), /UNIQUE/);
    assert.deepEqual(db.get('SELECT name, state, user_options FROM servers'), { name: '', state: '{}', user_options: '{}' });

    db.run('DELETE FROM sessions WHERE id = ?', [session]);
    assert.equal(count(db, 'api_tokens'), 2, "a session's tokens go with it");
    db.run("DELETE FROM oauth_clients WHERE identifier = 'c'");
    assert.equal(count(db, 'api_tokens'), 1, "a client's tokens go with it");
    db.run('DELETE FROM users WHERE id = ?', [user]);
    for (const table of ['api_tokens', 'servers', 'sessions', 'oauth_clients']) assert.equal(count(db, table), 0, table);
    await db.close();
  });
});

describe('applying migrations', () => {
  it('runs each step once and records it in user_version', async () => {
    const file = freshFile();
    const first = await Database.open(file, { migrations: [logTable, logTwo] });
    assert.equal(userVersion(first), 2);
    assert.equal(count(first, 'log'), 1);
    await first.close();

    const second = await Database.open(file, { migrations: [logTable, logTwo] });
    assert.equal(count(second, 'log'), 1, 'nothing ran twice');
    await second.close();
  });

  it('runs only the new steps on an older database, after backing it up', async () => {
    const file = freshFile();
    const old = await Database.open(file, { migrations: [logTable] });
    old.run("INSERT INTO log VALUES ('one')");
    await old.close();
    const before = await readFile(file);

    const upgraded = await Database.open(file, { migrations: [logTable, logTwo] });
    assert.equal(userVersion(upgraded), 2);
    assert.deepEqual(
      upgraded.all<{ entry: string }>('SELECT entry FROM log').map((row) => row.entry),
      ['one', 'two'],
    );
    await upgraded.close();
    assert.deepEqual(await readFile(`${file}.v1.bak`), before);
  });

  it('leaves the database as it was when a step fails', async () => {
    const file = freshFile();
    await (await Database.open(file, { migrations: [logTable] })).close();
    const broken: Migration = {
      version: 2,
      description: 'half right',
      sql: "CREATE TABLE extra (x); INSERT INTO log VALUES ('partial'); INSERT INTO missing VALUES (1);",
    };
    await assert.rejects(Database.open(file, { migrations: [logTable, broken] }), /missing/);

    const db = await Database.open(file, { migrations: [logTable] });
    assert.equal(userVersion(db), 1);
    assert.equal(count(db, 'log'), 0);
    assert.equal(db.get("SELECT name FROM sqlite_master WHERE name = 'extra'"), undefined);
    await db.close();
  });

  it('refuses a database created by a newer Lectern', async () => {
    const file = freshFile();
    await (await Database.open(file, { migrations: [logTable, logTwo] })).close();
    const before = await readFile(file);
    await assert.rejects(Database.open(file, { migrations: [logTable] }), (error: unknown) => {
      assert.ok(error instanceof StoreError);
      assert.match(error.message, /created by a newer Lectern/);
      assert.ok(error.message.includes(file));
      return true;
    });
    assert.deepEqual(await readFile(file), before, 'the newer file is left untouched');
  });

  it('rejects a list that is out of order or has gaps', async () => {
    await assert.rejects(Database.open(freshFile(), { migrations: [logTwo] }), /1, 2, 3/);
    await assert.rejects(Database.open(freshFile(), { migrations: [logTable, { ...logTwo, version: 3 }] }), /1, 2, 3/);
  });
});
