import { hourStart } from '@app/common';
import { ANY, CACHE_HIT_FLAG, type UsageRecord } from './usage-record';

/**
 * Spend per API key (showback): the hourly rollup `usage_hourly_principal`, one row per hour × principal (the key's
 * name) × endpoint × model, written with the records it counts, like `usage_hourly`, so a report over days reads
 * a few rows per hour instead of scanning raw records (a synchronous scan on SQLite blocks the event loop).
 */

/** Dimensions a principal report can add to the principal. */
export type PrincipalDimension = 'endpoint' | 'model';
export const PRINCIPAL_DIMENSIONS: readonly PrincipalDimension[] = ['endpoint', 'model'];

/** How calls made without an API key are keyed in the rollup (a key's name is 1 to 40 characters: never empty). */
export const NO_PRINCIPAL = '';

/** Sums over calls of one principal (and, unless grouped away, one endpoint and model). */
export interface PrincipalUsage {
  /** The API key's name; null for calls made without a key (AUTH_DISABLED) or recorded before the ledger kept it. */
  principal: string | null;
  /** `*` when grouped away. */
  endpoint: string;
  /** `*` when grouped away. */
  model: string;
  /** Every call, aborted ones included (their tokens and cost were spent). */
  requests: number;
  errors: number;
  safetyBlocks: number;
  aborted: number;
  /** Calls answered from the response cache (cost 0). */
  cacheHits: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  costUsd: number;
  /** Calls whose model has no known price (cost null: they add nothing to `costUsd`). */
  unpriced: number;
  /** What the cache hits saved (the cost of the calls they repeated). */
  savedCostUsd: number;
}

/** The numeric members of PrincipalUsage, in storage order. */
export const PRINCIPAL_MEASURES = [
  'requests',
  'errors',
  'safetyBlocks',
  'aborted',
  'cacheHits',
  'inputTokens',
  'outputTokens',
  'cachedTokens',
  'reasoningTokens',
  'costUsd',
  'unpriced',
  'savedCostUsd',
] as const satisfies readonly (keyof PrincipalUsage)[];
export type PrincipalMeasure = (typeof PRINCIPAL_MEASURES)[number];

/** One row of the rollup as stored: the hour and the principal as its key (NO_PRINCIPAL for none). */
export interface PrincipalHourlyRow extends Omit<PrincipalUsage, 'principal'> {
  hour: number;
  principal: string;
}

export interface PrincipalUsageQuery {
  /** Inclusive, epoch ms (rounded down to the hour). */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
  /** Dimensions to keep besides the principal; the others are summed over and reported as `*`. Default: none. */
  groupBy?: readonly PrincipalDimension[];
}

/** A principal report's rows, and from when the rollup is complete. */
export interface PrincipalSpend {
  rows: PrincipalUsage[];
  /**
   * Epoch ms of the hour from which every recorded call is in the rollup (the first start of a version that keeps
   * it rolled up the 24 hours before); null when the store cannot say.
   */
  completeFrom: number | null;
}

export function emptyPrincipalUsage(principal: string | null, endpoint = ANY, model = ANY): PrincipalUsage {
  const row = { principal, endpoint, model } as PrincipalUsage;
  for (const m of PRINCIPAL_MEASURES) row[m] = 0;
  return row;
}

/** Folds records into rollup rows keyed by hour/principal/endpoint/model, sorted by key (stable lock order). */
export function rollUpByPrincipal(records: readonly UsageRecord[]): PrincipalHourlyRow[] {
  const rows = new Map<string, PrincipalHourlyRow>();
  for (const r of records) {
    const hour = hourStart(r.ts);
    const principal = r.principal ?? NO_PRINCIPAL;
    const key = `${String(hour).padStart(16, '0')}\u0000${principal}\u0000${r.endpoint}\u0000${r.model}`;
    let row = rows.get(key);
    if (!row) {
      row = { ...emptyPrincipalUsage(null, r.endpoint, r.model), hour, principal };
      rows.set(key, row);
    }
    row.requests += 1;
    if (r.status === 'error') row.errors += 1;
    if (r.status === 'safety_block') row.safetyBlocks += 1;
    if (r.status === 'aborted') row.aborted += 1;
    if (r.flags.includes(CACHE_HIT_FLAG)) row.cacheHits += 1;
    row.inputTokens += r.inputTokens;
    row.outputTokens += r.outputTokens;
    row.cachedTokens += r.cachedTokens;
    row.reasoningTokens += r.reasoningTokens;
    if (r.costUsd === null) row.unpriced += 1;
    else row.costUsd += r.costUsd;
    row.savedCostUsd += r.savedCostUsd ?? 0;
  }
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}
