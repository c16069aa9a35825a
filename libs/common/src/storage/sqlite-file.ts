import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { BootError } from '@app/config';
import { makeDirectory } from './data-dir';

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

export interface SqliteFileOptions {
  /** How long a statement waits for another process's write lock (several processes may share a file). */
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
    db = new DatabaseSync(file, { timeout: options.busyTimeoutMs ?? 10_000 });
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
