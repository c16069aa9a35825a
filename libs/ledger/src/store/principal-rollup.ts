import { HOUR_MS, hourStart } from '@app/common';
import {
  NO_PRINCIPAL,
  PRINCIPAL_DIMENSIONS,
  PRINCIPAL_MEASURES,
  type PrincipalHourlyRow,
  type PrincipalMeasure,
  type PrincipalUsage,
  type PrincipalUsageQuery,
} from '../principal-usage';
import { ANY, CACHE_HIT_FLAG } from '../usage-record';
import type { SqlValue } from './ledger-sql';

/**
 * SQL of `usage_hourly_principal`, the hourly rollup by API key (principal-usage.ts), shared by both stores. Written
 * in the same transaction as the records it counts (`append`), purged with `usage_hourly` (`hour < before`). A
 * ledger created by an earlier version gets the table on start, and its last PRINCIPAL_BACKFILL_MS of records rolled
 * up once (their principal is null: no version before kept it); `ledger_meta.hourly_principal_since` says from which
 * hour the rollup is complete.
 */
export const PRINCIPAL_TABLE = 'usage_hourly_principal';
/** How far back the first start of this version rolls up existing records: the report's default window. */
export const PRINCIPAL_BACKFILL_MS = 24 * HOUR_MS;
export const PRINCIPAL_SINCE_KEY = 'hourly_principal_since';

const MEASURE_COLUMNS: Record<PrincipalMeasure, string> = {
  requests: 'requests',
  errors: 'errors',
  safetyBlocks: 'safety_blocks',
  aborted: 'aborted',
  cacheHits: 'cache_hits',
  inputTokens: 'input_tokens',
  outputTokens: 'output_tokens',
  cachedTokens: 'cached_tokens',
  reasoningTokens: 'reasoning_tokens',
  costUsd: 'cost_usd',
  unpriced: 'unpriced',
  savedCostUsd: 'saved_cost_usd',
};
const FLOAT_MEASURES = new Set<PrincipalMeasure>(['costUsd', 'savedCostUsd']);
const KEY_COLUMNS = ['hour', 'principal', 'endpoint', 'model'] as const;

export const PRINCIPAL_COLUMNS: readonly string[] = [
  ...KEY_COLUMNS,
  ...PRINCIPAL_MEASURES.map((m) => MEASURE_COLUMNS[m]),
];

/** DDL (idempotent). The principal is never null in the key: calls without one are keyed NO_PRINCIPAL (''). */
export function principalSchema(dialect: 'sqlite' | 'postgres'): string[] {
  const float = dialect === 'sqlite' ? 'REAL' : 'DOUBLE PRECISION';
  const measures = PRINCIPAL_MEASURES.map(
    (m) => `${MEASURE_COLUMNS[m]} ${FLOAT_MEASURES.has(m) ? float : 'BIGINT'} NOT NULL DEFAULT 0`,
  ).join(',\n  ');
  return [
    `CREATE TABLE IF NOT EXISTS ${PRINCIPAL_TABLE} (
  hour BIGINT NOT NULL,
  principal TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  model TEXT NOT NULL,
  ${measures},
  PRIMARY KEY (hour, principal, endpoint, model)
)`,
  ];
}

export function principalValues(row: PrincipalHourlyRow): SqlValue[] {
  return [row.hour, row.principal, row.endpoint, row.model, ...PRINCIPAL_MEASURES.map((m) => row[m])];
}

/** `INSERT ... ON CONFLICT DO UPDATE` adding a batch's rows to what is there. */
export function principalUpsert(placeholders: string): string {
  const updates = PRINCIPAL_MEASURES.map((m) => MEASURE_COLUMNS[m])
    .map((c) => `${c} = ${PRINCIPAL_TABLE}.${c} + excluded.${c}`)
    .join(', ');
  return `INSERT INTO ${PRINCIPAL_TABLE} (${PRINCIPAL_COLUMNS.join(', ')}) VALUES ${placeholders}
ON CONFLICT (${KEY_COLUMNS.join(', ')}) DO UPDATE SET ${updates}`;
}

/**
 * Rolls up the records from `$1` on (an hour start) with the same definitions as `rollUpByPrincipal`: the first
 * start of this version, in one transaction with the mark that says so. `bounded`: up to `$2` (an hour rebuilt,
 * rollup-repair.ts).
 */
export function principalBackfill(param: (i: number) => string, bounded = false): string {
  const hour = `(ts - (ts % ${HOUR_MS}))`;
  const principal = `COALESCE(principal, '${NO_PRINCIPAL}')`;
  const sums: Record<PrincipalMeasure, string> = {
    requests: 'COUNT(*)',
    errors: `SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END)`,
    safetyBlocks: `SUM(CASE WHEN status = 'safety_block' THEN 1 ELSE 0 END)`,
    aborted: `SUM(CASE WHEN status = 'aborted' THEN 1 ELSE 0 END)`,
    cacheHits: `SUM(CASE WHEN flags LIKE '%"${CACHE_HIT_FLAG}"%' THEN 1 ELSE 0 END)`,
    inputTokens: 'COALESCE(SUM(input_tokens), 0)',
    outputTokens: 'COALESCE(SUM(output_tokens), 0)',
    cachedTokens: 'COALESCE(SUM(cached_tokens), 0)',
    reasoningTokens: 'COALESCE(SUM(reasoning_tokens), 0)',
    costUsd: 'COALESCE(SUM(cost_usd), 0)',
    unpriced: 'COUNT(*) - COUNT(cost_usd)',
    savedCostUsd: 'COALESCE(SUM(saved_cost_usd), 0)',
  };
  return `INSERT INTO ${PRINCIPAL_TABLE} (${PRINCIPAL_COLUMNS.join(', ')})
SELECT ${hour} AS h, ${principal} AS p, endpoint, model, ${PRINCIPAL_MEASURES.map((m) => sums[m]).join(', ')}
FROM usage_records WHERE ts >= ${param(1)}${bounded ? ` AND ts < ${param(2)}` : ''}
GROUP BY ${hour}, ${principal}, endpoint, model`;
}

/** Where the first start's backfill begins. */
export const principalBackfillStart = (now: number): number => hourStart(now - PRINCIPAL_BACKFILL_MS);

/**
 * The grouped report query: sums per principal (and the kept dimensions, from a whitelist, never from input) over
 * the hours in [$1, $2), ordered by the key.
 */
export function principalSelect(query: PrincipalUsageQuery, param: (i: number) => string): string {
  const keep = PRINCIPAL_DIMENSIONS.filter((d) => query.groupBy?.includes(d));
  const dims = PRINCIPAL_DIMENSIONS.map((d) => (keep.includes(d) ? d : `'${ANY}' AS ${d}`)).join(', ');
  const sums = PRINCIPAL_MEASURES.map((m) => `SUM(${MEASURE_COLUMNS[m]}) AS ${MEASURE_COLUMNS[m]}`).join(', ');
  const group = ['principal', ...keep].join(', ');
  return `SELECT principal, ${dims}, ${sums} FROM ${PRINCIPAL_TABLE} WHERE hour >= ${param(1)} AND hour < ${param(2)}
GROUP BY ${group} ORDER BY ${group}`;
}

export function principalRange(query: PrincipalUsageQuery): [number, number] {
  return [hourStart(query.from), query.to];
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

export function toPrincipalUsage(row: Record<string, unknown>): PrincipalUsage {
  const principal = String(row.principal);
  const out = {
    principal: principal === NO_PRINCIPAL ? null : principal,
    endpoint: String(row.endpoint),
    model: String(row.model),
  } as PrincipalUsage;
  for (const m of PRINCIPAL_MEASURES) out[m] = num(row[MEASURE_COLUMNS[m]]);
  return out;
}
