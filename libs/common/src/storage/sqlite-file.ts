import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { makeDirectory } from './data-dir';

/** Runs synchronous store work (node:sqlite is synchronous), turning a throw into a rejected promise. */
export function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
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
  const db = new DatabaseSync(file, { timeout: options.busyTimeoutMs ?? 10_000 });
  try {
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    if (options.foreignKeys) db.exec('PRAGMA foreign_keys = ON');
    for (const statement of options.schema ?? []) db.exec(statement);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
