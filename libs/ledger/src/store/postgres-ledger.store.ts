import { Logger } from '@nestjs/common';
import type { Pool, PoolClient, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import {
  HOUR_MS,
  newerSchemaError,
  postgresSchemaVersion,
  postgresStore,
  postgresTransaction,
  schemaMarks,
  schemaMarkUpsert,
  watchPostgresPool,
} from '@app/common';
import { type PrincipalSpend, type PrincipalUsageQuery, rollUpByPrincipal } from '../principal-usage';
import { type HourlyQuery, type HourlyUsage, rollUp, type UsageRecord } from '../usage-record';
import type { RepeatedPrompt, RepeatedPromptQuery, WindowQuery, WindowUsage } from '../window-usage';
import { LedgerStore, type LedgerStoreOptions, type PurgeResult } from './ledger-store.port';
import {
  ADDED_RECORD_COLUMNS,
  hourlyUpgrade,
  ADDED_RECORD_INDEXES,
  POSTGRES_RECORD_KEY,
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
  ADDED_ROLLUP_COLUMNS,
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
import {
  HOUR_RECORDS_COUNT,
  rollupCountsSelect,
  rollupMismatches,
  rollupRepair,
  type RollupRepair,
} from './rollup-repair';
import { LEDGER_SCHEMA } from './schema-version';

/**
 * How long each statement of the start may take (the schema, the advisory lock another instance holds while it
 * creates it, the first start's backfill of the rollups over a day of records), past the pool's query timeout.
 */
export const LEDGER_INIT_QUERY_TIMEOUT_MS = 10 * 60_000;

/**
 * The client-side bound of a batch's COMMIT: none a timer can reach in practice (the longest a Node timer takes). A
 * COMMIT given up on may still commit on the server (a frozen server that resumes, a slow fsync), and the batch,
 * kept for the next flush, would then be written twice; so a COMMIT is waited for until the server answers or the
 * connection breaks. The other statements of a batch have the pool's query timeout: one given up on never commits.
 */
const COMMIT_WAIT_MS = 2_147_483_647;

/** A statement with a client-side timeout of its own (pg reads `query_timeout` per query; its types omit it). */
function timed(text: string, timeoutMs: number, values?: unknown[]): QueryConfig {
  const config: QueryConfig & { query_timeout: number } = { text, values, query_timeout: timeoutMs };
  return config;
}

/** Rows per multi-row INSERT (PostgreSQL allows 65535 parameters per statement). */
const CHUNK = 500;

/** The columns a record is written with here: the shared ones and its key (POSTGRES_RECORD_KEY). */
const KEYED_RECORD_COLUMNS = [...RECORD_COLUMNS, 'record_key'];

function placeholders(rows: number, columns: number): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    out.push(`(${Array.from({ length: columns }, (_, c) => `$${r * columns + c + 1}`).join(', ')})`);
  }
  return out.join(', ');
}

/** A statement of the start, with its own timeout (LEDGER_INIT_QUERY_TIMEOUT_MS). */
type InitQuery = (text: string, values?: unknown[]) => Promise<QueryResult<Record<string, unknown>>>;

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
  private readonly logger = new Logger('PostgresLedgerStore');

  /** The pool is built by the module's factory (the only place the `pg` SDK is configured). */
  constructor(
    private readonly pool: Pool,
    private readonly options: LedgerStoreOptions = {},
  ) {
    super();
    // A connection dropping (a database restart, a failover), idle or checked out, never ends the process.
    watchPostgresPool(pool, 'PostgresLedgerStore');
  }

  async init(): Promise<void> {
    const client = await this.pool.connect();
    const run: InitQuery = (text, values) => client.query(timed(text, LEDGER_INIT_QUERY_TIMEOUT_MS, values));
    try {
      // The start's statements are bounded by the server with the same longer bound (the pool's is a statement's).
      await run(`SET statement_timeout = ${LEDGER_INIT_QUERY_TIMEOUT_MS}`);
      // Serialise schema creation between instances starting together.
      await run('SELECT pg_advisory_lock(7349001)');
      // A ledger a newer build wrote, which this one cannot use, is left as it is.
      const stored = await postgresSchemaVersion(run, 'ledger_meta');
      const newer = newerSchemaError(LEDGER_SCHEMA, stored, 'DATABASE_URL', 'the ledger in this database');
      if (newer) throw newer;
      for (const statement of schema('postgres')) await run(statement);
      // A ledger created by an earlier version gets the columns added since (idempotent).
      for (const [column, type] of ADDED_RECORD_COLUMNS) {
        await run(`ALTER TABLE usage_records ADD COLUMN IF NOT EXISTS ${column} ${type}`);
      }
      for (const statement of ADDED_RECORD_INDEXES) await run(statement);
      for (const statement of POSTGRES_RECORD_KEY) await run(statement);
      // Under the advisory lock: one instance adds the columns and backfills them, the others find them there.
      const hourlyColumns = await run(
        `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'usage_hourly'`,
      );
      const upgrade = hourlyUpgrade(new Set(hourlyColumns.rows.map((r) => String(r.column_name))));
      if (upgrade.length > 0) {
        await run('BEGIN');
        try {
          for (const statement of upgrade) await run(statement);
          await run('COMMIT');
        } catch (error) {
          await run('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }
      for (const statement of rollupSchema('postgres')) await run(statement);
      for (const [column, type] of ADDED_ROLLUP_COLUMNS) {
        await run(`ALTER TABLE usage_10s ADD COLUMN IF NOT EXISTS ${column} ${type}`);
      }
      for (const statement of principalSchema('postgres')) await run(statement);
      const now = (this.options.now ?? Date.now)();
      this.rollupsSince = await this.readSince(run, ROLLUP_SINCE_KEY, rollupStart(now - BACKFILL_MS), rollupBackfill);
      this.principalsSince = await this.readSince(
        run,
        PRINCIPAL_SINCE_KEY,
        principalBackfillStart(now),
        principalBackfill,
      );
      for (const mark of schemaMarks(LEDGER_SCHEMA, stored)) {
        await run(schemaMarkUpsert('ledger_meta', 'postgres'), mark);
      }
    } finally {
      await run('SELECT pg_advisory_unlock(7349001)').catch(() => undefined);
      const reset = await run('RESET statement_timeout').then(
        () => true,
        () => false,
      );
      // A connection whose bound could not be set back is not given to the pool's other users.
      client.release(!reset);
    }
  }

  /**
   * From when a rollup is complete (its mark in `ledger_meta`); the first start of the version that adds it rolls up
   * the records from `since` on first, in one transaction, under the schema lock every instance takes in `init` (so
   * it happens once).
   */
  private async readSince(
    run: InitQuery,
    key: string,
    since: number,
    backfill: (param: (i: number) => string) => string,
  ): Promise<number> {
    const read = async (): Promise<number | undefined> => {
      const result = await run('SELECT value FROM ledger_meta WHERE key = $1', [key]);
      return result.rows[0] === undefined ? undefined : Number(result.rows[0].value);
    };
    const known = await read();
    if (known !== undefined) return known;
    await run('BEGIN');
    try {
      await run(
        backfill((i) => `$${i}`),
        [since],
      );
      await run('INSERT INTO ledger_meta (key, value) VALUES ($1, $2)', [key, since]);
      await run('COMMIT');
    } catch (error) {
      await run('ROLLBACK').catch(() => undefined);
      throw error;
    }
    return since;
  }

  /** One statement on the pool; a database that cannot be used is a DatabaseUnavailableError (503). */
  private query<R extends QueryResultRow = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<QueryResult<R>> {
    return postgresStore('ledger', () => this.pool.query<R>(text, values));
  }

  /**
   * Runs `work` in BEGIN ... COMMIT on one client (ROLLBACK on a throw). A client whose ROLLBACK fails too (the
   * connection is gone, or a statement timed out and still holds it) is discarded, not given back to the pool.
   * `waitForCommit`: the COMMIT has no client-side timeout (COMMIT_WAIT_MS), for writes that must not be repeated.
   */
  private transaction(work: (client: PoolClient) => Promise<void>, waitForCommit = false): Promise<void> {
    if (!waitForCommit) return postgresTransaction('ledger', this.pool, work);
    return postgresTransaction(
      'ledger',
      this.pool,
      async (client: PoolClient) => {
        await work(client);
        // Nor a bound on the server: the pool's statement_timeout could cancel the COMMIT's wait too.
        await client.query('SET LOCAL statement_timeout = 0');
      },
      timed('COMMIT', COMMIT_WAIT_MS),
    );
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

  /**
   * Writes the records and adds them to the rollups, in one transaction. A record whose key is already stored (its
   * batch committed, but the COMMIT's answer was lost and the ledger wrote it again) is skipped, and its figures are
   * not added again.
   */
  async append(batch: readonly UsageRecord[]): Promise<void> {
    if (batch.length === 0) return;
    await this.transaction(async (client) => {
      const repeated = new Set<string>();
      for (let i = 0; i < batch.length; i += CHUNK) {
        const chunk = batch.slice(i, i + CHUNK);
        const values: SqlValue[] = chunk.flatMap((record) => [...recordValues(record), record.key ?? null]);
        const inserted = await client.query<{ record_key: string | null }>(
          `INSERT INTO usage_records (${KEYED_RECORD_COLUMNS.join(', ')}) ` +
            `VALUES ${placeholders(chunk.length, KEYED_RECORD_COLUMNS.length)} ` +
            'ON CONFLICT (record_key) DO NOTHING RETURNING record_key',
          values,
        );
        if (inserted.rowCount === chunk.length) continue;
        const written = new Set(inserted.rows.map((row) => row.record_key));
        for (const record of chunk) if (record.key !== undefined && !written.has(record.key)) repeated.add(record.key);
      }
      const records = repeated.size === 0 ? batch : batch.filter((record) => !repeated.has(record.key ?? ''));
      if (repeated.size > 0) {
        this.logger.log(
          `${repeated.size} of ${batch.length} records were already written (a batch written again after its ` +
            "COMMIT's answer was lost): not counted twice",
        );
      }
      if (records.length === 0) return;
      await this.upsertHourly(client, rollUp(records), 'add');
      const slots = rollUpSlots(records);
      const per = Math.floor(CHUNK / 5); // about 200 columns a row: stay under the parameter limit (65 535)
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
    }, true);
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
    const result = await this.query(
      hourlySelect(query, (i) => `$${i}`),
      hourlyRange(query),
    );
    return result.rows.map((r) => toHourly(r));
  }

  async principalUsage(query: PrincipalUsageQuery): Promise<PrincipalSpend> {
    const result = await this.query(
      principalSelect(query, (i) => `$${i}`),
      principalRange(query),
    );
    return {
      rows: result.rows.map((r) => toPrincipalUsage(r)),
      completeFrom: this.principalsSince,
    };
  }

  async costBetween(from: number, to: number): Promise<number> {
    const result = await this.query<{ cost: string | number | null }>(
      'SELECT COALESCE(SUM(cost_usd), 0) AS cost FROM usage_hourly WHERE hour >= $1 AND hour < $2',
      [from, to],
    );
    return Number(result.rows[0]?.cost ?? 0);
  }

  async window(query: WindowQuery): Promise<WindowUsage[]> {
    const buckets = query.latencyBoundsMs?.length ?? 0;
    const raw = async (from: number, to: number): Promise<WindowUsage[]> => {
      const result = await this.query(
        windowSelect(query, (i) => `$${i}`),
        [from, to],
      );
      return result.rows.map((r) => toWindow(r, buckets)).filter((w) => w.requests > 0);
    };
    const plan = this.options.rollupReads === false ? null : planWindow(query, this.rollupsSince);
    if (!plan) return raw(query.from, query.to);
    const parts = await Promise.all(plan.raw.map(([from, to]) => raw(from, to)));
    if (plan.slots) {
      const result = await this.query(
        rollupSelect(query, plan.buckets, (i) => `$${i}`),
        plan.slots,
      );
      parts.push(result.rows.map((r) => toWindow(r, buckets)));
    }
    return mergeWindows(parts, buckets);
  }

  async repeatedPrompts(query: RepeatedPromptQuery): Promise<RepeatedPrompt[]> {
    const result = await this.query(
      repeatedPromptsSelect((i) => `$${i}`),
      [query.from, query.to, query.minCalls, query.limit],
    );
    return result.rows.map((r) => toRepeatedPrompt(r));
  }

  async countRecords(from: number, to: number): Promise<number> {
    const result = await this.query<{ n: string }>(
      'SELECT COUNT(*) AS n FROM usage_records WHERE ts >= $1 AND ts < $2',
      [from, to],
    );
    return Number(result.rows[0]?.n ?? 0);
  }

  async records(from: number, to: number, limit: number): Promise<UsageRecord[]> {
    const result = await this.query(
      `SELECT ${RECORD_COLUMNS.join(', ')} FROM usage_records WHERE ts >= $1 AND ts < $2 ORDER BY ts, id LIMIT $3`,
      [from, to, limit],
    );
    return result.rows.map((r) => toRecord(r));
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

  async repairRollups(from: number, to: number): Promise<number> {
    const counts = await this.query(rollupCountsSelect(dollar), [from, to]);
    const repairs: RollupRepair[] = [];
    for (const mismatch of rollupMismatches(counts.rows, this.rollupsSince, this.principalsSince)) {
      const records = await this.query(HOUR_RECORDS_COUNT(dollar), [mismatch.hour, mismatch.hour + HOUR_MS]);
      const repair = rollupRepair(mismatch, Number(records.rows[0]?.n ?? 0));
      if (repair) repairs.push(repair);
    }
    if (repairs.length === 0) return 0;
    await this.transaction(async (client) => {
      // Writers of this version upsert these tables in their flush's transaction: they wait until the hours are
      // rebuilt (and two replicas repairing take turns). Taken in the order a flush takes them, so none deadlocks.
      await client.query(`LOCK TABLE usage_10s, ${PRINCIPAL_TABLE} IN SHARE ROW EXCLUSIVE MODE`);
      for (const { hour, slots, principal } of repairs) {
        const range = [hour, hour + HOUR_MS];
        if (slots) {
          await client.query('DELETE FROM usage_10s WHERE slot >= $1 AND slot < $2', range);
          await client.query(rollupBackfill(dollar, true), range);
        }
        if (principal) {
          await client.query(`DELETE FROM ${PRINCIPAL_TABLE} WHERE hour = $1`, [hour]);
          await client.query(principalBackfill(dollar, true), range);
        }
      }
    });
    return repairs.length;
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** PostgreSQL's spelling of the i-th parameter. */
const dollar = (i: number): string => `$${i}`;
