export type ResponseCacheStoreKind = 'sqlite' | 'postgres' | 'off';

/**
 * One cached answer. `key` is a sha256 (hex) of the call's normalised inputs, never the prompt itself; `payload`
 * is what the LLM pipeline serialised (the answer text and the answering call's facts), opaque to the store.
 */
export interface ResponseCacheEntry {
  key: string;
  payload: string;
  /** Epoch ms when the answer was stored: its age, and the eviction order (oldest first). */
  createdAt: number;
  /** Epoch ms past which it is never served. */
  expiresAt: number;
}

/** A stored, unexpired answer. */
export interface ResponseCacheHit {
  payload: string;
  createdAt: number;
}

/** The largest payload a store accepts (bytes of UTF-8 counted as characters; the pipeline bounds answers below it). */
export const RESPONSE_CACHE_MAX_PAYLOAD_CHARS = 256 * 1024;

/**
 * Port: where the response cache lives (docs/cache.md): the ledger's store, `response-cache.sqlite` under DATA_DIR
 * or a `response_cache` table on DATABASE_URL (shared by every replica). `test/support/response-cache-store-contract.ts`
 * runs the same suite against both. Each store creates its schema on first use, so a database that was down at boot
 * only costs misses.
 */
export abstract class ResponseCacheStore {
  abstract readonly kind: ResponseCacheStoreKind;
  /** Creates the schema when missing (idempotent; the other methods call it). */
  abstract init(): Promise<void>;
  /**
   * The entry stored under `key`, unless it expired by `now` or was stored at or before `storedAfter` (epoch ms,
   * default 0: `now` minus the current TTL, so that an entry stored under a longer CACHE_TTL_S expires by the
   * current one).
   */
  abstract get(key: string, now: number, storedAfter?: number): Promise<ResponseCacheHit | undefined>;
  /**
   * Stores (or replaces) an entry, deletes the expired ones (as `purgeExpired`), then evicts the oldest until at most
   * `maxEntries` remain. A payload over RESPONSE_CACHE_MAX_PAYLOAD_CHARS is refused (returns false, stores nothing).
   */
  abstract put(entry: ResponseCacheEntry, maxEntries: number, now: number, storedAfter?: number): Promise<boolean>;
  /** Deletes the entries expired by `now` or stored at or before `storedAfter` (as `get`); returns how many. */
  abstract purgeExpired(now: number, storedAfter?: number): Promise<number>;
  /** Entries stored (expired ones not yet deleted included). */
  abstract size(): Promise<number>;
  abstract close(): Promise<void>;
}

/** CACHE_MODE=off: nothing is stored, every lookup misses. */
export class OffResponseCacheStore extends ResponseCacheStore {
  readonly kind = 'off' as const;
  init(): Promise<void> {
    return Promise.resolve();
  }
  get(): Promise<ResponseCacheHit | undefined> {
    return Promise.resolve(undefined);
  }
  put(): Promise<boolean> {
    return Promise.resolve(false);
  }
  purgeExpired(): Promise<number> {
    return Promise.resolve(0);
  }
  size(): Promise<number> {
    return Promise.resolve(0);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** SQL shared by both stores (`?` or `$n` placeholders from `param`). */
export const RESPONSE_CACHE_SQL = {
  schema: [
    `CREATE TABLE IF NOT EXISTS response_cache (
  key TEXT PRIMARY KEY,
  payload TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
)`,
    'CREATE INDEX IF NOT EXISTS response_cache_created ON response_cache (created_at, key)',
    'CREATE INDEX IF NOT EXISTS response_cache_expires ON response_cache (expires_at)',
  ],
  get: (p: (i: number) => string): string =>
    `SELECT payload, created_at FROM response_cache WHERE key = ${p(1)} AND expires_at > ${p(2)} AND created_at > ${p(3)}`,
  upsert: (p: (i: number) => string): string =>
    `INSERT INTO response_cache (key, payload, created_at, expires_at) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})
ON CONFLICT (key) DO UPDATE SET payload = excluded.payload, created_at = excluded.created_at, expires_at = excluded.expires_at`,
  deleteExpired: (p: (i: number) => string): string =>
    `DELETE FROM response_cache WHERE expires_at <= ${p(1)} OR created_at <= ${p(2)}`,
  count: 'SELECT COUNT(*) AS n FROM response_cache',
  evictOldest: (p: (i: number) => string): string =>
    `DELETE FROM response_cache WHERE key IN (SELECT key FROM response_cache ORDER BY created_at, key LIMIT ${p(1)})`,
} as const;
