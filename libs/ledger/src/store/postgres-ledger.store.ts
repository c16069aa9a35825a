import { Logger } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { type PrincipalSpend, type PrincipalUsageQuery, rollUpByPrincipal } from '../principal-usage';
import { type HourlyQuery, type HourlyUsage, rollUp, type UsageRecord } from '../usage-record';
import type { RepeatedPrompt, RepeatedPromptQuery, WindowQuery, WindowUsage } from '../window-usage';
import { LedgerStore, type LedgerStoreOptions, type PurgeResult } from './ledger-store.port';
import {
  ADDED_RECORD_COLUMNS,
  ADDED_RECORD_INDEXES,
  HOURLY_COLUMNS,
  hourlyRange,
  hourlySelect,
  hourlyUpsert,
  hourlyValues,
  RECORD_COLUMNS,
  recordValues,
  schema,
  type SqlValue,
  toHourly,
  toRecord,
  toWindow,
  windowSelect,
  repeatedPromptsSelect,
  toRepeatedPrompt,
} from './ledger-sql';
import {
  BACKFILL_MS,
  ROLLUP_COLUMNS,
  ROLLUP_SINCE_KEY,
  mergeWindows,
  rollupBackfill,
  rollupSchema,
  rollupSelect,
  rollupStart,
  rollupUpsert,
  planWindow,
  rollUpSlots,
} from './window-rollup';
import {
  PRINCIPAL_COLUMNS,
  PRINCIPAL_SINCE_KEY,
  PRINCIPAL_TABLE,
  principalBackfill,
  principalBackfillStart,
  principalRange,
  principalSchema,
  principalSelect,
  principalUpsert,
  principalValues,
  toPrincipalUsage,
} from './principal-rollup';

/** Rows per multi-row INSERT (PostgreSQL allows 65535 parameters per statement). */
const CHUNK = 500;

function placeholders(rows: number, columns: number): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    out.push(`(${Array.from({ length: columns }, (_, c) => `$${r * columns + c + 1}`).join(', ')})`);
  }
  return out.join(', ');
}

/**
 * The shared store for several instances behind a load balancer (DATABASE_URL). Each batch is one
 * transaction; rollup rows are upserted in key order so concurrent writers never deadlock.
 */
export class PostgresLedgerStore extends LedgerStore {
  readonly kind = 'postgres' as const;
  /** From which slot the 10-second rollups are complete; null until init. */
  private rollupsSince: number | null = null;
  /** From which hour the rollup by principal is complete; null until init. */
  private principalsSince: number | null = null;

  /** The pool is built by the module's factory (the only place the `pg` SDK is configured). */
  constructor(
    private readonly pool: Pool,
    private readonly options: LedgerStoreOptions = {},
  ) {
    super();
    // An idle client's connection dropping (a database restart, a failover) is reported here; the pool replaces
    // the client. Unhandled, the event would end the process.
    pool.on('error', (error) => new Logger('PostgresLedgerStore').warn(`idle connection lost: ${error.message}`));
  }

  async init(): Promise<void> {
    const client = await this.pool.connect();
    try {
      // Serialise schema creation between instances starting together.
      await client.query('SELECT pg_advisory_lock(7349001)');
      for (const statement of schema('postgres')) await client.query(statement);
      // A ledger created by an earlier version gets the columns added since (idempotent).
      for (const [column, type] of ADDED_RECORD_COLUMNS) {
        await client.query(`ALTER TABLE usage_records ADD COLUMN IF NOT EXISTS ${column} ${type}`);
      }
      for (const statement of ADDED_RECORD_INDEXES) await client.query(statement);
      for (const statement of rollupSchema('postgres')) await client.query(statement);
      for (const statement of principalSchema('postgres')) await client.query(statement);
      const now = (this.options.now ?? Date.now)();
      this.rollupsSince = await this.readSince(
        client,
        ROLLUP_SINCE_KEY,
        rollupStart(now - BACKFILL_MS),
        rollupBackfill,
      );
      this.principalsSince = await this.readSince(
        client,
        PRINCIPAL_SINCE_KEY,
        principalBackfillStart(now),
        principalBackfill,
      );
    } finally {
      await client.query('SELECT pg_advisory_unlock(7349001)').catch(() => undefined);
      client.release();
    }
  }

  /**
   * From when a rollup is complete (its mark in `ledger_meta`); the first start of the version that adds it rolls up
   * the records from `since` on first, in one transaction, under the schema lock every instance takes in `init` (so
   * it happens once).
   */
  private async readSince(
    client: PoolClient,
    key: string,
    since: number,
    backfill: (param: (i: number) => string) => string,
  ): Promise<number> {
    const read = async (): Promise<number | undefined> => {
      const result = await client.query<{ value: string }>('SELECT value FROM ledger_meta WHERE key = $1', [key]);
      return result.rows[0] === undefined ? undefined : Number(result.rows[0].value);
    };
    const known = await read();
    if (known !== undefined) return known;
    await client.query('BEGIN');
    try {
      await client.query(
        backfill((i) => `$${i}`),
        [since],
      );
      await client.query('INSERT INTO ledger_meta (key, value) VALUES ($1, $2)', [key, since]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    return since;
  }

  private async transaction(work: (client: PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await work(client);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private async upsertHourly(client: PoolClient, rows: readonly HourlyUsage[], mode: 'add' | 'replace'): Promise<void> {
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      await client.query(
        hourlyUpsert(placeholders(chunk.length, HOURLY_COLUMNS.length), mode),
        chunk.flatMap(hourlyValues),
      );
    }
  }

  async append(records: readonly UsageRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.transaction(async (client) => {
      for (let i = 0; i < records.length; i += CHUNK) {
        const chunk = records.slice(i, i + CHUNK);
        const values: SqlValue[] = chunk.flatMap(recordValues);
        await client.query(
          `INSERT INTO usage_records (${RECORD_COLUMNS.join(', ')}) VALUES ${placeholders(chunk.length, RECORD_COLUMNS.length)}`,
          values,
        );
      }
      await this.upsertHourly(client, rollUp(records), 'add');
      const slots = rollUpSlots(records);
      const per = Math.floor(CHUNK / 5); // 110 columns a row: stay under the parameter limit
      for (let i = 0; i < slots.length; i += per) {
        const chunk = slots.slice(i, i + per);
        await client.query(rollupUpsert(placeholders(chunk.length, ROLLUP_COLUMNS.length)), chunk.flat());
      }
      const principals = rollUpByPrincipal(records);
      for (let i = 0; i < principals.length; i += CHUNK) {
        const chunk = principals.slice(i, i + CHUNK);
        await client.query(
          principalUpsert(placeholders(chunk.length, PRINCIPAL_COLUMNS.length)),
          chunk.flatMap(principalValues),
        );
      }
    });
  }

  async putHourly(rows: readonly HourlyUsage[]): Promise<void> {
    if (rows.length === 0) return;
    const sorted = [...rows].sort(
      (a, b) =>
        a.hour - b.hour ||
        a.endpoint.localeCompare(b.endpoint) ||
        a.provider.localeCompare(b.provider) ||
        a.model.localeCompare(b.model),
    );
    await this.transaction((client) => this.upsertHourly(client, sorted, 'replace'));
  }

  async hourly(query: HourlyQuery): Promise<HourlyUsage[]> {
    const result = await this.pool.query(
      hourlySelect(query, (i) => `$${i}`),
      hourlyRange(query),
    );
    return result.rows.map((r) => toHourly(r as Record<string, unknown>));
  }

  async principalUsage(query: PrincipalUsageQuery): Promise<PrincipalSpend> {
    const result = await this.pool.query(
      principalSelect(query, (i) => `$${i}`),
      principalRange(query),
    );
    return {
      rows: result.rows.map((r) => toPrincipalUsage(r as Record<string, unknown>)),
      completeFrom: this.principalsSince,
    };
  }

  async costBetween(from: number, to: number): Promise<number> {
    const result = await this.pool.query<{ cost: string | number | null }>(
      'SELECT COALESCE(SUM(cost_usd), 0) AS cost FROM usage_hourly WHERE hour >= $1 AND hour < $2',
      [from, to],
    );
    return Number(result.rows[0]?.cost ?? 0);
  }

  async window(query: WindowQuery): Promise<WindowUsage[]> {
    const buckets = query.latencyBoundsMs?.length ?? 0;
    const raw = async (from: number, to: number): Promise<WindowUsage[]> => {
      const result = await this.pool.query(
        windowSelect(query, (i) => `$${i}`),
        [from, to],
      );
      return result.rows.map((r) => toWindow(r as Record<string, unknown>, buckets)).filter((w) => w.requests > 0);
    };
    const plan = this.options.rollupReads === false ? null : planWindow(query, this.rollupsSince);
    if (!plan) return raw(query.from, query.to);
    const parts = await Promise.all(plan.raw.map(([from, to]) => raw(from, to)));
    if (plan.slots) {
      const result = await this.pool.query(
        rollupSelect(query, plan.buckets, (i) => `$${i}`),
        plan.slots,
      );
      parts.push(result.rows.map((r) => toWindow(r as Record<string, unknown>, buckets)));
    }
    return mergeWindows(parts, buckets);
  }

  async repeatedPrompts(query: RepeatedPromptQuery): Promise<RepeatedPrompt[]> {
    const result = await this.pool.query(
      repeatedPromptsSelect((i) => `$${i}`),
      [query.from, query.to, query.minCalls, query.limit],
    );
    return result.rows.map((r) => toRepeatedPrompt(r as Record<string, unknown>));
  }

  async countRecords(from: number, to: number): Promise<number> {
    const result = await this.pool.query<{ n: string }>(
      'SELECT COUNT(*) AS n FROM usage_records WHERE ts >= $1 AND ts < $2',
      [from, to],
    );
    return Number(result.rows[0]?.n ?? 0);
  }

  async records(from: number, to: number, limit: number): Promise<UsageRecord[]> {
    const result = await this.pool.query(
      `SELECT ${RECORD_COLUMNS.join(', ')} FROM usage_records WHERE ts >= $1 AND ts < $2 ORDER BY ts, id LIMIT $3`,
      [from, to, limit],
    );
    return result.rows.map((r) => toRecord(r as Record<string, unknown>));
  }

  async purgeBefore(before: number): Promise<PurgeResult> {
    let result: PurgeResult = { records: 0, hours: 0 };
    await this.transaction(async (client) => {
      const records = await client.query('DELETE FROM usage_records WHERE ts < $1', [before]);
      const hours = await client.query('DELETE FROM usage_hourly WHERE hour < $1', [before]);
      await client.query('DELETE FROM usage_10s WHERE slot < $1', [before]);
      await client.query(`DELETE FROM ${PRINCIPAL_TABLE} WHERE hour < $1`, [before]);
      result = { records: records.rowCount ?? 0, hours: hours.rowCount ?? 0 };
    });
    return result;
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
