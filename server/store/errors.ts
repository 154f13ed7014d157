/**
 * Errors the storage layer raises for conditions a person has to act on (a damaged or too-new
 * database, a disk that refuses writes, a data directory another Lectern owns). Their messages are
 * written to be shown as they are: they name the file and say what to do. Programming mistakes
 * (bad SQL, a migration list out of order) stay plain `Error`s.
 */
export class StoreError extends Error {
  override name = 'StoreError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Another live process owns the data directory. */
export class LockedError extends StoreError {
  override name = 'LockedError';

  constructor(
    readonly dataDir: string,
    readonly pid: number,
    readonly lockFile: string,
  ) {
    super(
      `Another Lectern (pid ${pid}) is using ${dataDir}. Stop it first, or use a different --data-dir. ` +
        `(If no Lectern is running, delete ${lockFile}.)`,
    );
  }
}

/** The `code` of a Node system error (`ENOENT`, `EPERM`…), or undefined for anything else. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
