import type { ImportableRows } from './import/recorded-hours';
import type { PrincipalSpend, PrincipalUsageQuery } from './principal-usage';
import type { HourlyQuery, HourlyUsage, UsageRecord } from './usage-record';
import type { LedgerStoreKind } from './store/ledger-store.port';
import type { RepeatedPrompt, RepeatedPromptQuery, WindowQuery, WindowUsage } from './window-usage';

export interface LedgerStatus {
  store: LedgerStoreKind;
  /** Records accepted but not yet written. */
  buffered: number;
  /** Records dropped because the buffer was full while the store was failing (since start). */
  dropped: number;
  /**
   * Records the store refused for good (a value it cannot hold, a constraint), dropped so that the records around them
   * are written (since start); each is logged with its prompt id.
   */
  refused: number;
  /** The store's words for the last record it refused (null: none since start). */
  lastRefusal: string | null;
  written: number;
  lastFlushAt: number | null;
  lastError: string | null;
}

/**
 * The usage ledger: every LLM call is `record`ed here. `record` never blocks or throws into a request:
 * records are buffered and written in batches every LEDGER_FLUSH_MS (default 1 s), so a crash loses at most
 * the last flush interval. Queries read the store (recorded and imported usage).
 */
export abstract class UsageLedger {
  /** Buffers one record; returns at once. Invalid input is normalised, never thrown. */
  abstract record(entry: UsageRecord): void;
  /** Writes the buffer now (tests, shutdown, CLI tools). */
  abstract flush(): Promise<void>;
  /** Hourly rollups in [from, to), grouped by the requested dimensions (default: one row per hour). */
  abstract hourly(query: HourlyQuery): Promise<HourlyUsage[]>;
  /**
   * One total row per hour for every hour in [from, to), zero-filled where nothing was recorded: the input
   * series of the cost forecaster.
   */
  abstract hourlySeries(from: number, to: number): Promise<HourlyUsage[]>;
  /**
   * Sums over the raw records in [from, to) as the store holds them (written records only, not this instance's
   * buffer): every instance on one PostgreSQL ledger reads the same figures for the same window.
   */
  abstract window(query: WindowQuery): Promise<WindowUsage[]>;
  /** Response-cache candidates: prompts answered at least `minCalls` times in the window (written records only). */
  abstract repeatedPrompts(query: RepeatedPromptQuery): Promise<RepeatedPrompt[]>;
  /**
   * Spend per API key (principal) over the hours in [from, to), from the hourly rollup by principal (never a raw
   * scan): written records only, recorded calls only (imported usage has no key).
   */
  abstract principalUsage(query: PrincipalUsageQuery): Promise<PrincipalSpend>;
  /** Cost in [from, to) per the rollups, plus buffered records in that window not yet written. */
  abstract spendBetween(from: number, to: number): Promise<number>;
  /**
   * Today's spend (UTC day), synchronous: the store's figure refreshed after every flush (all instances'
   * writes with PostgreSQL) plus this instance's records since. Used on the request path by budgets.
   */
  abstract spendToday(now?: number): number;
  /**
   * Stores imported hourly rows (CSV/JSONL files, Datadog); re-importing the same hours replaces them. The rows of
   * hours in which this ledger recorded calls itself (written or still buffered) are left out, and named: their usage
   * is already counted (`withoutRecordedHours`).
   */
  abstract importHourly(rows: readonly HourlyUsage[]): Promise<ImportableRows>;
  abstract status(): LedgerStatus;
}
