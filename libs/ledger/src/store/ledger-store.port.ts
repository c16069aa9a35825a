import type { PrincipalSpend, PrincipalUsageQuery } from '../principal-usage';
import type { HourlyQuery, HourlyUsage, UsageRecord } from '../usage-record';
import type { RepeatedPrompt, RepeatedPromptQuery, WindowQuery, WindowUsage } from '../window-usage';

export type LedgerStoreKind = 'sqlite' | 'postgres';

export interface PurgeResult {
  records: number;
  hours: number;
}

/** Options of a store; the defaults are what the service uses. */
export interface LedgerStoreOptions {
  /** Answer window reads from the 10-second rollups where they can (default true; false: always scan raw records). */
  rollupReads?: boolean;
  /** The clock, for the first start's backfill of the 10-second rollups. */
  now?: () => number;
}

/**
 * Port: where the ledger persists. One interface, two stores (embedded node:sqlite by default, PostgreSQL
 * when DATABASE_URL is set); `ledger-store.contract.ts` runs the same suite against both.
 *
 * Writes are batches: records are inserted and their hourly rollups incremented in one transaction, so the
 * rollups always match the records, also with several writers (instances) on one database.
 */
export abstract class LedgerStore {
  abstract readonly kind: LedgerStoreKind;
  /** Creates the schema when missing (idempotent). */
  abstract init(): Promise<void>;
  /** Inserts records and adds them to the hourly rollups (by model and by principal), atomically. */
  abstract append(records: readonly UsageRecord[]): Promise<void>;
  /** Imported hourly rows (no raw records): each row replaces the stored one with the same key (idempotent). */
  abstract putHourly(rows: readonly HourlyUsage[]): Promise<void>;
  /** Hourly sums in [from, to), grouped by the requested dimensions, ordered by hour then dimensions. */
  abstract hourly(query: HourlyQuery): Promise<HourlyUsage[]>;
  /**
   * Sums of the hourly rollup by principal (`usage_hourly_principal`) for hours in [from, to), per principal and the
   * requested dimensions, ordered by them; recorded calls only (imported usage has no principal). Never a raw scan.
   */
  abstract principalUsage(query: PrincipalUsageQuery): Promise<PrincipalSpend>;
  /** Sum of the hourly rollups' cost for hours in [from, to) (recorded and imported usage alike). */
  abstract costBetween(from: number, to: number): Promise<number>;
  /**
   * Sums over the raw records with ts in [from, to), grouped by the requested dimensions (ordered by them), with
   * latency bucket counts; no row when the window holds no record. What the health score reads.
   */
  abstract window(query: WindowQuery): Promise<WindowUsage[]>;
  /** Prompts answered at least `minCalls` times in the window, per endpoint and model (a scan of the window's records). */
  abstract repeatedPrompts(query: RepeatedPromptQuery): Promise<RepeatedPrompt[]>;
  /** Number of raw records with ts in [from, to). */
  abstract countRecords(from: number, to: number): Promise<number>;
  /** The raw records in [from, to), oldest first, at most `limit`. */
  abstract records(from: number, to: number, limit: number): Promise<UsageRecord[]>;
  /** Deletes raw records and hourly rows (by model and by principal) older than `before` (epoch ms). */
  abstract purgeBefore(before: number): Promise<PurgeResult>;
  /**
   * Rebuilds from their records the 10-second and by-key rollups of the hours of [from, to) where they count other
   * calls than the hourly rollup (calls a replica of an earlier version recorded: rollup-repair.ts); the hours rebuilt.
   */
  abstract repairRollups(from: number, to: number): Promise<number>;
  /** Throws when the store cannot answer. */
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;
}
