import type { Pool } from 'pg';
import { watchPostgresPool } from '@app/common';
import {
  RESPONSE_CACHE_MAX_PAYLOAD_CHARS,
  RESPONSE_CACHE_SQL as SQL,
  type ResponseCacheEntry,
  type ResponseCacheHit,
  ResponseCacheStore,
} from './response-cache-store.port';

const p = (i: number): string => `$${i}`;

/** Serialises the puts (and their eviction) of every replica, so the size bound holds exactly. */
const EVICTION_LOCK = 7349101;

/**
 * The shared response cache (DATABASE_URL): a `response_cache` table every replica reads and writes, so an answer
 * one replica stored is served by all. Each put is one short transaction under an advisory lock.
 */
export class PostgresResponseCacheStore extends ResponseCacheStore {
  readonly kind = 'postgres' as const;
  private ready: Promise<void> | undefined;

  /** The pool is built by the module's factory (the only place the `pg` SDK is configured). */
  constructor(private readonly pool: Pool) {
    super();
    watchPostgresPool(pool, 'PostgresResponseCacheStore');
  }

  /** Creates the schema once; a failure is forgotten, so the next call tries again. */
  init(): Promise<void> {
    this.ready ??= this.createSchema().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private async createSchema(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [EVICTION_LOCK]);
      for (const statement of SQL.schema) await client.query(statement);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [EVICTION_LOCK]).catch(() => undefined);
      client.release();
    }
  }

  async get(key: string, now: number, storedAfter = 0): Promise<ResponseCacheHit | undefined> {
    await this.init();
    const result = await this.pool.query<{ payload: string; created_at: string }>(SQL.get(p), [key, now, storedAfter]);
    const row = result.rows[0];
    return row ? { payload: row.payload, createdAt: Number(row.created_at) } : undefined;
  }

  async put(entry: ResponseCacheEntry, maxEntries: number, now: number, storedAfter = 0): Promise<boolean> {
    if (entry.payload.length > RESPONSE_CACHE_MAX_PAYLOAD_CHARS) return false;
    await this.init();
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [EVICTION_LOCK]);
      await client.query(SQL.upsert(p), [entry.key, entry.payload, entry.createdAt, entry.expiresAt]);
      await client.query(SQL.deleteExpired(p), [now, storedAfter]);
      const { rows } = await client.query<{ n: string }>(SQL.count);
      const over = Number(rows[0]?.n ?? 0) - maxEntries;
      if (over > 0) await client.query(SQL.evictOldest(p), [over]);
      await client.query('COMMIT');
      return true;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async purgeExpired(now: number, storedAfter = 0): Promise<number> {
    await this.init();
    return (await this.pool.query(SQL.deleteExpired(p), [now, storedAfter])).rowCount ?? 0;
  }

  async size(): Promise<number> {
    await this.init();
    const { rows } = await this.pool.query<{ n: string }>(SQL.count);
    return Number(rows[0]?.n ?? 0);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
