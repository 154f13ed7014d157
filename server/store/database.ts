/**
 * The hub's one database: SQLite compiled to WebAssembly (sql.js), held in memory and saved whole
 * to a single file. sql.js has no file I/O of its own, so durability is ours: a change is safe once
 * `commit()` resolves, because by then the whole database has been exported and atomically
 * replaced on disk (see atomic-file.ts). Exporting costs the same for one change or fifty, so
 * commits that arrive together share a write (group commit), and low-value changes such as
 * activity timestamps ride along with the next commit or a timer.
 *
 * Everything here runs on the event loop: `run`, `get`, `all` and `transaction` are synchronous,
 * so a transaction can never interleave with another request or with an export.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import initSqlJs from 'sql.js';
import { type Logger, silentLogger } from '../logging/logger.js';
import { writeFileAtomic } from './atomic-file.js';
import { StoreError, errorCode } from './errors.js';
import { exportWritten } from './export-garbage.js';
import { type Migration, migrations as lecternMigrations } from './migrations.js';

export type { Migration } from './migrations.js';

/** Positional (`?`) values as an array, or named (`:name`, `$name`, `@name`) values as an object. */
export type SqlParams = initSqlJs.BindParams;
export type SqlValue = initSqlJs.SqlValue;

export interface RunResult {
  /** Rows changed by this INSERT, UPDATE or DELETE. */
  changes: number;
  /** The rowid of the most recent successful INSERT on this connection. */
  lastInsertRowid: number;
}

export interface DatabaseOptions {
  /** The schema steps; Lectern's own unless a test brings its own. */
  migrations?: readonly Migration[];
  /** How long a change may wait in memory when nobody calls `commit()`. */
  flushIntervalMs?: number;
  log?: Logger;
  /**
   * How the exported bytes reach the disk. A seam for tests that count or inspect writes; anything
   * other than `writeFileAtomic` gives up the crash-safety this class promises.
   */
  writeFile?: (path: string, data: Uint8Array) => Promise<void>;
}

/** The waiters for one write, settled together when it lands or fails. */
interface Batch {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A timer-driven write has no waiter; its failure is logged, not an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

let sqlJsLoading: Promise<initSqlJs.SqlJsStatic> | undefined;

/**
 * Compiles the WebAssembly module once per process; every Database shares it.
 *
 * SQLite stays on V8's baseline WebAssembly compiler (Liftoff). Optimising it with TurboFan, as V8
 * does to hot functions, needed 30–40 MB of compiler memory at the hub's first queries (SQLite's
 * query engine is one huge function), which the C allocator then kept: 11–13 MiB of an idle hub's
 * RSS (bench/hub-memory.ts). The hub's queries are short and their time goes to the JavaScript
 * around each row: they were not measurably slower (a list of 100 users and 200 lookups, 2.29 ms
 * against 2.34 ms, best of 5). The flag is process-wide and only affects WebAssembly: SQLite here,
 * and the HTTP parser of Node's fetch.
 */
function loadSqlJs(): Promise<initSqlJs.SqlJsStatic> {
  if (sqlJsLoading === undefined) setFlagsFromString('--liftoff-only');
  sqlJsLoading ??= initSqlJs().catch((error: unknown) => {
    sqlJsLoading = undefined;
    throw error;
  });
  return sqlJsLoading;
}

export class Database {
  private sql: initSqlJs.Database | null;
  private readonly flushIntervalMs: number;
  private readonly log: Logger;
  private readonly writeFile: (path: string, data: Uint8Array) => Promise<void>;
  /** Changes exist that no export has captured yet. */
  private dirty = false;
  private readonly statements = new Map<string, initSqlJs.Statement>();
  private transactionDepth = 0;
  private writeScheduled = false;
  private inFlight: Batch | undefined;
  /** Waiters for the write after the one in flight. */
  private next: Batch | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  /** The last write failed; log recovery once when one succeeds again. */
  private failing = false;
  private changes = 0;

  private constructor(
    /** Absolute path of the database file. */
    readonly file: string,
    sql: initSqlJs.Database,
    options: DatabaseOptions,
  ) {
    this.sql = sql;
    this.flushIntervalMs = options.flushIntervalMs ?? 5000;
    this.log = options.log ?? silentLogger;
    this.writeFile = options.writeFile ?? writeFileAtomic;
  }

  /**
   * Opens `file`, creating it (and its folder, user-only) if missing. Refuses a damaged file or
   * one from a newer Lectern rather than risk overwriting it, since the next save would replace
   * whatever was still recoverable. Pending migrations are applied and saved before this returns.
   */
  static async open(file: string, options: DatabaseOptions = {}): Promise<Database> {
    const path = resolve(file);
    const steps = options.migrations ?? lecternMigrations;
    checkMigrationList(steps);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const SQL = await loadSqlJs();

    let bytes: Uint8Array | null;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') {
        throw new StoreError(`Could not read the database ${path}: ${describe(error)}`, { cause: error });
      }
      bytes = null;
    }
    // Our writes never leave an empty file; one means a crash on a file system that lost the data.
    if (bytes?.length === 0) throw damaged(path, 'the file is empty');

    let sql: initSqlJs.Database | undefined;
    try {
      sql = new SQL.Database(bytes);
      const problems = (sql.exec('PRAGMA quick_check')[0]?.values ?? []).map((row) => String(row[0]));
      if (problems.length !== 1 || problems[0] !== 'ok') {
        throw damaged(path, problems.slice(0, 3).join('; ') || 'quick_check returned nothing');
      }
    } catch (error) {
      sql?.close();
      if (error instanceof StoreError) throw error;
      throw damaged(path, describe(error), error);
    }

    const db = new Database(path, sql, options);
    db.applyConnectionPragmas();
    try {
      await db.migrate(steps, bytes);
    } catch (error) {
      db.stopTimer();
      db.freeStatements();
      sql.close();
      db.sql = null;
      throw error;
    }
    return db;
  }

  /** Executes one statement that changes data. Only the first statement of `sql` runs. */
  run(sql: string, params?: SqlParams): RunResult {
    const db = this.connection();
    this.withStatement(sql, params, (statement) => statement.step());
    const changes = db.getRowsModified();
    const lastInsertRowid = Number(this.withStatement('SELECT last_insert_rowid()', undefined, (statement) => {
      statement.step();
      return statement.get()[0] ?? 0;
    }));
    this.changed();
    return { changes, lastInsertRowid };
  }

  /**
   * The first row as an object keyed by column name. The row is not checked against `T`: callers
   * describe the shape their SELECT produces. Use `run` for anything that changes data, or the
   * change is not known to need saving.
   */
  get<T = Record<string, SqlValue>>(sql: string, params?: SqlParams): T | undefined {
    return this.withStatement(sql, params, (statement) => (statement.step() ? (rowObject(statement) as T) : undefined));
  }

  /** Every row, as `get` shapes them. */
  all<T = Record<string, SqlValue>>(sql: string, params?: SqlParams): T[] {
    return this.withStatement(sql, params, (statement) => {
      const rows: T[] = [];
      while (statement.step()) rows.push(rowObject(statement) as T);
      return rows;
    });
  }

  /**
   * Runs `fn` atomically: all of its changes or none. `fn` must be synchronous, which is also what
   * keeps an export from landing mid-transaction. A nested call joins the outer transaction (no
   * savepoint), so an error it throws and the outer `fn` swallows does not undo its changes.
   */
  transaction<T>(fn: () => T): T {
    const db = this.connection();
    if (this.transactionDepth > 0) return fn();
    db.run('BEGIN');
    this.transactionDepth = 1;
    try {
      const result = fn();
      if (result instanceof Promise) {
        result.catch(() => undefined);
        throw new TypeError('transaction() needs a synchronous function; an async one would commit before it finished');
      }
      db.run('COMMIT');
      this.changed();
      return result;
    } catch (error) {
      // SQLite has already rolled back after some errors (SQLITE_FULL, for one).
      try {
        db.run('ROLLBACK');
      } catch {
        // Nothing left to roll back; the original error is the one worth reporting.
      }
      throw error;
    } finally {
      this.transactionDepth = 0;
    }
  }

  /**
   * Resolves once every change made before this call is on disk. Calls made while a write is in
   * flight wait for the next one, which will include their changes; calls in the same turn of the
   * event loop share it. Rejects with a StoreError if that write fails; the changes stay in memory
   * and the next commit (or the flush timer) tries again.
   */
  commit(): Promise<void> {
    if (this.sql === null) return Promise.reject(this.closedError());
    if (!this.dirty) return this.inFlight?.promise ?? Promise.resolve();
    this.next ??= newBatch();
    this.scheduleWrite();
    return this.next.promise;
  }

  /**
   * Declares unsaved changes that nobody will wait for (activity timestamps): they reach the disk
   * with the next commit or within `flushIntervalMs`. `run` and `transaction` already do this, so
   * that no change lingers in memory indefinitely; call it after changes made any other way.
   */
  markDirty(): void {
    this.connection();
    this.changed();
  }

  /**
   * Moves on with every change (`run`, `transaction`, `markDirty`): something made from what was
   * read here at one revision is still true while the revision is the same (the API's answer cache).
   * A transaction rolled back leaves it moved on, which only costs such a reader a rebuild.
   */
  get revision(): number {
    return this.changes;
  }

  /** Saves pending changes, then releases the database. Safe to call again. */
  close(): Promise<void> {
    this.closing ??= this.flushAndClose().catch((error: unknown) => {
      // Still open: let a later close() try to save again rather than drop the changes.
      this.closing = undefined;
      throw error;
    });
    return this.closing;
  }

  private async flushAndClose(): Promise<void> {
    if (this.sql === null) return;
    this.stopTimer();
    while (this.dirty || this.inFlight) {
      await (this.dirty ? this.commit() : this.inFlight?.promise);
    }
    this.stopTimer();
    this.freeStatements();
    this.sql.close();
    this.sql = null;
  }

  private async migrate(steps: readonly Migration[], existingBytes: Uint8Array | null): Promise<void> {
    const current = this.userVersion();
    const latest = steps.at(-1)?.version ?? 0;
    if (current > latest) {
      throw new StoreError(
        `The database ${this.file} was created by a newer Lectern (schema version ${current}; this ` +
          `Lectern knows versions up to ${latest}). Upgrade Lectern, or restore a backup of the ` +
          `database made by this version.`,
      );
    }
    const pending = steps.filter((step) => step.version > current);
    if (existingBytes && pending.length === 0) return;
    if (existingBytes && current > 0) {
      // A step that goes wrong on real data should cost a restart, not the class list.
      const backup = `${this.file}.v${current}.bak`;
      await writeFileAtomic(backup, existingBytes);
      this.log.info('database backed up before upgrading', { file: backup });
    }
    for (const step of pending) {
      this.transaction(() => {
        this.connection().exec(step.sql);
        this.connection().exec(`PRAGMA user_version = ${step.version}`);
      });
      this.log.info('database migrated', { version: step.version, description: step.description });
    }
    this.dirty = true;
    try {
      await this.commit();
    } catch (error) {
      throw new StoreError(`Could not save the new database ${this.file}: ${describe(error)}`, { cause: error });
    }
  }

  private userVersion(): number {
    return Number(this.connection().exec('PRAGMA user_version')[0]?.values[0]?.[0] ?? 0);
  }

  /**
   * Per-connection settings, which SQLite keeps outside the file. Earlier sql.js releases closed
   * and reopened the database in export(), silently dropping them (and with them ON DELETE
   * CASCADE); 1.16 exports through the backup API and keeps them. Re-applying after every export
   * costs microseconds and keeps a sql.js upgrade or downgrade from quietly turning them off.
   */
  private applyConnectionPragmas(): void {
    this.connection().run('PRAGMA foreign_keys = ON');
  }

  /**
   * Prepared statements are cached by their SQL: preparing one costs more than most queries here
   * (a list of 100 users runs hundreds). No cached statement outlives an export: sql.js releases
   * that reopened the database in export() freed every statement, so the cache is emptied before
   * each one (see exportBytes) and statements are prepared again on next use.
   */
  private withStatement<R>(sql: string, params: SqlParams | undefined, use: (statement: initSqlJs.Statement) => R): R {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.connection().prepare(sql);
      this.statements.set(sql, statement);
    }
    try {
      if (params != null) statement.bind(params);
      return use(statement);
    } finally {
      statement.reset();
    }
  }

  private freeStatements(): void {
    for (const statement of this.statements.values()) statement.free();
    this.statements.clear();
  }

  private connection(): initSqlJs.Database {
    if (this.sql === null) throw this.closedError();
    return this.sql;
  }

  private closedError(): StoreError {
    return new StoreError(`The database ${this.file} is closed.`);
  }

  private changed(): void {
    this.changes++;
    this.dirty = true;
    if (this.flushTimer === undefined && this.closing === undefined) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        if (this.dirty && this.sql !== null) {
          // The failure is already logged by the write; the timer re-arms itself through changed().
          this.commit().catch(() => undefined);
        }
      }, this.flushIntervalMs);
      // Pending low-value changes must not keep the process alive; close() saves them.
      this.flushTimer.unref();
    }
  }

  private stopTimer(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  /** Defers the write to the next turn of the event loop so concurrent commits can join it. */
  private scheduleWrite(): void {
    if (this.writeScheduled || this.inFlight) return;
    this.writeScheduled = true;
    setImmediate(() => {
      this.writeScheduled = false;
      this.startWrite();
    });
  }

  private startWrite(): void {
    if (this.inFlight || this.sql === null) return;
    const batch = this.next ?? newBatch();
    this.next = undefined;
    if (!this.dirty) {
      batch.resolve();
      return;
    }
    let data: Uint8Array;
    try {
      data = this.exportBytes();
    } catch (error) {
      batch.reject(this.saveError(error));
      return;
    }
    this.dirty = false;
    this.inFlight = batch;
    this.writeFile(this.file, data).then(
      () => {
        this.inFlight = undefined;
        exportWritten(data.byteLength);
        if (this.failing) this.log.info('database saved again', { file: this.file });
        this.failing = false;
        batch.resolve();
        if (this.next) this.scheduleWrite();
      },
      (error: unknown) => {
        this.inFlight = undefined;
        const saveError = this.saveError(error);
        if (!this.failing) this.log.error(saveError.message);
        this.failing = true;
        // What this write carried is still only in memory.
        this.changed();
        batch.reject(saveError);
        if (this.next) this.scheduleWrite();
      },
    );
  }

  private exportBytes(): Uint8Array {
    const db = this.connection();
    if (this.transactionDepth > 0) throw new Error('cannot export inside a transaction');
    this.freeStatements();
    try {
      return db.export();
    } finally {
      this.applyConnectionPragmas();
    }
  }

  private saveError(error: unknown): StoreError {
    return new StoreError(
      `Could not save the database to ${this.file} (${describe(error)}). The changes are kept in ` +
        `memory and saving will be retried; check that the disk has free space and the folder is writable.`,
      { cause: error },
    );
  }
}

function checkMigrationList(steps: readonly Migration[]): void {
  steps.forEach((step, index) => {
    if (step.version !== index + 1) {
      throw new Error(`migration versions must be 1, 2, 3… in order; found ${step.version} at position ${index + 1}`);
    }
  });
}

function damaged(path: string, detail: string, cause?: unknown): StoreError {
  return new StoreError(
    `The database ${path} is damaged (${detail}). Lectern will not open it, so that nothing more is ` +
      `lost. Stop Lectern, move the file aside and put your most recent backup of it in its place ` +
      `(or remove it to start again with an empty database).`,
    { cause },
  );
}

function describe(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

/** A prepared statement's column names, which cost a WebAssembly round trip to read. */
const columnNames = new WeakMap<initSqlJs.Statement, string[]>();

/**
 * The current row as an object keyed by column name. sql.js's own `getAsObject` reads the column
 * names again for every row; reading the row as an array and naming it here is several times faster
 * on long results.
 */
function rowObject(statement: initSqlJs.Statement): Record<string, SqlValue> {
  let names = columnNames.get(statement);
  if (!names) {
    names = statement.getColumnNames();
    columnNames.set(statement, names);
  }
  const values = statement.get();
  const row: Record<string, SqlValue> = {};
  for (let i = 0; i < names.length; i++) row[names[i] as string] = values[i] as SqlValue;
  return row;
}
