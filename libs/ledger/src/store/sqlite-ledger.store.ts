import {
  HOUR_MS,
  newerSchemaError,
  openSqliteFile,
  schemaMarks,
  schemaMarkUpsert,
  sqliteSchemaVersion,
  settle,
  sqliteFileError,
  sqliteStore,
  sqliteTransaction,
  useServingBusyTimeout,
} from '@app/common';
import { type DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { type PrincipalSpend, type PrincipalUsageQuery, rollUpByPrincipal } from '../principal-usage';
import { type HourlyQuery, type HourlyUsage, rollUp, type UsageRecord } from '../usage-record';
import type { RepeatedPrompt, RepeatedPromptQuery, WindowQuery, WindowUsage } from '../window-usage';
import { LedgerStore, type LedgerStoreOptions, type PurgeResult } from './ledger-store.port';
import {
  ADDED_RECORD_COLUMNS,
  hourlyUpgrade,
  ADDED_RECORD_INDEXES,
  HOURLY_COLUMNS,
  hourlyRange,
  hourlySelect,
  hourlyUpsert,
  hourlyValues,
  RECORD_COLUMNS,
  recordValues,
  schema,
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
 * The embedded store: Node 24's built-in `node:sqlite` on one file (WAL mode, so readers never wait for the
 * writer; a busy timeout lets several processes share the file). Calls are synchronous inside; each batch is
 * one short transaction.
 */
export class SqliteLedgerStore extends LedgerStore {
  readonly kind = 'sqlite' as const;
  private db: DatabaseSync | undefined;
  private insertRecord: StatementSync | undefined;
  private addHourly: StatementSync | undefined;
  private replaceHourly: StatementSync | undefined;
  private addRollup: StatementSync | undefined;
  private addPrincipal: StatementSync | undefined;
  /** From which slot the 10-second rollups are complete; null until init. */
  private rollupsSince: number | null = null;
  /** From which hour the rollup by principal is complete; null until init. */
  private principalsSince: number | null = null;

  constructor(
    readonly file: string,
    private readonly options: LedgerStoreOptions = {},
  ) {
    super();
  }

  init(): Promise<void> {
    if (this.db) return Promise.resolve();
    return settle(() => {
      // The schema comes after the look at the ledger's version (prepare): a newer build's ledger is left as it is.
      const db = openSqliteFile(this.file);
      try {
        this.prepare(db);
        // Served from now on: a lock held by another process is waited for between attempts (sqliteStore), not here.
        useServingBusyTimeout(db);
      } catch (error) {
        // The file opened but its tables cannot be read or upgraded (a damaged page): say which file, as for one that
        // does not open.
        this.db = undefined;
        db.close();
        throw sqliteFileError(this.file, error);
      }
    });
  }

  /** Upgrades an earlier version's ledger, prepares the statements and reads (or backfills) the rollups' marks. */
  private prepare(db: DatabaseSync): void {
    const stored = sqliteSchemaVersion(db, 'ledger_meta');
    const newer = newerSchemaError(LEDGER_SCHEMA, stored, 'DATA_DIR', `the ledger "${this.file}"`);
    if (newer) throw newer;
    for (const statement of schema('sqlite')) db.exec(statement);
    // SQLite has no ADD COLUMN IF NOT EXISTS: add the columns a ledger created by an earlier version lacks.
    const present = columnsOf(db, 'usage_records');
    for (const [column, type] of ADDED_RECORD_COLUMNS) {
      if (!present.has(column)) db.exec(`ALTER TABLE usage_records ADD COLUMN ${column} ${type}`);
    }
    for (const statement of ADDED_RECORD_INDEXES) db.exec(statement);
    this.upgradeHourly(db);
    const row = (n: number): string => `(${Array.from({ length: n }, () => '?').join(', ')})`;
    this.insertRecord = db.prepare(
      `INSERT INTO usage_records (${RECORD_COLUMNS.join(', ')}) VALUES ${row(RECORD_COLUMNS.length)}`,
    );
    this.addHourly = db.prepare(hourlyUpsert(row(HOURLY_COLUMNS.length), 'add'));
    this.replaceHourly = db.prepare(hourlyUpsert(row(HOURLY_COLUMNS.length), 'replace'));
    for (const statement of rollupSchema('sqlite')) db.exec(statement);
    const rollupColumns = columnsOf(db, 'usage_10s');
    for (const [column, type] of ADDED_ROLLUP_COLUMNS) {
      if (!rollupColumns.has(column)) db.exec(`ALTER TABLE usage_10s ADD COLUMN ${column} ${type}`);
    }
    this.addRollup = db.prepare(rollupUpsert(row(ROLLUP_COLUMNS.length)));
    for (const statement of principalSchema('sqlite')) db.exec(statement);
    this.addPrincipal = db.prepare(principalUpsert(row(PRINCIPAL_COLUMNS.length)));
    this.db = db;
    const now = (this.options.now ?? Date.now)();
    this.rollupsSince = this.readSince(db, ROLLUP_SINCE_KEY, rollupStart(now - BACKFILL_MS), rollupBackfill);
    this.principalsSince = this.readSince(db, PRINCIPAL_SINCE_KEY, principalBackfillStart(now), principalBackfill);
    const mark = db.prepare(schemaMarkUpsert('ledger_meta', 'sqlite'));
    for (const [key, value] of schemaMarks(LEDGER_SCHEMA, stored)) mark.run(key, value);
  }

  /** Adds `usage_hourly`'s timed latency columns with their backfill and `errors_unknown`, once (another process opening the file meanwhile waits). */
  private upgradeHourly(db: DatabaseSync): void {
    if (hourlyUpgrade(columnsOf(db, 'usage_hourly')).length === 0) return;
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const statement of hourlyUpgrade(columnsOf(db, 'usage_hourly'))) db.exec(statement);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }

  /**
   * Reads from when a rollup is complete (its mark in `ledger_meta`); on the first start of the version that adds
   * it, rolls up the records from `start` on first (one transaction: another process opening the same file waits,
   * then reads the mark).
   */
  private readSince(
    db: DatabaseSync,
    key: string,
    start: number,
    backfill: (param: (i: number) => string) => string,
  ): number {
    const read = (): number | undefined => {
      const row = db.prepare('SELECT value FROM ledger_meta WHERE key = ?').get(key) as { value: number } | undefined;
      return row === undefined ? undefined : Number(row.value);
    };
    const known = read();
    if (known !== undefined) return known;
    let since = start;
    this.transaction(() => {
      const again = read();
      if (again !== undefined) {
        since = again;
        return;
      }
      db.prepare(backfill(() => '?')).run(since);
      db.prepare('INSERT INTO ledger_meta (key, value) VALUES (?, ?)').run(key, since);
    });
    return since;
  }

  private open(): DatabaseSync {
    if (!this.db) throw new Error('SQLite ledger store is not initialised (or closed)');
    return this.db;
  }

  private transaction(work: () => void): void {
    sqliteTransaction(this.open(), work);
  }

  append(records: readonly UsageRecord[]): Promise<void> {
    return sqliteStore('ledger', () => {
      if (records.length === 0) return;
      this.transaction(() => {
        for (const r of records) this.insertRecord!.run(...(recordValues(r) as SQLInputValue[]));
        for (const h of rollUp(records)) this.addHourly!.run(...(hourlyValues(h) as SQLInputValue[]));
        for (const m of rollUpSlots(records)) this.addRollup!.run(...(m as SQLInputValue[]));
        for (const p of rollUpByPrincipal(records)) this.addPrincipal!.run(...(principalValues(p) as SQLInputValue[]));
      });
    });
  }

  putHourly(rows: readonly HourlyUsage[]): Promise<void> {
    return sqliteStore('ledger', () => {
      if (rows.length === 0) return;
      this.transaction(() => {
        for (const h of rows) this.replaceHourly!.run(...(hourlyValues(h) as SQLInputValue[]));
      });
    });
  }

  hourly(query: HourlyQuery): Promise<HourlyUsage[]> {
    return sqliteStore('ledger', () => {
      const rows = this.open()
        .prepare(hourlySelect(query, () => '?'))
        .all(...hourlyRange(query));
      return rows.map((r) => toHourly(r as Record<string, unknown>));
    });
  }

  principalUsage(query: PrincipalUsageQuery): Promise<PrincipalSpend> {
    return sqliteStore('ledger', () => {
      const rows = this.open()
        .prepare(principalSelect(query, () => '?'))
        .all(...principalRange(query));
      return {
        rows: rows.map((r) => toPrincipalUsage(r as Record<string, unknown>)),
        completeFrom: this.principalsSince,
      };
    });
  }

  costBetween(from: number, to: number): Promise<number> {
    return sqliteStore('ledger', () => {
      const row = this.open()
        .prepare('SELECT COALESCE(SUM(cost_usd), 0) AS cost FROM usage_hourly WHERE hour >= ? AND hour < ?')
        .get(from, to) as { cost: number } | undefined;
      return Number(row?.cost ?? 0);
    });
  }

  window(query: WindowQuery): Promise<WindowUsage[]> {
    return sqliteStore('ledger', () => {
      const db = this.open();
      const buckets = query.latencyBoundsMs?.length ?? 0;
      const raw = (from: number, to: number): WindowUsage[] =>
        db
          .prepare(windowSelect(query, () => '?'))
          .all(from, to)
          .map((r) => toWindow(r as Record<string, unknown>, buckets))
          .filter((w) => w.requests > 0);
      const plan = this.options.rollupReads === false ? null : planWindow(query, this.rollupsSince);
      if (!plan) return raw(query.from, query.to);
      const parts = plan.raw.map(([from, to]) => raw(from, to));
      if (plan.slots) {
        const rows = db.prepare(rollupSelect(query, plan.buckets, () => '?')).all(...plan.slots);
        parts.push(rows.map((r) => toWindow(r as Record<string, unknown>, buckets)));
      }
      return mergeWindows(parts, buckets);
    });
  }

  repeatedPrompts(query: RepeatedPromptQuery): Promise<RepeatedPrompt[]> {
    return sqliteStore('ledger', () =>
      this.open()
        .prepare(repeatedPromptsSelect(() => '?'))
        .all(query.from, query.to, query.minCalls, query.limit)
        .map((r) => toRepeatedPrompt(r as Record<string, unknown>)),
    );
  }

  countRecords(from: number, to: number): Promise<number> {
    return sqliteStore('ledger', () => {
      const row = this.open()
        .prepare('SELECT COUNT(*) AS n FROM usage_records WHERE ts >= ? AND ts < ?')
        .get(from, to) as { n: number } | undefined;
      return Number(row?.n ?? 0);
    });
  }

  records(from: number, to: number, limit: number): Promise<UsageRecord[]> {
    return sqliteStore('ledger', () => {
      const rows = this.open()
        .prepare(
          `SELECT ${RECORD_COLUMNS.join(', ')} FROM usage_records WHERE ts >= ? AND ts < ? ORDER BY ts, id LIMIT ?`,
        )
        .all(from, to, limit);
      return rows.map((r) => toRecord(r as Record<string, unknown>));
    });
  }

  purgeBefore(before: number): Promise<PurgeResult> {
    return sqliteStore('ledger', () => {
      let result: PurgeResult = { records: 0, hours: 0 };
      this.transaction(() => {
        const db = this.open();
        const records = db.prepare('DELETE FROM usage_records WHERE ts < ?').run(before).changes;
        const hours = db.prepare('DELETE FROM usage_hourly WHERE hour < ?').run(before).changes;
        db.prepare('DELETE FROM usage_10s WHERE slot < ?').run(before);
        db.prepare(`DELETE FROM ${PRINCIPAL_TABLE} WHERE hour < ?`).run(before);
        result = { records: Number(records), hours: Number(hours) };
      });
      return result;
    });
  }

  repairRollups(from: number, to: number): Promise<number> {
    return sqliteStore('ledger', () => {
      const db = this.open();
      const counts = db.prepare(rollupCountsSelect((i) => `?${i}`)).all(from, to);
      const repairs: RollupRepair[] = [];
      for (const mismatch of rollupMismatches(counts, this.rollupsSince, this.principalsSince)) {
        const { n } = db.prepare(HOUR_RECORDS_COUNT(() => '?')).get(mismatch.hour, mismatch.hour + HOUR_MS) as {
          n: number;
        };
        const repair = rollupRepair(mismatch, Number(n));
        if (repair) repairs.push(repair);
      }
      if (repairs.length === 0) return 0;
      // One write transaction: every other writer (this process's flush, another process on the file) waits for it.
      this.transaction(() => {
        for (const { hour, slots, principal } of repairs) {
          if (slots) {
            db.prepare('DELETE FROM usage_10s WHERE slot >= ? AND slot < ?').run(hour, hour + HOUR_MS);
            db.prepare(rollupBackfill(() => '?', true)).run(hour, hour + HOUR_MS);
          }
          if (principal) {
            db.prepare(`DELETE FROM ${PRINCIPAL_TABLE} WHERE hour = ?`).run(hour);
            db.prepare(principalBackfill(() => '?', true)).run(hour, hour + HOUR_MS);
          }
        }
      });
      return repairs.length;
    });
  }

  ping(): Promise<void> {
    return sqliteStore('ledger', () => {
      this.open().prepare('SELECT 1').get();
    });
  }

  close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
    return Promise.resolve();
  }
}

/** The names of a table's columns (SQLite has no ADD COLUMN IF NOT EXISTS: what an earlier version lacks is added). */
function columnsOf(db: DatabaseSync, table: string): Set<string> {
  return new Set(
    db
      .prepare(`PRAGMA table_info(${table})`)
      .all()
      .map((c) => String((c as { name: unknown }).name)),
  );
}
