/**
 * Handing out files and taking work back.
 *
 * A handout is a set of files the teacher uploads (`draft/`), hands out as version 1, 2… (each a
 * folder `v<N>/` of hard links to the draft's files, and `v<N>.json`, their sha256), for everyone or one class, from a time
 * and until a due time. Each student gets it as a folder of that name in their own folder: at once
 * (running server or not: the files are in place when the server next starts), and again at each
 * start when a delivery failed or they joined the class later. An update follows nbgitpuller's rule
 * and never loses a student's work:
 *
 *   a file new to the student          appears
 *   one they have not changed          is updated
 *   one they changed                   is kept; the new version goes beside it, "name (version 2).ext"
 *   one they deleted                   stays deleted, unless the teacher asks to restore deleted files
 *   one the handout no longer has      stays
 *
 * "Changed" is against what was delivered, recorded per student in the database (`handout_copies`),
 * outside the student's reach. A handout whose name a folder of the student's already has goes into
 * "name (2)" instead. Files are written by `StudentFolderWriter`: atomically, and never through a
 * link the student planted. A delivery that fails (disk full, something in the way) is recorded with
 * why, shown to the teacher, and tried again at the student's next start.
 *
 * Collecting copies each student's folder for the handout into `collections/<handout>/<student>/<time>-<kind>`
 * (built under a `.partial-` name, then renamed: a crash leaves no half snapshot on record), reading it
 * as `StudentFiles` does, never following a link out of the student's folder.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, lstat, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from '../logging/logger.js';
import { NotInStudentFolder, StudentFiles } from '../servers/student-files.js';
import { folderNameFor, homeFolder } from '../servers/student-folders.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import type { Database } from '../store/database.js';
import { errorCode } from '../store/errors.js';
import type { GroupRepository } from '../store/groups.js';
import type { HandinKind, HandinRecord, HandoutCopy, HandoutRecord, HandoutRepository, HandoutSettings } from '../store/handouts.js';
import type { UserRecord, UserRepository } from '../store/users.js';
import { handoutPath } from './names.js';
import { folderOfFileRead } from './opened.js';
import { chunksOf, InTheWay, sha256Of, StudentFolderWriter, writeSynced } from './student-writer.js';

/** Largest file a handout may hold. */
export const MAX_HANDOUT_FILE_BYTES = 100 * 2 ** 20;
/** Largest a handout may be in all. */
export const MAX_HANDOUT_BYTES = 500 * 2 ** 20;
/** Most a snapshot of one student's work takes: beyond, the rest is left out and the snapshot says so. */
const MAX_SNAPSHOT_BYTES = 500 * 2 ** 20;
const MAX_SNAPSHOT_FILES = 5_000;

export class HandoutError extends Error {
  override readonly name = 'HandoutError';
  constructor(
    message: string,
    /** The HTTP status it answers with. */
    readonly status: 400 | 404 | 409 | 413 = 400,
  ) {
    super(message);
  }
}

export interface HandoutFile {
  path: string;
  bytes: number;
}

/** Where one student stands with a handout. */
export interface StudentStatus {
  user: string;
  /** The folder it is in, in the student's folder; null until delivered. */
  folder: string | null;
  /** The version they have; 0: none yet. */
  version: number;
  /** Why the last delivery did not happen; null when it did. */
  problem: string | null;
  /** When they first opened a file of it through their server, or null. */
  opened: string | null;
  /** Whether they have changed a file since it was delivered. */
  changed: boolean;
  /** Their last hand-in, or null. */
  handedIn: string | null;
  late: boolean;
  /** The last snapshot collected by the teacher, or null. */
  collected: string | null;
  /** The id of their latest snapshot (hand-in or collection), or null. */
  latestSnapshot: number | null;
}

export interface HandoutsDeps {
  config: { dataDir: string; spawner: { notebookRoot: string | null } };
  db: Database;
  handouts: HandoutRepository;
  users: UserRepository;
  groups: GroupRepository;
  log: Logger;
  /** Told after each change the teacher's screen shows (a delivery, a hand-in, a collection). */
  changed(handoutId: number): void;
  clock?: () => number;
}

type Manifest = Record<string, string>;

export class Handouts {
  private timer: NodeJS.Timeout | undefined;
  /** One delivery at a time per student, so a start and a release never write the same files at once. */
  private readonly deliveries = new Map<number, Promise<void>>();
  /**
   * Per student's name, the folders of their copies not opened yet (folder -> handout id): filled
   * at their first request, forgotten at each delivery to them.
   */
  private readonly unopened = new Map<string, { userId: number; folders: Map<string, number> }>();

  constructor(private readonly deps: HandoutsDeps) {}

  private get root(): string {
    return path.join(this.deps.config.dataDir, 'handouts');
  }

  private get collections(): string {
    return path.join(this.deps.config.dataDir, 'collections');
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  /**
   * Cleans what a crash left (half-taken snapshots), finishes deliveries a crash cut short (in the
   * background), then keeps the times: availability and due times.
   */
  async start(): Promise<void> {
    await this.removeUnrecordedSnapshots();
    for (const handout of this.deps.handouts.list()) {
      if (handout.version > 0 && this.isAvailable(handout)) void this.deliverToAll(handout, {}, { onlyBehind: true });
    }
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  // ---- the teacher's handouts -------------------------------------------------------------------

  list(): HandoutRecord[] {
    return this.deps.handouts.list();
  }

  find(id: number): HandoutRecord | undefined {
    return this.deps.handouts.find(id);
  }

  private checkClass(className: string | null): void {
    if (className !== null && !this.deps.groups.find(className)) throw new HandoutError(`There is no class called "${className}".`);
  }

  async create(name: string, settings: HandoutSettings): Promise<HandoutRecord> {
    if (this.deps.handouts.findByName(name)) throw new HandoutError(`There is already a handout called "${name}".`, 409);
    this.checkClass(settings.className);
    const handout = this.deps.handouts.create(name, settings);
    await mkdir(this.draftDir(handout), { recursive: true });
    await this.deps.db.commit();
    this.schedule();
    return handout;
  }

  async update(handout: HandoutRecord, settings: HandoutSettings): Promise<HandoutRecord> {
    this.checkClass(settings.className);
    this.deps.handouts.update(handout.id, settings);
    await this.deps.db.commit();
    this.schedule();
    this.deps.changed(handout.id);
    return this.deps.handouts.find(handout.id) as HandoutRecord;
  }

  /** Forgets the handout and its collected work; students keep their copies. */
  async delete(handout: HandoutRecord): Promise<void> {
    this.deps.handouts.delete(handout.id);
    this.unopened.clear();
    await this.deps.db.commit();
    await rm(path.join(this.root, String(handout.id)), { recursive: true, force: true });
    await rm(path.join(this.collections, String(handout.id)), { recursive: true, force: true });
    this.schedule();
  }

  /** The files the next hand-out will give: the draft's. */
  async files(handout: HandoutRecord): Promise<HandoutFile[]> {
    const draft = await this.draft(handout);
    return listFiles(draft);
  }

  /**
   * Puts a file in the draft, from `body` (at most MAX_HANDOUT_FILE_BYTES, and the draft at most
   * MAX_HANDOUT_BYTES in all). Nothing is kept of a file refused or cut short.
   */
  async putFile(handout: HandoutRecord, filePath: string, body: Readable): Promise<HandoutFile> {
    const segments = checkedPath(filePath);
    const draft = await this.draft(handout);
    const others = (await listFiles(draft)).filter((file) => file.path !== segments.join('/'));
    const room = Math.min(MAX_HANDOUT_FILE_BYTES, MAX_HANDOUT_BYTES - others.reduce((sum, file) => sum + file.bytes, 0));
    const target = path.join(draft, ...segments);
    for (const other of others) {
      if (other.path.startsWith(`${segments.join('/')}/`)) throw new HandoutError(`${filePath} is a folder in this handout.`, 409);
      if (`${segments.join('/')}/`.startsWith(`${other.path}/`)) throw new HandoutError(`${other.path} is a file in this handout, not a folder.`, 409);
    }
    await mkdir(path.dirname(target), { recursive: true });
    const uploads = path.join(this.root, String(handout.id), 'uploads');
    await mkdir(uploads, { recursive: true });
    const temp = path.join(uploads, randomBytes(8).toString('hex'));
    let bytes = 0;
    try {
      const handle = await open(temp, 'w', 0o600);
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          bytes += chunk.length;
          if (bytes > room) {
            throw new HandoutError(
              room < MAX_HANDOUT_FILE_BYTES
                ? `A handout holds at most ${MAX_HANDOUT_BYTES / 2 ** 20} MiB in all; ${filePath} does not fit.`
                : `${filePath} is larger than ${MAX_HANDOUT_FILE_BYTES / 2 ** 20} MiB, the most one file of a handout may be.`,
              413,
            );
          }
          await handle.write(chunk);
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return { path: segments.join('/'), bytes };
  }

  async deleteFile(handout: HandoutRecord, filePath: string): Promise<void> {
    const segments = checkedPath(filePath);
    const target = path.join(await this.draft(handout), ...segments);
    if (!(await lstat(target).catch(() => null))?.isFile()) throw new HandoutError(`The handout has no file ${filePath}.`, 404);
    await rm(target);
  }

  /**
   * Hands the draft out as the next version: it is delivered at once to every student it is for
   * (from its availability time, if that is later). Resolves once it is recorded, before the
   * deliveries end; `delivered` resolves when they have.
   */
  async release(handout: HandoutRecord, options: { restoreDeleted?: boolean } = {}): Promise<{ version: number; delivered: Promise<void> }> {
    const draft = await this.draft(handout);
    const files = await listFiles(draft);
    if (files.length === 0) throw new HandoutError('Add at least one file before handing it out.');
    const version = handout.version + 1;
    const next = this.versionDir(handout, version);
    // A copy of the draft made of hard links: no file is copied, and the draft stays editable.
    await rm(next, { recursive: true, force: true });
    for (const file of files) {
      const target = path.join(next, ...file.path.split('/'));
      await mkdir(path.dirname(target), { recursive: true });
      const from = path.join(draft, ...file.path.split('/'));
      await link(from, target).catch(() => copyFile(from, target));
    }
    const manifest: Manifest = {};
    for (const file of files) manifest[file.path] = await sha256Of(createReadStream(path.join(next, ...file.path.split('/'))));
    await writeFileAtomic(this.manifestFile(handout, version), Buffer.from(JSON.stringify(manifest)));
    this.deps.handouts.setVersion(handout.id, version);
    await this.deps.db.commit();
    this.deps.log.info(`handed out ${handout.name}, version ${version}`, { files: files.length });
    const released = this.deps.handouts.find(handout.id) as HandoutRecord;
    const delivered = this.isAvailable(released) ? this.deliverToAll(released, options) : Promise.resolve();
    this.schedule();
    return { version, delivered };
  }

  // ---- delivering -------------------------------------------------------------------------------

  /** The students a handout is for (not teachers): everyone, or its class's members. */
  audience(handout: HandoutRecord): UserRecord[] {
    const users = this.deps.users.list().filter((user) => !user.admin);
    if (handout.className === null) return users;
    const group = this.deps.groups.find(handout.className);
    if (!group) return [];
    const members = new Set(this.deps.groups.members(group.id));
    return users.filter((user) => members.has(user.name));
  }

  /** Delivers to every student it is for; with `onlyBehind`, only to those without the current version. */
  private async deliverToAll(handout: HandoutRecord, options: { restoreDeleted?: boolean }, which: { onlyBehind?: boolean } = {}): Promise<void> {
    const copies = this.deps.handouts.copies(handout.id);
    // A few at a time: a class of 100 gets it in a few waves, and the hub keeps answering.
    const queue = this.audience(handout).filter((user) => !which.onlyBehind || isBehind(handout, copies.get(user.id)));
    const worker = async () => {
      for (let user = queue.shift(); user; user = queue.shift()) await this.deliver(handout, user, options);
    };
    await Promise.all(Array.from({ length: 4 }, worker));
  }

  /**
   * Before a student's server starts: every handout for them they do not have yet (or whose last
   * delivery failed), so it is there when the server comes up. Never throws: a failure is recorded.
   */
  async deliverBeforeStart(user: UserRecord): Promise<void> {
    if (user.admin) return;
    for (const handout of this.deps.handouts.list()) {
      if (handout.version === 0 || !this.isAvailable(handout) || !this.audience(handout).some((member) => member.id === user.id)) continue;
      if (isBehind(handout, this.deps.handouts.copy(handout.id, user.id))) await this.deliver(handout, user, {});
    }
  }

  /** Delivers the handout's current version to one student; records how it went. */
  deliver(handout: HandoutRecord, user: UserRecord, options: { restoreDeleted?: boolean }): Promise<void> {
    const previous = this.deliveries.get(user.id) ?? Promise.resolve();
    const next = previous.then(() => this.deliverNow(handout, user, options));
    this.deliveries.set(user.id, next);
    void next.finally(() => {
      if (this.deliveries.get(user.id) === next) this.deliveries.delete(user.id);
    });
    return next;
  }

  private async deliverNow(handout: HandoutRecord, user: UserRecord, options: { restoreDeleted?: boolean }): Promise<void> {
    const version = handout.version;
    const source = this.versionDir(handout, version);
    const before = this.deps.handouts.copy(handout.id, user.id);
    const writer = new StudentFolderWriter(homeFolder(this.deps.config, user.name));
    let copy: Omit<HandoutCopy, 'openedAt'>;
    try {
      const manifest = JSON.parse(await readFile(this.manifestFile(handout, version), 'utf8')) as Manifest;
      await writer.ensureRoot();
      const folder = before?.folder ?? (await freeFolderName(writer, handout.name));
      await writer.ensureFolder([folder]);
      const files = { ...(before?.files ?? {}) };
      const skipped: string[] = [];
      let studentChanged = before?.studentChanged ?? false;
      for (const [file, sha256] of Object.entries(manifest)) {
        const segments = [folder, ...file.split('/')];
        try {
          await writer.ensureFolder(segments.slice(0, -1));
          await writer.removeLeftovers(segments.slice(0, -1));
          const placed = await placeFile(writer, segments, path.join(source, ...file.split('/')), sha256, files[file], {
            version,
            restoreDeleted: options.restoreDeleted ?? false,
          });
          if (placed === 'kept theirs') studentChanged = true;
          files[file] = sha256;
        } catch (error) {
          if (!(error instanceof InTheWay)) throw error;
          skipped.push(error.message);
        }
      }
      const problem = skipped.length > 0 ? `Not delivered: ${skipped.join('; ')}.` : null;
      copy = { folder, version, files, deliveredAt: new Date(this.now()).toISOString(), problem, studentChanged };
    } catch (error) {
      const problem = deliveryProblem(error);
      this.deps.log.warn(`could not hand out ${handout.name} to ${user.name}: ${problem}`);
      copy = { ...(before ?? { folder: handout.name, version: 0, files: {}, deliveredAt: null, studentChanged: false }), problem };
    }
    this.deps.handouts.saveCopy(handout.id, user.id, copy);
    this.unopened.delete(user.name);
    await this.deps.db.commit();
    this.deps.changed(handout.id);
  }

  // ---- where everyone stands --------------------------------------------------------------------

  async status(handout: HandoutRecord): Promise<StudentStatus[]> {
    const copies = this.deps.handouts.copies(handout.id);
    const handins = this.deps.handouts.handins(handout.id);
    return Promise.all(
      this.audience(handout).map(async (user) => {
        const copy = copies.get(user.id);
        const mine = handins.filter((handin) => handin.userId === user.id);
        const lastHandIn = mine.filter((handin) => handin.kind === 'handed-in').at(-1);
        return {
          user: user.name,
          folder: copy && copy.version > 0 ? copy.folder : null,
          version: copy?.version ?? 0,
          problem: copy?.problem ?? null,
          opened: copy?.openedAt ?? null,
          changed: copy?.deliveredAt ? copy.studentChanged || (await this.changedSince(user, copy)) : false,
          handedIn: lastHandIn?.at ?? null,
          late: lastHandIn?.late ?? false,
          collected: mine.filter((handin) => handin.kind === 'collected').at(-1)?.at ?? null,
          latestSnapshot: mine.at(-1)?.id ?? null,
        };
      }),
    );
  }

  /**
   * Told of every request forwarded to a student's server (`path` as the browser sent it, `prefix`
   * the server's route): one that reads a file of a copy the student has not opened yet marks it
   * opened. Cheap for every other request, as it runs on each one.
   */
  noteServerRequest(userName: string, method: string | undefined, path: string, prefix: string): void {
    const folder = folderOfFileRead(method, path, prefix);
    if (folder === undefined) return;
    let student = this.unopened.get(userName);
    if (student === undefined) {
      const user = this.deps.users.find(userName);
      if (user === undefined) return;
      student = { userId: user.id, folders: this.deps.handouts.unopenedFolders(user.id) };
      this.unopened.set(userName, student);
    }
    const handoutId = student.folders.get(folder);
    if (handoutId === undefined) return;
    student.folders.delete(folder);
    this.deps.handouts.markOpened(handoutId, student.userId, new Date(this.now()).toISOString());
    // Not worth a disk write of its own: saved with the next commit or flush.
    this.deps.db.markDirty();
    this.deps.changed(handoutId);
  }

  /** Whether any file in the student's copy was written after the last delivery. */
  private async changedSince(user: UserRecord, copy: HandoutCopy): Promise<boolean> {
    const delivered = Date.parse(copy.deliveredAt as string);
    const files = await this.snapshotList(user, copy.folder).catch(() => []);
    return files.some((file) => file.modified > delivered + 1000);
  }

  /** Where each student who has the handout keeps it, by name: the read-only view steps through these. */
  copyFolders(handout: HandoutRecord): { user: string; folder: string }[] {
    const copies = this.deps.handouts.copies(handout.id);
    return this.audience(handout)
      .flatMap((user) => {
        const copy = copies.get(user.id);
        return copy && copy.version > 0 ? [{ user: user.name, folder: copy.folder }] : [];
      })
      .sort((a, b) => a.user.localeCompare(b.user));
  }

  /** The handouts a student has, with their last hand-in: what their "My work" page lists. */
  forStudent(user: UserRecord): { handout: HandoutRecord; folder: string; handedIn: HandinRecord | null }[] {
    return this.deps.handouts.list().flatMap((handout) => {
      const copy = this.deps.handouts.copy(handout.id, user.id);
      if (!copy || copy.version === 0) return [];
      const handedIn = this.deps.handouts.handins(handout.id, user.id).filter((handin) => handin.kind === 'handed-in').at(-1) ?? null;
      return [{ handout, folder: copy.folder, handedIn }];
    });
  }

  // ---- taking work back -------------------------------------------------------------------------

  /** A student hands in their copy; after the due time, marked late or refused as the teacher set. */
  async handIn(handout: HandoutRecord, user: UserRecord): Promise<HandinRecord> {
    const copy = this.deps.handouts.copy(handout.id, user.id);
    if (!copy || copy.version === 0 || !this.audience(handout).some((member) => member.id === user.id)) {
      throw new HandoutError(`You have not been given ${handout.name}.`, 404);
    }
    const late = handout.dueAt !== null && this.now() > Date.parse(handout.dueAt);
    if (late && handout.late === 'refuse') throw new HandoutError(`${handout.name} was due ${handout.dueAt}: hand-ins are closed.`, 409);
    return this.snapshot(handout, user, copy.folder, 'handed-in', late);
  }

  /** Snapshots every student's copy now (the teacher's "Collect", or the due time). */
  async collect(handout: HandoutRecord): Promise<{ collected: HandinRecord[]; missing: string[] }> {
    const collected: HandinRecord[] = [];
    const missing: string[] = [];
    for (const user of this.audience(handout)) {
      const copy = this.deps.handouts.copy(handout.id, user.id);
      if (!copy || copy.version === 0) {
        missing.push(user.name);
        continue;
      }
      try {
        collected.push(await this.snapshot(handout, user, copy.folder, 'collected', false));
      } catch (error) {
        this.deps.log.warn(`could not collect ${handout.name} from ${user.name}: ${(error as Error).message}`);
        missing.push(user.name);
      }
    }
    this.deps.handouts.setCollected(handout.id, new Date(this.now()).toISOString());
    await this.deps.db.commit();
    this.deps.log.info(`collected ${handout.name}`, { students: collected.length, missing: missing.length });
    return { collected, missing };
  }

  private async snapshot(handout: HandoutRecord, user: UserRecord, folder: string, kind: HandinKind, late: boolean): Promise<HandinRecord> {
    const at = new Date(this.now()).toISOString();
    const relative = path.join(String(handout.id), folderNameFor(user.name), `${at.replace(/[:.]/g, '-')}-${kind}`);
    const final = path.join(this.collections, relative);
    const partial = path.join(path.dirname(final), `.partial-${path.basename(final)}`);
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    const files = new StudentFiles(homeFolder(this.deps.config, user.name));
    let count = 0;
    let bytes = 0;
    try {
      for (const file of await this.snapshotList(user, folder)) {
        if (count >= MAX_SNAPSHOT_FILES || bytes + file.size > MAX_SNAPSHOT_BYTES) break;
        const target = path.join(partial, ...file.segments.slice(1));
        await mkdir(path.dirname(target), { recursive: true });
        const opened = await files.open(file.segments).catch((error: unknown) => {
          if (error instanceof NotInStudentFolder) return null;
          throw error;
        });
        if (!opened) continue;
        try {
          // No more than it had when listed: a file growing meanwhile cannot blow the cap.
          const out = await open(target, 'wx', 0o600);
          try {
            await writeSynced(out, chunksOf(opened.handle, file.size));
          } finally {
            await out.close();
          }
        } finally {
          await opened.handle.close();
        }
        count++;
        bytes += file.size;
      }
      await rename(partial, final);
    } catch (error) {
      await rm(partial, { recursive: true, force: true });
      throw error;
    }
    const handin = this.deps.handouts.addHandin({ handoutId: handout.id, userId: user.id, kind, at, late, folder: relative, files: count, bytes });
    await this.deps.db.commit();
    this.deps.changed(handout.id);
    return handin;
  }

  /** The regular files in a student's copy, read as StudentFiles allows (no link out, nothing hidden). */
  private async snapshotList(user: UserRecord, folder: string): Promise<{ segments: string[]; size: number; modified: number }[]> {
    const files = new StudentFiles(homeFolder(this.deps.config, user.name));
    const found: { segments: string[]; size: number; modified: number }[] = [];
    const walk = async (segments: string[], depth: number): Promise<void> => {
      const here = await files.at(segments).catch(() => null);
      if (here?.kind !== 'folder' || depth > 16) return;
      for (const entry of here.entries) {
        if (found.length > MAX_SNAPSHOT_FILES) return;
        if (entry.kind === 'folder') await walk([...segments, entry.name], depth + 1);
        else found.push({ segments: [...segments, entry.name], size: entry.size, modified: Date.parse(entry.modified) });
      }
    };
    await walk([folder], 0);
    return found;
  }

  /** The latest snapshot of each student's work (a hand-in over a collection taken before it). */
  latestSnapshots(handout: HandoutRecord): { user: string; handin: HandinRecord }[] {
    const latest = new Map<number, HandinRecord>();
    for (const handin of this.deps.handouts.handins(handout.id)) latest.set(handin.userId, handin);
    const names = new Map(this.deps.users.list().map((user) => [user.id, user.name]));
    return [...latest.values()].flatMap((handin) => {
      const user = names.get(handin.userId);
      return user ? [{ user, handin }] : [];
    });
  }

  /** A snapshot by id, and the folder its files are in; undefined when there is none. */
  findSnapshot(id: number): { handin: HandinRecord; root: string } | undefined {
    const handin = Number.isSafeInteger(id) ? this.deps.handouts.handin(id) : undefined;
    return handin && { handin, root: this.snapshotRoot(handin) };
  }

  private snapshotRoot(handin: HandinRecord): string {
    return path.join(this.collections, handin.folder);
  }

  /** The files of a snapshot: their paths in it and on disk. */
  async snapshotFiles(handin: HandinRecord): Promise<{ path: string; file: string }[]> {
    const root = this.snapshotRoot(handin);
    return (await listFiles(root)).map((file) => ({ path: file.path, file: path.join(root, ...file.path.split('/')) }));
  }

  // ---- times ------------------------------------------------------------------------------------

  private isAvailable(handout: HandoutRecord): boolean {
    return handout.availableAt === null || Date.parse(handout.availableAt) <= this.now();
  }

  /** Sets a timer for the next availability or due time, and handles those already past. */
  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.now();
    let next = Infinity;
    for (const handout of this.deps.handouts.list()) {
      if (handout.version === 0) continue;
      if (handout.availableAt !== null) {
        const at = Date.parse(handout.availableAt);
        if (at > now) next = Math.min(next, at);
      }
      if (handout.dueAt !== null && handout.collectedAt === null) {
        const at = Date.parse(handout.dueAt);
        if (at <= now) void this.collectAtDueTime(handout);
        else next = Math.min(next, at);
      }
    }
    if (next !== Infinity) {
      // setTimeout holds at most ~24.8 days; a later time is looked at again then.
      this.timer = setTimeout(() => this.onTimer(), Math.min(next - now + 50, 2 ** 31 - 1));
      this.timer.unref();
    }
  }

  private onTimer(): void {
    const now = this.now();
    for (const handout of this.deps.handouts.list()) {
      if (handout.version > 0 && handout.availableAt !== null && Math.abs(Date.parse(handout.availableAt) - now) < 60_000) {
        void this.deliverToAll(handout, {});
      }
    }
    this.schedule();
  }

  private async collectAtDueTime(handout: HandoutRecord): Promise<void> {
    // Marked first, so the next schedule() does not start it again.
    this.deps.handouts.setCollected(handout.id, new Date(this.now()).toISOString());
    try {
      await this.collect(handout);
    } catch (error) {
      this.deps.log.error(`could not collect ${handout.name} at its due time: ${(error as Error).message}`);
    }
  }

  // ---- the hub's own folders --------------------------------------------------------------------

  private versionDir(handout: HandoutRecord, version: number): string {
    return path.join(this.root, String(handout.id), `v${version}`);
  }

  /** What version `version` holds: each file's path and sha256. */
  private manifestFile(handout: HandoutRecord, version: number): string {
    return path.join(this.root, String(handout.id), `v${version}.json`);
  }

  private draftDir(handout: HandoutRecord): string {
    return path.join(this.root, String(handout.id), 'draft');
  }

  /** The draft folder: what the teacher uploads, kept from one version to the next. */
  private async draft(handout: HandoutRecord): Promise<string> {
    const draft = this.draftDir(handout);
    await mkdir(draft, { recursive: true });
    return draft;
  }

  /** Removes snapshots a crash left half-taken, or taken but never recorded. */
  private async removeUnrecordedSnapshots(): Promise<void> {
    const recorded = this.deps.handouts.handinFolders();
    for (const handout of await readdir(this.collections).catch(() => [] as string[])) {
      for (const student of await readdir(path.join(this.collections, handout)).catch(() => [] as string[])) {
        for (const snapshot of await readdir(path.join(this.collections, handout, student)).catch(() => [] as string[])) {
          const relative = path.join(handout, student, snapshot);
          if (!recorded.has(relative)) await rm(path.join(this.collections, relative), { recursive: true, force: true });
        }
      }
    }
  }
}

/** Whether a student's copy lacks the handout's current version (or its last delivery failed). */
function isBehind(handout: HandoutRecord, copy: HandoutCopy | undefined): boolean {
  return !copy || copy.version < handout.version || copy.problem !== null;
}

function checkedPath(filePath: string): string[] {
  const checked = handoutPath(filePath);
  if ('problem' in checked) throw new HandoutError(checked.problem);
  return checked.segments;
}

/** The handout's name, or "name (2)", "name (3)"… when the student already has something by that name. */
async function freeFolderName(writer: StudentFolderWriter, name: string): Promise<string> {
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? name : `${name} (${n})`;
    if (!(await writer.exists([candidate]))) return candidate;
  }
}

/**
 * One file of a delivery, by the rule in this module's comment: whether the student now has the
 * handout's file, or kept their own (changed, deleted, or theirs from the start).
 */
async function placeFile(
  writer: StudentFolderWriter,
  segments: string[],
  source: string,
  sha256: string,
  delivered: string | undefined,
  options: { version: number; restoreDeleted: boolean },
): Promise<'has it' | 'kept theirs'> {
  const found = await writer.find(segments);
  if (found.kind === 'file' && found.sha256 === sha256) return 'has it';
  if (found.kind === 'missing') {
    if (delivered !== undefined && !options.restoreDeleted) return 'kept theirs';
    await writer.write(segments, source);
    return 'has it';
  }
  if (found.kind === 'file' && delivered !== undefined && found.sha256 === delivered) {
    await writer.write(segments, source);
    return 'has it';
  }
  const beside = await besideName(writer, segments, options.version, sha256);
  if (beside) await writer.write(beside, source);
  return 'kept theirs';
}

/** `name (version N).ext` beside the student's file, or null when that is already this version. */
async function besideName(writer: StudentFolderWriter, segments: string[], version: number, sha256: string): Promise<string[] | null> {
  const name = segments.at(-1) as string;
  const extension = path.extname(name);
  const stem = name.slice(0, name.length - extension.length);
  for (let n = 1; ; n++) {
    const candidate = [...segments.slice(0, -1), `${stem} (version ${version}${n === 1 ? '' : `, ${n}`})${extension}`];
    const found = await writer.find(candidate);
    if (found.kind === 'missing') return candidate;
    if (found.kind === 'file' && found.sha256 === sha256) return null;
  }
}

function deliveryProblem(error: unknown): string {
  switch (errorCode(error)) {
    case 'ENOSPC':
      return 'the disk is full';
    case 'EACCES':
    case 'EPERM':
      return "the hub may not write in the student's folder";
    case 'EDQUOT':
      return "the student's disk quota is used up";
    default:
      return error instanceof InTheWay ? error.message : `could not copy the files: ${(error as Error).message}`;
  }
}

/** Every regular file under `root` (relative paths with `/`, sorted), with its size. */
async function listFiles(root: string): Promise<HandoutFile[]> {
  const found: HandoutFile[] = [];
  const walk = async (folder: string, prefix: string): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(path.join(folder, entry.name), relative);
      else if (entry.isFile()) found.push({ path: relative, bytes: (await stat(path.join(folder, entry.name))).size });
    }
  };
  await walk(root, '');
  return found;
}
