import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileAtomic } from '../../../server/store/atomic-file.js';
import { Database } from '../../../server/store/database.js';
import { StoreError } from '../../../server/store/errors.js';
import { QUIET_MS } from '../../../server/store/export-garbage.js';
import { exited, firstLine, startFixture } from '../../fixtures/store/child-process.js';

let root: string;
let counter = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'lectern-db-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh path per test: the database's folder does not exist yet. */
const freshFile = (): string => join(root, `case-${++counter}`, 'lectern.db');

/** Writes through the real atomic writer, counting writes and able to hold one in flight. */
function countingWriter() {
  const state = {
    writes: 0,
    gate: undefined as Promise<void> | undefined,
    async writeFile(path: string, data: Uint8Array): Promise<void> {
      state.writes++;
      if (state.gate) await state.gate;
      await writeFileAtomic(path, data);
    },
  };
  return state;
}

const now = (): string => new Date().toISOString();
const addUser = (db: Database, name: string) =>
  db.run('INSERT INTO users (name, created) VALUES (?, ?)', [name, now()]);
const userNames = (db: Database): string[] =>
  db.all<{ name: string }>('SELECT name FROM users ORDER BY id').map((row) => row.name);

describe('Database', () => {
  it('round-trips through a real file, creating a user-only folder and file', async () => {
    const file = freshFile();
    const db = await Database.open(file);
    addUser(db, 'ann');
    addUser(db, 'bob');
    await db.commit();
    await db.close();
    if (process.platform !== 'win32') {
      assert.equal((await stat(join(file, '..'))).mode & 0o777, 0o700);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
    }

    const again = await Database.open(file);
    assert.deepEqual(userNames(again), ['ann', 'bob']);
    await again.close();
  });

  it('runs statements with positional or named parameters and reports what changed', async () => {
    const db = await Database.open(freshFile());
    const first = addUser(db, 'ann');
    const second = db.run('INSERT INTO users (name, admin, created) VALUES (:name, :admin, :created)', {
      ':name': 'teacher',
      ':admin': 1,
      ':created': now(),
    });
    assert.equal(first.changes, 1);
    assert.equal(second.lastInsertRowid, first.lastInsertRowid + 1);
    assert.deepEqual(db.get('SELECT name, admin, password_hash FROM users WHERE name = $name', { $name: 'teacher' }), {
      name: 'teacher',
      admin: 1,
      password_hash: null,
    });
    assert.equal(db.get('SELECT * FROM users WHERE name = ?', ['nobody']), undefined);
    assert.deepEqual(db.all('SELECT id FROM users WHERE id < 0'), []);
    assert.equal(db.run('UPDATE users SET admin = 1').changes, 2);
    assert.throws(() => addUser(db, 'ann'), /UNIQUE/);
    await db.close();
  });

  it('refuses a file that is not a database, naming it and saying what to do', async () => {
    const file = freshFile();
    await mkdir(join(file, '..'));
    const garbage = 'this is not an SQLite database\n'.repeat(200);
    await writeFile(file, garbage);
    await assert.rejects(Database.open(file), (error: unknown) => {
      assert.ok(error instanceof StoreError);
      assert.match(error.message, /damaged/);
      assert.ok(error.message.includes(file));
      assert.match(error.message, /backup/);
      return true;
    });
    assert.equal(await readFile(file, 'utf8'), garbage, 'a refused file is left untouched');
  });

  it('refuses a database with damaged pages, and an empty file', async () => {
    const file = freshFile();
    const db = await Database.open(file);
    for (let i = 0; i < 500; i++) addUser(db, `student-${i}-${'x'.repeat(100)}`);
    await db.close();
    const data = await readFile(file);
    data.fill(0x5a, 4096 * 3, 4096 * 3 + 2000);
    await writeFile(file, data);
    await assert.rejects(Database.open(file), /damaged/);

    await writeFile(file, '');
    await assert.rejects(Database.open(file), /damaged \(the file is empty\)/);
  });

  it('keeps foreign keys on after a commit (the connection pragmas are re-applied after export)', async () => {
    const db = await Database.open(freshFile());
    const { lastInsertRowid: userId } = addUser(db, 'ann');
    db.run("INSERT INTO sessions (user_id, hash, created, expires_at) VALUES (?, 'h', ?, ?)", [userId, now(), now()]);
    await db.commit();
    await db.commit(); // nothing new: no second export, the first one is what matters
    assert.equal(db.get<{ foreign_keys: number }>('PRAGMA foreign_keys')?.foreign_keys, 1);

    db.run('DELETE FROM users WHERE id = ?', [userId]);
    assert.equal(db.get<{ n: number }>('SELECT COUNT(*) AS n FROM sessions')?.n, 0);
    assert.throws(
      () => db.run("INSERT INTO sessions (user_id, hash, created, expires_at) VALUES (999, 'h2', ?, ?)", [now(), now()]),
      /FOREIGN KEY/,
    );
    await db.close();
  });

  it('shares one write among commits made in the same tick', async () => {
    const writer = countingWriter();
    const file = freshFile();
    const db = await Database.open(file, { writeFile: writer.writeFile });
    writer.writes = 0;
    const commits = [];
    for (let i = 0; i < 50; i++) {
      addUser(db, `student-${i}`);
      commits.push(db.commit());
    }
    await Promise.all(commits);
    assert.equal(writer.writes, 1);
    await db.close();
    assert.equal(writer.writes, 1, 'close has nothing left to save');

    const again = await Database.open(file);
    assert.equal(userNames(again).length, 50);
    await again.close();
  });

  it('makes a commit that arrives during a write wait for the next one', async () => {
    const writer = countingWriter();
    const file = freshFile();
    const db = await Database.open(file, { writeFile: writer.writeFile });
    writer.writes = 0;
    let openGate!: () => void;
    writer.gate = new Promise((resolve) => (openGate = resolve));

    addUser(db, 'ann');
    const first = db.commit();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(writer.writes, 1, 'the first write has started');
    let sameDone = false;
    const same = db.commit().then(() => (sameDone = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(sameDone, false, 'with no new changes, commit waits for the write in flight');

    addUser(db, 'bob');
    let secondDone = false;
    const second = db.commit().then(() => (secondDone = true));
    const alsoSecond = db.commit();
    writer.gate = undefined;
    openGate();
    await Promise.all([first, same]);
    assert.equal(secondDone, false, 'bob was not in the first write');
    await Promise.all([second, alsoSecond]);
    assert.equal(writer.writes, 2);

    const again = await Database.open(file);
    assert.deepEqual(userNames(again), ['ann', 'bob']);
    await Promise.all([again.close(), db.close()]);
  });

  it('does not write when nothing changed', async () => {
    const writer = countingWriter();
    const db = await Database.open(freshFile(), { writeFile: writer.writeFile });
    writer.writes = 0;
    db.all('SELECT * FROM users');
    await db.commit();
    assert.equal(writer.writes, 0);
    await db.close();
  });

  it('moves its revision on with every change, and only then (readers keep what they made from it until it moves)', async () => {
    const db = await Database.open(freshFile());
    const moved = (act: () => unknown): boolean => {
      const before = db.revision;
      act();
      return db.revision !== before;
    };
    assert.equal(moved(() => addUser(db, 'ann')), true, 'run');
    assert.equal(moved(() => db.transaction(() => addUser(db, 'bob'))), true, 'transaction');
    assert.equal(moved(() => db.markDirty()), true, 'markDirty');
    assert.equal(moved(() => db.all('SELECT * FROM users')), false, 'all');
    assert.equal(moved(() => db.get('SELECT * FROM users WHERE name = ?', ['ann'])), false, 'get');
    await db.close();
  });

  it('saves marked changes on a timer, without a commit', async () => {
    const writer = countingWriter();
    const file = freshFile();
    const db = await Database.open(file, { writeFile: writer.writeFile, flushIntervalMs: 20 });
    writer.writes = 0;
    addUser(db, 'ann');
    db.run('UPDATE users SET last_activity = ?', [now()]);
    db.markDirty();
    const deadline = Date.now() + 5000;
    while (writer.writes === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    await db.commit(); // lets the timer's write land
    assert.equal(writer.writes, 1);

    const again = await Database.open(file);
    assert.notEqual(again.get<{ last_activity: string | null }>('SELECT last_activity FROM users')?.last_activity, null);
    await Promise.all([again.close(), db.close()]);
  });

  it('commits all of a transaction or none of it, and nests by joining', async () => {
    const db = await Database.open(freshFile());
    assert.throws(
      () =>
        db.transaction(() => {
          addUser(db, 'ann');
          db.transaction(() => addUser(db, 'bob'));
          throw new Error('changed my mind');
        }),
      /changed my mind/,
    );
    assert.deepEqual(userNames(db), []);

    const id = db.transaction(() => {
      addUser(db, 'ann');
      return db.transaction(() => addUser(db, 'bob').lastInsertRowid);
    });
    assert.deepEqual(userNames(db), ['ann', 'bob']);
    assert.equal(typeof id, 'number');

    assert.throws(() => db.transaction(async () => addUser(db, 'carl')), TypeError);
    assert.deepEqual(userNames(db), ['ann', 'bob'], 'an async transaction is rolled back');
    await db.close();
  });

  it('can be asked to commit from inside a transaction; the export waits until it ends', async () => {
    const file = freshFile();
    const db = await Database.open(file);
    let committed: Promise<void> | undefined;
    db.transaction(() => {
      addUser(db, 'ann');
      committed = db.commit();
      addUser(db, 'bob');
    });
    await committed;
    const again = await Database.open(file);
    assert.deepEqual(userNames(again), ['ann', 'bob']);
    await Promise.all([again.close(), db.close()]);
  });

  it('saves on close, closes once, and refuses use afterwards', async () => {
    const file = freshFile();
    const db = await Database.open(file, { flushIntervalMs: 60_000 });
    addUser(db, 'ann');
    db.markDirty();
    await Promise.all([db.close(), db.close()]);
    await db.close();
    assert.throws(() => userNames(db), StoreError);
    await assert.rejects(db.commit(), /closed/);

    const again = await Database.open(file);
    assert.deepEqual(userNames(again), ['ann']);
    await again.close();
  });

  it('reports a failed write to every waiter, stays usable, and saves on a later commit', async () => {
    const folder = join(root, `case-${++counter}`);
    const file = join(folder, 'lectern.db');
    const db = await Database.open(file);
    addUser(db, 'ann');
    await db.commit();

    // A file where the folder was: writing into it fails with ENOTDIR, even for root.
    await rm(folder, { recursive: true });
    await writeFile(folder, 'not a folder');
    addUser(db, 'bob');
    const results = await Promise.allSettled([db.commit(), db.commit()]);
    for (const result of results) {
      assert.equal(result.status, 'rejected');
      assert.ok(result.reason instanceof StoreError);
      assert.ok(result.reason.message.includes(file), result.reason.message);
      assert.match(result.reason.message, /Could not save the database/);
    }
    assert.deepEqual(userNames(db), ['ann', 'bob'], 'the in-memory database is intact');

    await rm(folder);
    await mkdir(folder);
    addUser(db, 'carl');
    await db.commit();
    await db.close();
    const again = await Database.open(file);
    assert.deepEqual(userNames(again), ['ann', 'bob', 'carl']);
    await again.close();
  });

  it('keeps a committed change when the process is killed with SIGKILL', async () => {
    const file = freshFile();
    const child = startFixture('commit-then-churn', [file, 'survivor']);
    try {
      assert.equal(await firstLine(child), 'committed');
      await new Promise((resolve) => setTimeout(resolve, 30)); // let it get busy saving again
      child.kill('SIGKILL');
      await exited(child);
      assert.equal(child.signalCode, 'SIGKILL');
    } finally {
      child.kill('SIGKILL');
    }
    const db = await Database.open(file);
    assert.equal(db.get<{ name: string }>("SELECT name FROM users WHERE name = 'survivor'")?.name, 'survivor');
    await db.close();
  });

  it('frees its old exports once saving goes quiet, instead of keeping them resident until V8 gets round to it', async () => {
    // Each save exports the whole database into a new buffer; five saves of a 1–5 MiB database
    // leave 15 MiB of exports behind, more than is worth collecting.
    const exports: WeakRef<Uint8Array>[] = [];
    const db = await Database.open(freshFile(), {
      migrations: [{ version: 1, description: 'blobs', sql: 'CREATE TABLE blobs (data BLOB)' }],
      async writeFile(path, data) {
        exports.push(new WeakRef(data));
        await writeFileAtomic(path, data);
      },
    });
    for (let i = 0; i < 5; i++) {
      db.run('INSERT INTO blobs VALUES (randomblob(1048576))');
      await db.commit();
    }
    const freed = () => exports.every((ref) => ref.deref() === undefined);
    const deadline = Date.now() + QUIET_MS + 10_000;
    while (!freed() && Date.now() < deadline) await sleep(50);
    assert.ok(freed(), `${exports.filter((ref) => ref.deref() !== undefined).length} of ${exports.length} exports are still in memory`);
    await db.close();
  });
});
