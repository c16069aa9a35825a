import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';
import {
  applyPostgresSchema,
  postgresStore,
  postgresTransaction,
  storableParams,
  storableText,
  watchPostgresPool,
} from '@app/common';
import { IncidentOutboxStore } from './incident-outbox.port';
import { markFailedProgram, type Program, recordAlertProgram, recordRecoveryProgram } from './outbox-programs';
import {
  claimSql,
  dueSeqsSql,
  INCIDENT_META_TABLE,
  INCIDENTS_SCHEMA,
  incidentsSchema,
  lastErrorsSql,
  listEntriesSql,
  markDeliveredSql,
  markRetrySql,
  releaseSql,
  renewLeaseOnServerClockSql,
  selectEntriesBySeqSql,
  selectEntrySql,
  SERVER_NOW_MS,
  statsSql,
  toEntry,
  purgeFinishedSql,
} from './outbox-sql';
import { toStats } from './outbox-stats';
import type {
  AlertRecord,
  DeliveredRef,
  ListFilter,
  OutboxEntry,
  OutboxStats,
  RecordOutcome,
  RecoveryRecord,
} from './outbox.types';

const p = (i: number): string => `$${i}`;
/** Serialises schema creation between instances starting together (the ledger's is 7349001, optimisation's 7349014). */
const SCHEMA_LOCK = 7349015;
type Row = Record<string, unknown>;

/**
 * The shared outbox: PostgreSQL (DATABASE_URL), the ledger's database, tables of its own. The dedupe decision runs
 * in one transaction after `pg_advisory_xact_lock(hashtext(dedupe key))`, so replicas deciding for the same monitor
 * and group take turns (and a unique partial index allows one open incident per key); the claim is
 * `SELECT ... FOR UPDATE SKIP LOCKED` and an UPDATE setting `claimed_by` / `lease_until` in one transaction, the
 * lease timed on the database's clock (one clock for every replica).
 */
export class PostgresIncidentOutbox extends IncidentOutboxStore {
  readonly kind = 'postgres' as const;

  /** The pool is built by the factory (`createIncidentOutboxStore`). */
  constructor(private readonly pool: Pool) {
    super();
    // A connection dropping (a database restart, a failover), idle or checked out, never ends the process.
    watchPostgresPool(pool, 'PostgresIncidentOutbox');
  }

  async init(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [SCHEMA_LOCK]);
      // A newer build's outbox that this one cannot use is left as it is.
      await applyPostgresSchema(
        (text, values) => client.query<Row>(text, values),
        INCIDENTS_SCHEMA,
        INCIDENT_META_TABLE,
        'the incident outbox in this database',
        incidentsSchema('postgres'),
      );
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [SCHEMA_LOCK]).catch(() => undefined);
      client.release();
    }
  }

  /**
   * Runs `work` in BEGIN ... COMMIT on one client (ROLLBACK on a throw; a client whose ROLLBACK fails too is
   * discarded). A database that cannot be used is a DatabaseUnavailableError (503).
   */
  private transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return postgresTransaction('incidents', this.pool, work);
  }

  /**
   * One statement on the pool; a database that cannot be used is a DatabaseUnavailableError (503). Strings go as
   * `storableText` (NUL as U+FFFD: PostgreSQL's text refuses NUL), as in `drive` and the SQLite store.
   */
  private query<R extends QueryResultRow = Row>(text: string, values?: unknown[]): Promise<QueryResult<R>> {
    return postgresStore('incidents', () => this.pool.query<R>(text, values && storableParams(values)));
  }

  private static async drive<T>(client: PoolClient, program: Program<T>): Promise<T> {
    let step = program.next(undefined);
    while (!step.done) {
      const { sql, params, want } = step.value;
      const result = await client.query<Row>(sql, storableParams(params));
      step = program.next(want === 'one' ? result.rows[0] : (result.rowCount ?? 0));
    }
    return step.value;
  }

  /**
   * Runs `program` after the advisory locks of `keys`, in that order (every caller takes the idempotency key's before
   * the dedupe key's: no two transactions wait on each other in opposite orders).
   */
  private async locked<T>(keys: readonly string[], program: Program<T>): Promise<T> {
    return this.transaction(async (client) => {
      for (const key of keys) await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [storableText(key)]);
      return PostgresIncidentOutbox.drive(client, program);
    });
  }

  /**
   * Under the idempotency key's lock too: two requests with one key and different bodies (so different dedupe keys)
   * would otherwise both find the key unused, and the second's insert fail on the primary key.
   */
  recordAlert(alert: AlertRecord): Promise<RecordOutcome> {
    const keys = alert.idempotency ? [`idempotency:${alert.idempotency.key}`, alert.dedupeKey] : [alert.dedupeKey];
    return this.locked(keys, recordAlertProgram(alert, p));
  }

  recordRecovery(recovery: RecoveryRecord): Promise<RecordOutcome> {
    return this.locked([recovery.dedupeKey], recordRecoveryProgram(recovery, p));
  }

  /**
   * Leases are timed on the database's clock (`SERVER_NOW_MS`), not on `now`: a replica whose clock runs ahead by
   * more than the lease would otherwise take over a row its holder is still delivering. `now` still says when a
   * pending row is due (its next attempt) and stamps `updated_at`.
   */
  claimDue(worker: string, now: number, leaseMs: number, limit: number): Promise<OutboxEntry[]> {
    return this.transaction(async (client) => {
      const clock = await client.query<Row>(`SELECT ${SERVER_NOW_MS} AS now_ms`);
      const serverNow = Number(clock.rows[0]?.now_ms);
      const due = await client.query<Row>(dueSeqsSql(p, ' FOR UPDATE OF o SKIP LOCKED'), [now, serverNow, limit]);
      const seqs = due.rows.map((row) => Number(row.seq));
      if (seqs.length === 0) return [];
      await client.query(claimSql(p, seqs.join(', ')), [worker, serverNow + leaseMs, now]);
      const { rows } = await client.query<Row>(selectEntriesBySeqSql(seqs));
      return rows.map(toEntry);
    });
  }

  /** The lease's length (`leaseUntil - now`) from the database's clock, as `claimDue`'s. */
  async renewLease(id: string, worker: string, leaseUntil: number, now: number): Promise<boolean> {
    const { rowCount } = await this.query(renewLeaseOnServerClockSql(p), [leaseUntil - now, now, id, worker]);
    return rowCount === 1;
  }

  async markDelivered(id: string, worker: string, ref: DeliveredRef, now: number): Promise<boolean> {
    const { rowCount } = await this.query(markDeliveredSql(p), [ref.incidentId, ref.url, now, now, id, worker]);
    return rowCount === 1;
  }

  async markRetry(id: string, worker: string, reason: string, nextAttemptAt: number, now: number): Promise<boolean> {
    const { rowCount } = await this.query(markRetrySql(p), [nextAttemptAt, reason, now, id, worker]);
    return rowCount === 1;
  }

  markFailed(id: string, worker: string, reason: string, now: number, incidentGone = false): Promise<boolean> {
    return this.transaction((client) =>
      PostgresIncidentOutbox.drive(client, markFailedProgram(id, worker, reason, now, p, incidentGone)),
    );
  }

  async release(id: string, worker: string, now: number): Promise<boolean> {
    const { rowCount } = await this.query(releaseSql(p), [now, id, worker]);
    return rowCount === 1;
  }

  async get(id: string): Promise<OutboxEntry | undefined> {
    const { rows } = await this.query(selectEntrySql(p), [id]);
    return rows[0] ? toEntry(rows[0]) : undefined;
  }

  async list(filter: ListFilter): Promise<OutboxEntry[]> {
    const { sql, params } = listEntriesSql(filter, p);
    const { rows } = await this.query(sql, params);
    return rows.map(toEntry);
  }

  async stats(now: number): Promise<OutboxStats> {
    const { rows } = await this.query(statsSql);
    return toStats(rows, now);
  }

  async lastErrors(limit: number): Promise<OutboxEntry[]> {
    const { rows } = await this.query(lastErrorsSql(p), [limit]);
    return rows.map(toEntry);
  }

  async purgeFinished(before: number): Promise<{ rows: number; incidents: number }> {
    const [rowsSql, incidentsSql, eventsSql, requestsSql] = purgeFinishedSql(p);
    const rows = await this.query(rowsSql, [before]);
    const incidents = await this.query(incidentsSql, [before]);
    await this.query(eventsSql, [before]);
    await this.query(requestsSql, [before]);
    return { rows: rows.rowCount ?? 0, incidents: incidents.rowCount ?? 0 };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
