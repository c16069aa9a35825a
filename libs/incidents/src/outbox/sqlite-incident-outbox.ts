import {
  applySqliteSchema,
  openSqliteFile,
  settle,
  sqliteFileError,
  sqliteStore,
  sqliteTransaction,
  storableParams,
  storableText,
  useServingBusyTimeout,
} from '@app/common';
import { type DatabaseSync, type SQLInputValue } from 'node:sqlite';
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
  renewLeaseSql,
  selectEntriesBySeqSql,
  selectEntrySql,
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

/** Numbered parameters (`?7`): a statement may use one value twice, as PostgreSQL's `$7` does. */
const q = (i: number): string => `?${i}`;
type Row = Record<string, unknown>;

/** The due rows, with the state look-ups of each due update read from covering indexes (`dueSeqsSql`). */
export const SQLITE_DUE_SEQS_SQL = dueSeqsSql(q, '', true);

/**
 * The embedded outbox: `node:sqlite` on its own file (`incidents.sqlite` under DATA_DIR), WAL mode and a busy
 * timeout like the optimisation store, so several processes on one host can share it. Every transaction runs
 * synchronously under `BEGIN IMMEDIATE` (the database's write lock): the dedupe decision and the claim are atomic
 * across processes, and nothing else in this process can use the connection in the middle of one.
 */
export class SqliteIncidentOutbox extends IncidentOutboxStore {
  readonly kind = 'sqlite' as const;
  private db: DatabaseSync | undefined;

  constructor(private readonly file: string) {
    super();
  }

  init(): Promise<void> {
    return settle(() => {
      if (this.db) return;
      // The schema comes after the look at the outbox's version: a newer build's outbox is left as it is.
      const db = openSqliteFile(this.file);
      try {
        const where = `the incident outbox "${this.file}"`;
        applySqliteSchema(db, INCIDENTS_SCHEMA, INCIDENT_META_TABLE, where, incidentsSchema('sqlite'));
      } catch (error) {
        db.close();
        throw sqliteFileError(this.file, error);
      }
      useServingBusyTimeout(db);
      this.db = db;
    });
  }

  private open(): DatabaseSync {
    if (!this.db) throw new Error('SQLite incident outbox is not initialised (or closed)');
    return this.db;
  }

  /** Runs `work` inside BEGIN IMMEDIATE ... COMMIT (ROLLBACK on a throw). */
  private transaction<T>(work: (db: DatabaseSync) => T): T {
    const db = this.open();
    return sqliteTransaction(db, () => work(db));
  }

  /**
   * Drives a transaction program synchronously. Strings go as `storableText` (NUL as U+FFFD), as on PostgreSQL,
   * whose text refuses NUL: both stores hold and answer the same text.
   */
  private runProgram<T>(program: Program<T>): T {
    return this.transaction((db) => {
      let step = program.next(undefined);
      while (!step.done) {
        const { sql, params, want } = step.value;
        const statement = db.prepare(sql);
        const args = storableParams(params) as SQLInputValue[];
        step =
          want === 'one' ? program.next(statement.get(...args)) : program.next(Number(statement.run(...args).changes));
      }
      return step.value;
    });
  }

  recordAlert(alert: AlertRecord): Promise<RecordOutcome> {
    return sqliteStore('incidents', () => this.runProgram(recordAlertProgram(alert, q)));
  }

  recordRecovery(recovery: RecoveryRecord): Promise<RecordOutcome> {
    return sqliteStore('incidents', () => this.runProgram(recordRecoveryProgram(recovery, q)));
  }

  claimDue(worker: string, now: number, leaseMs: number, limit: number): Promise<OutboxEntry[]> {
    return sqliteStore('incidents', () => {
      const seqs = this.transaction((db) => {
        const due = db
          .prepare(SQLITE_DUE_SEQS_SQL)
          .all(now, now, limit)
          .map((row) => Number((row as Row).seq));
        if (due.length === 0) return due;
        db.prepare(claimSql(q, due.join(', '))).run(worker, now + leaseMs, now);
        return due;
      });
      if (seqs.length === 0) return [];
      return this.open()
        .prepare(selectEntriesBySeqSql(seqs))
        .all()
        .map((row) => toEntry(row as Row));
    });
  }

  renewLease(id: string, worker: string, leaseUntil: number, now: number): Promise<boolean> {
    return sqliteStore(
      'incidents',
      () => Number(this.open().prepare(renewLeaseSql(q)).run(leaseUntil, now, id, worker).changes) === 1,
    );
  }

  markDelivered(id: string, worker: string, ref: DeliveredRef, now: number): Promise<boolean> {
    return sqliteStore('incidents', () => {
      const { changes } = this.open().prepare(markDeliveredSql(q)).run(ref.incidentId, ref.url, now, now, id, worker);
      return Number(changes) === 1;
    });
  }

  markRetry(id: string, worker: string, reason: string, nextAttemptAt: number, now: number): Promise<boolean> {
    return sqliteStore('incidents', () => {
      const { changes } = this.open()
        .prepare(markRetrySql(q))
        .run(nextAttemptAt, storableText(reason), now, id, worker);
      return Number(changes) === 1;
    });
  }

  markFailed(id: string, worker: string, reason: string, now: number, incidentGone = false): Promise<boolean> {
    return sqliteStore('incidents', () => this.runProgram(markFailedProgram(id, worker, reason, now, q, incidentGone)));
  }

  release(id: string, worker: string, now: number): Promise<boolean> {
    return sqliteStore(
      'incidents',
      () => Number(this.open().prepare(releaseSql(q)).run(now, id, worker).changes) === 1,
    );
  }

  get(id: string): Promise<OutboxEntry | undefined> {
    return sqliteStore('incidents', () => {
      const row = this.open().prepare(selectEntrySql(q)).get(id);
      return row ? toEntry(row) : undefined;
    });
  }

  list(filter: ListFilter): Promise<OutboxEntry[]> {
    return sqliteStore('incidents', () => {
      const { sql, params } = listEntriesSql(filter, q);
      return this.open()
        .prepare(sql)
        .all(...(params as SQLInputValue[]))
        .map((row) => toEntry(row as Row));
    });
  }

  stats(now: number): Promise<OutboxStats> {
    return sqliteStore('incidents', () =>
      toStats(
        this.open()
          .prepare(statsSql)
          .all()
          .map((row) => row as Row),
        now,
      ),
    );
  }

  lastErrors(limit: number): Promise<OutboxEntry[]> {
    return sqliteStore('incidents', () =>
      this.open()
        .prepare(lastErrorsSql(q))
        .all(limit)
        .map((row) => toEntry(row as Row)),
    );
  }

  purgeFinished(before: number): Promise<{ rows: number; incidents: number }> {
    return sqliteStore('incidents', () => {
      const [rowsSql, incidentsSql, eventsSql, requestsSql] = purgeFinishedSql(q);
      const db = this.open();
      const rows = Number(db.prepare(rowsSql).run(before).changes);
      const incidents = Number(db.prepare(incidentsSql).run(before).changes);
      db.prepare(eventsSql).run(before);
      db.prepare(requestsSql).run(before);
      return { rows, incidents };
    });
  }

  close(): Promise<void> {
    return settle(() => {
      this.db?.close();
      this.db = undefined;
    });
  }
}
