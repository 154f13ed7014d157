import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { normalizeUsername, usernameProblem } from '../../../server/auth/usernames.js';
import {
  folderNameFor,
  homeFolder,
  migrateStudentFolders,
  nodeFolderOps,
  studentFolder,
  type FolderOps,
} from '../../../server/servers/student-folders.js';
import { usersFolder } from '../../../server/config/users-folder.js';

describe('student folder names', () => {
  it('keeps ordinary names as they are', () => {
    for (const name of ['alice', 'a.b', 'a_b', 'a-b', 'josé', '学生1', 'console', 'comet', 'lpt']) assert.equal(folderNameFor(name), name);
  });

  it('escapes names Windows refuses or changes', () => {
    assert.equal(folderNameFor('con'), '_con');
    assert.equal(folderNameFor('nul.txt'), '_nul.txt');
    assert.equal(folderNameFor('com1'), '_com1');
    assert.equal(folderNameFor('lpt9'), '_lpt9');
    assert.equal(folderNameFor('alice.'), '_alice._');
  });

  it('never gives two valid usernames the same folder, even on a case-insensitive, Unicode-folding disk', () => {
    const names = ['con', '_con', 'alice', 'alice.', 'alice._', 'Alice', 'ALICE', 'ａｌｉｃｅ', 'e\u0301', '\u00e9', 'a-b', 'a_b', 'a.b', 'com1', 'com1.x']
      .map(normalizeUsername)
      .filter((name) => usernameProblem(name) === null);
    const folders = new Map<string, string>();
    for (const name of new Set(names)) {
      const key = folderNameFor(name).toLowerCase().normalize('NFD');
      assert.equal(folders.get(key) ?? name, name, `${name} and ${folders.get(key)} would share a folder`);
      folders.set(key, name);
    }
    assert.ok(folders.size >= 8);
  });
});

describe('student folder paths', () => {
  const config = { dataDir: '/d', spawner: { notebookRoot: null } };

  it('puts each student in a hub-owned folder with their files in home', () => {
    assert.equal(studentFolder(config, 'ann'), join('/d', 'users', 'ann'));
    assert.equal(homeFolder(config, 'ann'), join('/d', 'users', 'ann', 'home'));
    assert.equal(homeFolder(config, 'con'), join('/d', 'users', '_con', 'home'));
    const custom = { dataDir: '/d', spawner: { notebookRoot: join('/srv', 'class') } };
    assert.equal(usersFolder(custom), join('/srv', 'class'));
    assert.equal(homeFolder(custom, 'ann'), join('/srv', 'class', 'ann', 'home'));
  });

  it("makes no server root a string prefix of another's (Notebook 6 checks paths by prefix)", () => {
    const names = ['ann', 'anna', 'ann.', 'an', 'a', 'home', 'homework', 'con', 'con.txt', 'ann-b'];
    for (const one of names) {
      for (const other of names) {
        if (one === other) continue;
        const root = homeFolder(config, one);
        assert.ok(!homeFolder(config, other).startsWith(root), `${root} is a prefix of ${homeFolder(config, other)}`);
      }
    }
  });
});

type Content = string | Uint8Array | null;

/** Every byte value, so the move is checked to keep binary files exactly. */
const BYTES = Uint8Array.from({ length: 512 }, (_, i) => i % 256);

/** Student folders in the old layout, by path under the root. `null` is an empty folder. */
const STUDENT_FILES: [string, Content][] = [
  ['ann/notes.ipynb', '{"cells": []}'],
  ['ann/data/deep/er/table.bin', BYTES],
  ['anna/x.txt', 'only anna may read this'],
  // A student named `home`: their old folder must not be taken for a new-layout home.
  ['home/a.txt', 'a student called home'],
  // A student's own `home` subfolder must end up one level down, inside their home.
  ['bob/home/inside.txt', 'bob made a folder called home'],
  ['bob/home/home/deeper.txt', 'and another inside it'],
  ['_con/c.txt', 'a Windows device name, escaped by folderNameFor'],
  ['carl', null],
];
const STUDENTS = ['_con', 'ann', 'anna', 'bob', 'carl', 'home'];

/** Entries that are not student folders and must stay as they are. */
const OTHER_ENTRIES: [string, Content][] = [
  ['readme.txt', 'a file at the top is not a student'],
  ['.cache/x', 'hidden folders are not students'],
];

async function writeTree(root: string, entries: [string, Content][]): Promise<void> {
  for (const [path, content] of entries) {
    const full = join(root, ...path.split('/'));
    if (content === null) {
      await mkdir(full, { recursive: true });
    } else {
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, content);
    }
  }
}

/** Student files and other entries as the old layout had them, plus a symlink to a student folder. */
async function writeOldLayout(root: string): Promise<void> {
  await writeTree(root, [...STUDENT_FILES, ...OTHER_ENTRIES]);
  // A link to a folder looks like a student folder when followed; it must stay a link.
  await symlink('ann', join(root, 'link'), 'dir');
}

/** What writeOldLayout's root should become. */
async function writeNewLayout(root: string): Promise<void> {
  await writeTree(root, [...inNewLayout(STUDENT_FILES), ...OTHER_ENTRIES]);
  await symlink('ann', join(root, 'link'), 'dir');
}

/** Old-layout student entries moved to `<name>/home/...`, with the marker. */
function inNewLayout(students: [string, Content][]): [string, Content][] {
  const moved = students.map(([path, content]): [string, Content] => {
    const [student, ...rest] = path.split('/');
    return [[student, 'home', ...rest].join('/'), content];
  });
  return [...moved, ['.lectern-layout', '2\n']];
}

/** Every entry under `root`, symlinks not followed, files by their bytes. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const tree: Record<string, string> = {};
  async function walk(dir: string, prefix: string): Promise<void> {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const stat = await lstat(path);
      if (stat.isSymbolicLink()) {
        tree[prefix + name] = `link to ${await readlink(path)}`;
      } else if (stat.isDirectory()) {
        tree[`${prefix}${name}/`] = 'folder';
        await walk(path, `${prefix}${name}/`);
      } else {
        tree[prefix + name] = `file ${(await readFile(path)).toString('hex')}`;
      }
    }
  }
  await walk(root, '');
  return tree;
}

class SimulatedCrash extends Error {}

/**
 * The real operations, except that the one after the first `survive` stops the migration instead of
 * running, as a kill -9 or power cut between two system calls would. A write caught by the crash is
 * left torn (half its text) to show that a torn temp file is harmless. Nothing is fsynced: a thrown
 * crash cannot lose what the page cache holds, and thousands of runs would take half a minute.
 */
function crashingAfter(survive: number): FolderOps {
  let calls = 0;
  const crashesNow = (): boolean => calls++ === survive;
  const gate =
    <A extends unknown[], R>(real: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (crashesNow()) throw new SimulatedCrash(`crashed after ${survive} operations`);
      return real(...args);
    };
  return {
    lstat: gate(nodeFolderOps.lstat),
    readdir: gate(nodeFolderOps.readdir),
    readText: gate(nodeFolderOps.readText),
    mkdir: gate(nodeFolderOps.mkdir),
    rename: gate(nodeFolderOps.rename),
    rmdir: gate(nodeFolderOps.rmdir),
    syncFolder: gate(async () => {}),
    writeFileSynced: async (path, text) => {
      if (crashesNow()) {
        await writeFile(path, text.slice(0, Math.ceil(text.length / 2)));
        throw new SimulatedCrash(`crashed after ${survive} operations, while writing ${path}`);
      }
      await writeFile(path, text);
    },
  };
}

/** The same operations, never crashing. */
const noCrash = crashingAfter(Infinity);

/** Runs the migration with `ops`; true if it crashed, false if it finished. */
async function crashes(root: string, ops: FolderOps): Promise<boolean> {
  try {
    await migrateStudentFolders(root, ops);
    return false;
  } catch (error) {
    if (error instanceof SimulatedCrash) return true;
    throw error;
  }
}

describe('migrateStudentFolders', () => {
  let base: string;
  let count = 0;
  /** The tree a correct migration of writeOldLayout leaves. */
  let expected: Record<string, string>;
  const fresh = (): string => join(base, `root${count++}`);

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'lectern-student-folders-'));
    const model = fresh();
    await writeNewLayout(model);
    expected = await snapshot(model);
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('moves every student folder to <name>/home with the same bytes, leaving files, links and hidden entries', async () => {
    const root = fresh();
    await writeOldLayout(root);
    assert.deepEqual(await migrateStudentFolders(root), STUDENTS);
    assert.deepEqual(await snapshot(root), expected);
  });

  it('changes nothing when run again', async () => {
    const root = fresh();
    await writeOldLayout(root);
    await migrateStudentFolders(root);
    assert.deepEqual(await migrateStudentFolders(root), []);
    assert.deepEqual(await snapshot(root), expected);
  });

  it('leaves a root already in the new layout alone', async () => {
    const root = fresh();
    await writeNewLayout(root);
    assert.deepEqual(await migrateStudentFolders(root), []);
    assert.deepEqual(await snapshot(root), expected);
  });

  it('marks a missing root as new layout, so that folders the hub makes later are never moved', async () => {
    const root = fresh();
    assert.deepEqual(await migrateStudentFolders(root), []);
    assert.deepEqual(await snapshot(root), { '.lectern-layout': `file ${Buffer.from('2\n').toString('hex')}` });
    await writeTree(root, [['ann/home/x.txt', 'x']]);
    const before = await snapshot(root);
    assert.deepEqual(await migrateStudentFolders(root), []);
    assert.deepEqual(await snapshot(root), before);
  });

  it('stops rather than replace a folder already where a student folder must go', async () => {
    // An older Lectern run after a crash mid-migration would make a new empty folder for a held student.
    const root = fresh();
    await writeTree(root, [
      ['.lectern-migrating/ann/a.txt', 'held'],
      ['ann', null],
    ]);
    const before = await snapshot(root);
    await assert.rejects(migrateStudentFolders(root), /Cannot move the student folder .*ann.*: something is already there/);
    assert.deepEqual(await snapshot(root), before);
  });

  it('refuses a root arranged by a newer Lectern', async () => {
    const root = fresh();
    await writeTree(root, [
      ['.lectern-layout', '3\n'],
      ['ann/x.txt', 'x'],
    ]);
    const before = await snapshot(root);
    await assert.rejects(migrateStudentFolders(root), /layout "3", which this version of Lectern does not know/);
    assert.deepEqual(await snapshot(root), before);
  });

  it('finishes correctly after a crash between any two operations', async () => {
    let survive = 0;
    for (; ; survive++) {
      const root = fresh();
      await writeOldLayout(root);
      const crashed = await crashes(root, crashingAfter(survive));
      if (crashed) await migrateStudentFolders(root, noCrash);
      assert.deepEqual(await snapshot(root), expected, `after a crash following ${survive} operations`);
      if (!crashed) break;
    }
    // Sanity check that the loop went through the whole migration, not just its first steps.
    assert.ok(survive > 50, `only ${survive} operations`);
  });

  it('finishes correctly after a second crash while finishing after the first', async () => {
    // Every second crash point after every first one that leaves a different tree: the migration
    // depends on nothing but the tree, and a crash before a read leaves the tree the one before did.
    // A smaller tree keeps the number of runs down.
    const students: [string, Content][] = [
      ['ann/x.txt', 'ann'],
      ['anna/home/y.txt', 'anna'],
    ];
    const model = fresh();
    await writeTree(model, inNewLayout(students));
    const want = await snapshot(model);
    /** A root after a crash following `first` operations, or null if the migration finished. */
    const crashedAt = async (first: number): Promise<string | null> => {
      const root = fresh();
      await writeTree(root, students);
      return (await crashes(root, crashingAfter(first))) ? root : null;
    };
    const seen = new Set<string>();
    for (let first = 0; ; first++) {
      const probe = await crashedAt(first);
      if (probe === null) break;
      const tree = JSON.stringify(await snapshot(probe));
      if (seen.has(tree)) continue;
      seen.add(tree);
      for (let second = 0; ; second++) {
        const root = await crashedAt(first);
        assert.ok(root !== null);
        const crashedAgain = await crashes(root, crashingAfter(second));
        if (crashedAgain) await migrateStudentFolders(root, noCrash);
        assert.deepEqual(await snapshot(root), want, `after crashes following ${first}, then ${second} operations`);
        if (!crashedAgain) break;
      }
    }
    assert.ok(seen.size >= 10, `only ${seen.size} different trees after a first crash`);
  });
});
