import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { BootError } from '@app/config';
import { makeDirectory } from './data-dir';
import { isSqliteBusy, type StoreName, storeError } from './store-unavailable';

/** Runs synchronous store work (node:sqlite is synchronous), turning a throw into a rejected promise. */
export function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * Runs `work` inside `BEGIN IMMEDIATE` ... `COMMIT`. On a throw it rolls back what is still open and rethrows the
 * error `work` (or the COMMIT) threw: SQLite has already rolled back by itself after some errors (a full disk,
 * SQLITE_FULL; an I/O error), and a plain ROLLBACK then threw "cannot rollback - no transaction is active" in place
 * of the cause, which is what the logs and /health/ready showed of a full disk.
 */
export function sqliteTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    if (db.isTransaction) {
      try {
        db.exec('ROLLBACK');
      } catch {
        // The cause is what matters; the connection's own state is checked again by the next BEGIN.
      }
    }
    throw error;
  }
}

/**
 * How long a statement waits for another process's write lock while a store opens its file at boot (nothing is served
 * yet; another process may be creating the schema or backfilling a rollup).
 */
export const SQLITE_BOOT_BUSY_TIMEOUT_MS = 10_000;

/**
 * How long a statement waits for another process's write lock once the service serves. node:sqlite waits
 * synchronously, holding the event loop: with the boot's 10 s, another process holding `BEGIN IMMEDIATE` on the
 * ledger's file stalled every request for 10 s at each ledger flush. `sqliteStore` waits longer, between attempts,
 * with the loop free.
 */
export const SQLITE_BUSY_TIMEOUT_MS = 20;

/** How long `sqliteStore` keeps trying a statement the lock refused (SQLITE_BUSY), the loop free between tries. */
export const SQLITE_BUSY_RETRY_MS = 2000;

/** Sets the busy timeout of a file the service now serves from (`SQLITE_BUSY_TIMEOUT_MS`), once its store is open. */
export function useServingBusyTimeout(db: DatabaseSync): void {
  db.exec(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs a SQLite store's synchronous work (a statement, or a transaction that rolls back as a whole) as a promise.
 * Refused by another process's lock (SQLITE_BUSY after `SQLITE_BUSY_TIMEOUT_MS`), it is tried again after a pause,
 * the event loop free, for up to `SQLITE_BUSY_RETRY_MS`. A failure is classified (`storeError`): a file that cannot
 * be used now (still locked, a full disk, an I/O error...) is a DatabaseUnavailableError (503); a defect stays as is.
 * `work` must be safe to run again: it is, when what it writes is one statement or one transaction.
 */
export async function sqliteStore<T>(
  store: StoreName,
  work: () => T,
  retryMs: number = SQLITE_BUSY_RETRY_MS,
): Promise<T> {
  const deadline = performance.now() + retryMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return work();
    } catch (error) {
      const wait = Math.min(10 * 2 ** attempt, 250);
      if (isSqliteBusy(error) && performance.now() + wait < deadline) {
        await pause(wait);
        continue;
      }
      throw storeError(store, 'sqlite', error);
    }
  }
}

export interface SqliteFileOptions {
  /**
   * How long a statement waits for another process's write lock while the file is opened (several processes may
   * share a file); default `SQLITE_BOOT_BUSY_TIMEOUT_MS`. A store sets `SQLITE_BUSY_TIMEOUT_MS` once open.
   */
  busyTimeoutMs?: number;
  /** `PRAGMA foreign_keys = ON`. */
  foreignKeys?: boolean;
  /** DDL run once opened (`CREATE TABLE IF NOT EXISTS ...`). */
  schema?: readonly string[];
}

/**
 * Opens an embedded store's SQLite file the way every store here does: its folder created, WAL (readers never wait
 * for the writer), `synchronous = NORMAL`, a busy timeout so the processes sharing one file take turns, then the
 * schema. The database is closed again if any of that fails. `:memory:` for tests.
 */
export function openSqliteFile(file: string, options: SqliteFileOptions = {}): DatabaseSync {
  if (file !== ':memory:') makeDirectory(dirname(file));
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(file, { timeout: options.busyTimeoutMs ?? SQLITE_BOOT_BUSY_TIMEOUT_MS });
  } catch (error) {
    throw sqliteFileError(file, error);
  }
  try {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    if (options.foreignKeys) db.exec('PRAGMA foreign_keys = ON');
    for (const statement of options.schema ?? []) db.exec(statement);
  } catch (error) {
    db.close();
    throw sqliteFileError(file, error);
  }
  return db;
}

/** SQLite's primary result codes (`errcode & 0xff`) of a file that cannot serve as the store's database. */
const SQLITE_CORRUPT = 11;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;

/**
 * An error of node:sqlite met while a store opens its file at boot, as a BootError naming DATA_DIR and the file: a
 * file that is not a database (a stray file, a truncated copy), a damaged one, one that cannot be opened (a folder of
 * that name). Without it the start died with exit 1 and a stack trace that named no file. A BootError passes through;
 * any other error (not SQLite's) is returned as it is.
 */
export function sqliteFileError(file: string, error: unknown): unknown {
  if (error instanceof BootError || file === ':memory:') return error;
  const { code, errcode, errstr, message } = (error ?? {}) as {
    code?: unknown;
    errcode?: unknown;
    errstr?: unknown;
    message?: unknown;
  };
  if (code !== 'ERR_SQLITE_ERROR') return error;
  const primary = typeof errcode === 'number' ? errcode & 0xff : undefined;
  const said = typeof errstr === 'string' && errstr !== '' ? errstr : String(message);
  const problem =
    primary === SQLITE_NOTADB || primary === SQLITE_CORRUPT
      ? `"${file}" is not a usable SQLite database (${said}): it is damaged or not a database. Nothing was changed; ` +
        `stop the service and move it (with its -wal and -shm files) aside to start with an empty one, or restore it ` +
        `from a backup`
      : primary === SQLITE_CANTOPEN
        ? `"${file}" cannot be opened as a SQLite database (${said}): is it a folder, or not readable?`
        : `"${file}" cannot be used as a SQLite database: ${said}`;
  return new BootError('DATA_DIR', problem, { cause: error });
}
