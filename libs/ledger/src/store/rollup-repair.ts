import { HOUR_MS } from '@app/common';
import { windowColumn } from './ledger-sql';
import { PRINCIPAL_TABLE } from './principal-rollup';

/**
 * How far back the ledger compares its rollups with the hourly totals (`UsageLedger` does, at start and hourly): a
 * rolling upgrade's overlap, or a rollback to an earlier build, within the last day is rebuilt.
 */
export const REPAIR_LOOKBACK_MS = 24 * HOUR_MS;

/**
 * Per hour of [`$1`, `$2`) holding calls, the requests of the hourly rollup and of the 10-second and by-key rollups.
 * A replica of an earlier version (during a rolling upgrade, or a rollback) writes its calls' records and hourly rows
 * but not these rollups, which this version writes in the same transaction: an hour where they differ holds such
 * calls. Read on the tables' primary keys; `param(i)` spells the i-th parameter of the dialect.
 */
export function rollupCountsSelect(param: (i: number) => string): string {
  return `SELECT h.hour AS hour, h.n AS requests,
  (SELECT COALESCE(SUM(p.requests), 0) FROM ${PRINCIPAL_TABLE} p WHERE p.hour = h.hour) AS by_principal,
  (SELECT COALESCE(SUM(s.${windowColumn('requests')}), 0) FROM usage_10s s
    WHERE s.slot >= h.hour AND s.slot < h.hour + ${HOUR_MS}) AS by_slot
FROM (SELECT hour, SUM(requests) AS n FROM usage_hourly WHERE hour >= ${param(1)} AND hour < ${param(2)} GROUP BY hour) h
ORDER BY h.hour`;
}

/** An hour whose rollups are rebuilt from its records: its 10-second slots, its rows by key, or both. */
export interface RollupRepair {
  hour: number;
  slots: boolean;
  principal: boolean;
}

/** An hour whose rollups count other calls than its hourly rollup, and what each of them counts. */
export interface RollupMismatch {
  hour: number;
  /** Calls counted by the 10-second slots (null: the hour is before they are complete, not compared). */
  bySlot: number | null;
  /** Calls counted by the rollup by key (null: before it is complete). */
  byPrincipal: number | null;
}

/** The records of one hour, counted (only for an hour whose rollups disagree with its hourly one). */
export const HOUR_RECORDS_COUNT = (param: (i: number) => string): string =>
  `SELECT COUNT(*) AS n FROM usage_records WHERE ts >= ${param(1)} AND ts < ${param(2)}`;

/**
 * The hours whose 10-second or by-key rollup counts other calls than the hourly one, from where each rollup is
 * complete on (`rollupsSince`, `principalsSince`: earlier hours are read from the records).
 */
export function rollupMismatches(
  rows: readonly Record<string, unknown>[],
  rollupsSince: number | null,
  principalsSince: number | null,
): RollupMismatch[] {
  const mismatches: RollupMismatch[] = [];
  for (const row of rows) {
    const hour = Number(row.hour);
    const requests = Number(row.requests);
    const bySlot = rollupsSince !== null && hour >= rollupsSince ? Number(row.by_slot) : null;
    const byPrincipal = principalsSince !== null && hour >= principalsSince ? Number(row.by_principal) : null;
    if ((bySlot !== null && bySlot !== requests) || (byPrincipal !== null && byPrincipal !== requests)) {
      mismatches.push({ hour, bySlot, byPrincipal });
    }
  }
  return mismatches;
}

/**
 * What to rebuild of an hour whose rollups disagree with its hourly one, given its records: the rollups that count
 * other calls than the records. Undefined when they count them all: the hourly rollup holds imported usage (an hour
 * with no records, `ledger:import`), which the other rollups never hold.
 */
export function rollupRepair(mismatch: RollupMismatch, records: number): RollupRepair | undefined {
  const slots = mismatch.bySlot !== null && mismatch.bySlot !== records;
  const principal = mismatch.byPrincipal !== null && mismatch.byPrincipal !== records;
  return slots || principal ? { hour: mismatch.hour, slots, principal } : undefined;
}
