import { openSqliteFile, settle, SQLITE_BUSY_TIMEOUT_MS, sqliteTransaction } from '@app/common';
import { type DatabaseSync } from 'node:sqlite';
import {
  RESPONSE_CACHE_MAX_PAYLOAD_CHARS,
  RESPONSE_CACHE_SQL as SQL,
  type ResponseCacheEntry,
  type ResponseCacheHit,
  ResponseCacheStore,
} from './response-cache-store.port';

const q = (): string => '?';

/**
 * The embedded response cache: its own `node:sqlite` file (WAL, a busy timeout so several processes can share it),
 * apart from the ledger's so a cache write never waits on a ledger batch and the cached answers can be deleted alone.
 */
export class SqliteResponseCacheStore extends ResponseCacheStore {
  readonly kind = 'sqlite' as const;
  private db: DatabaseSync | undefined;

  constructor(private readonly file: string) {
    super();
  }

  init(): Promise<void> {
    return settle(() => {
      this.open();
    });
  }

  /**
   * Opened on first use, with the short busy timeout of a file being served: a lock another process holds costs a
   * lookup or a put (a miss, an answer not kept), never a stalled event loop.
   */
  private open(): DatabaseSync {
    if (!this.db) {
      const db = openSqliteFile(this.file, { busyTimeoutMs: SQLITE_BUSY_TIMEOUT_MS, schema: SQL.schema });
      // A deleted (expired, evicted) answer is overwritten in the file, not left in its free pages until reused.
      db.exec('PRAGMA secure_delete = ON');
      this.db = db;
    }
    return this.db;
  }

  get(key: string, now: number, storedAfter = 0): Promise<ResponseCacheHit | undefined> {
    return settle(() => {
      const row = this.open().prepare(SQL.get(q)).get(key, now, storedAfter) as
        { payload: string; created_at: number } | undefined;
      return row ? { payload: String(row.payload), createdAt: Number(row.created_at) } : undefined;
    });
  }

  put(entry: ResponseCacheEntry, maxEntries: number, now: number, storedAfter = 0): Promise<boolean> {
    return settle(() => {
      if (entry.payload.length > RESPONSE_CACHE_MAX_PAYLOAD_CHARS) return false;
      const db = this.open();
      sqliteTransaction(db, () => {
        db.prepare(SQL.upsert(q)).run(entry.key, entry.payload, entry.createdAt, entry.expiresAt);
        db.prepare(SQL.deleteExpired(q)).run(now, storedAfter);
        const { n } = db.prepare(SQL.count).get() as { n: number };
        const over = Number(n) - maxEntries;
        if (over > 0) db.prepare(SQL.evictOldest(q)).run(over);
      });
      return true;
    });
  }

  purgeExpired(now: number, storedAfter = 0): Promise<number> {
    return settle(() => Number(this.open().prepare(SQL.deleteExpired(q)).run(now, storedAfter).changes));
  }

  size(): Promise<number> {
    return settle(() => Number((this.open().prepare(SQL.count).get() as { n: number }).n));
  }

  close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
    return Promise.resolve();
  }
}
