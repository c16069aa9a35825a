import { metaTableDdl, type SchemaVersion, storableParams } from '@app/common';
import type { Recommendation, RecommendationResult, RecommendationPriority, UsageWindow } from '../recommendation';
import type { RecommendationPage, RecommendationStoreKind, ResultFilter } from './recommendation-store.port';

/**
 * The recommendations' schema marks in `optimization_meta` (libs/common schema-version.ts), written by every start
 * since 2026-12-07; a store without them is of an earlier version. Raise `version` with any change to the tables below,
 * and `usableFrom` to it with a change earlier builds would get wrong (their writes would answer 500 for good).
 */
export const OPTIMIZATION_SCHEMA: SchemaVersion = { name: 'recommendation store', version: 1, usableFrom: 1 };

/** Where the recommendations keep their schema marks. */
export const OPTIMIZATION_META_TABLE = 'optimization_meta';

/** The tables of the optimisation store, created on start (`CREATE ... IF NOT EXISTS`). */
export function optimizationSchema(kind: RecommendationStoreKind): string[] {
  const real = kind === 'postgres' ? 'DOUBLE PRECISION' : 'REAL';
  const big = kind === 'postgres' ? 'BIGINT' : 'INTEGER';
  return [
    `CREATE TABLE IF NOT EXISTS optimization_recommendations (
      id TEXT PRIMARY KEY,
      title TEXT NOT NULL,
      category TEXT NOT NULL,
      description TEXT NOT NULL,
      estimated_savings_per_request ${real} NOT NULL,
      estimated_savings_percentage ${real} NOT NULL,
      priority TEXT NOT NULL,
      implementation_cost ${real} NOT NULL,
      status TEXT NOT NULL,
      created_at ${big} NOT NULL,
      implemented_at ${big},
      baseline_from ${big},
      baseline_to ${big},
      baseline_requests ${big},
      baseline_priced_requests ${big},
      baseline_cost_usd ${real},
      baseline_declared TEXT
    )`,
    `CREATE INDEX IF NOT EXISTS optimization_recommendations_created ON optimization_recommendations (created_at)`,
    `CREATE TABLE IF NOT EXISTS optimization_results (
      id TEXT PRIMARY KEY,
      recommendation_id TEXT NOT NULL REFERENCES optimization_recommendations (id),
      recorded_at ${big} NOT NULL,
      period_days INTEGER NOT NULL,
      before_from ${big} NOT NULL,
      before_to ${big} NOT NULL,
      before_requests ${big} NOT NULL,
      before_priced_requests ${big} NOT NULL,
      before_cost_usd ${real} NOT NULL,
      after_from ${big} NOT NULL,
      after_to ${big} NOT NULL,
      after_requests ${big} NOT NULL,
      after_priced_requests ${big} NOT NULL,
      after_cost_usd ${real} NOT NULL,
      before_cost ${real} NOT NULL,
      after_cost ${real} NOT NULL,
      actual_savings ${real} NOT NULL,
      implementation_cost ${real} NOT NULL,
      roi_percentage ${real},
      roi_reason TEXT,
      confidence_score ${real} NOT NULL
    )`,
    `CREATE INDEX IF NOT EXISTS optimization_results_recommendation ON optimization_results (recommendation_id)`,
    `CREATE INDEX IF NOT EXISTS optimization_results_after_to ON optimization_results (after_to)`,
    metaTableDdl(OPTIMIZATION_META_TABLE),
  ];
}

type Value = string | number | null;
type Placeholder = (index: number) => string;

export const RECOMMENDATION_COLUMNS = [
  'id',
  'title',
  'category',
  'description',
  'estimated_savings_per_request',
  'estimated_savings_percentage',
  'priority',
  'implementation_cost',
  'status',
  'created_at',
  'implemented_at',
  'baseline_from',
  'baseline_to',
  'baseline_requests',
  'baseline_priced_requests',
  'baseline_cost_usd',
  'baseline_declared',
] as const;

export const RESULT_COLUMNS = [
  'id',
  'recommendation_id',
  'recorded_at',
  'period_days',
  'before_from',
  'before_to',
  'before_requests',
  'before_priced_requests',
  'before_cost_usd',
  'after_from',
  'after_to',
  'after_requests',
  'after_priced_requests',
  'after_cost_usd',
  'before_cost',
  'after_cost',
  'actual_savings',
  'implementation_cost',
  'roi_percentage',
  'roi_reason',
  'confidence_score',
] as const;

const placeholders = (n: number, p: Placeholder): string => Array.from({ length: n }, (_, i) => p(i + 1)).join(', ');

export const insertRecommendationSql = (p: Placeholder): string =>
  `INSERT INTO optimization_recommendations (${RECOMMENDATION_COLUMNS.join(', ')}) VALUES (${placeholders(RECOMMENDATION_COLUMNS.length, p)})`;

export const insertResultSql = (p: Placeholder): string =>
  `INSERT INTO optimization_results (${RESULT_COLUMNS.join(', ')}) VALUES (${placeholders(RESULT_COLUMNS.length, p)})`;

/**
 * A result of recommendation ${p(1)} whose after window ends after ${p(2)} (the start of a new one): the new one would
 * count some of the same requests again. Run with the new result's insert under one lock (`addResult`).
 */
export const overlappingResultSql = (p: Placeholder): string =>
  `SELECT id FROM optimization_results WHERE recommendation_id = ${p(1)} AND after_to > ${p(2)} LIMIT 1`;

/** Locks a recommendation's row until the end of the transaction (PostgreSQL), so its results are added one at a time. */
export const lockRecommendationSql = (p: Placeholder): string =>
  `SELECT id FROM optimization_recommendations WHERE id = ${p(1)} FOR UPDATE`;

/** Parameters: implemented_at, baseline from, to, requests, priced requests, cost, declared (JSON), id. */
export const implementSql = (p: Placeholder): string =>
  `UPDATE optimization_recommendations SET status = 'implemented', implemented_at = ${p(1)}, baseline_from = ${p(2)},
     baseline_to = ${p(3)}, baseline_requests = ${p(4)}, baseline_priced_requests = ${p(5)}, baseline_cost_usd = ${p(6)},
     baseline_declared = ${p(7)} WHERE id = ${p(8)} AND status = 'pending'`;

export const selectRecommendationSql = (p: Placeholder): string =>
  `SELECT ${RECOMMENDATION_COLUMNS.join(', ')} FROM optimization_recommendations WHERE id = ${p(1)}`;

/**
 * The recommendations newest first; with a page, at most `limit` of them, older than `before` in that order (keyset
 * paging on the `created_at` index, id breaking ties).
 */
export function listRecommendationsSql(
  page: RecommendationPage | undefined,
  p: Placeholder,
): { sql: string; params: Value[] } {
  const params: Value[] = [];
  let where = '';
  if (page?.before !== undefined) {
    params.push(page.before.createdAt, page.before.createdAt, page.before.id);
    where = ` WHERE created_at < ${p(1)} OR (created_at = ${p(2)} AND id < ${p(3)})`;
  }
  let limit = '';
  if (page !== undefined) {
    params.push(page.limit);
    limit = ` LIMIT ${p(params.length)}`;
  }
  const sql =
    `SELECT ${RECOMMENDATION_COLUMNS.join(', ')} FROM optimization_recommendations${where}` +
    ` ORDER BY created_at DESC, id DESC${limit}`;
  return { sql, params };
}

export function selectResultsSql(filter: ResultFilter, p: Placeholder): { sql: string; params: Value[] } {
  const where: string[] = [];
  const params: Value[] = [];
  if (filter.recommendationId !== undefined) {
    params.push(filter.recommendationId);
    where.push(`r.recommendation_id = ${p(params.length)}`);
  }
  if (filter.recommendationIds !== undefined) {
    const first = params.length + 1;
    params.push(...filter.recommendationIds);
    where.push(
      filter.recommendationIds.length === 0
        ? 'FALSE'
        : `r.recommendation_id IN (${filter.recommendationIds.map((_, i) => p(first + i)).join(', ')})`,
    );
  }
  if (filter.periodEndFrom !== undefined) {
    params.push(filter.periodEndFrom);
    where.push(`r.after_to >= ${p(params.length)}`);
  }
  if (filter.category !== undefined) {
    params.push(filter.category);
    where.push(`c.category = ${p(params.length)}`);
  }
  const sql =
    `SELECT ${RESULT_COLUMNS.map((c) => `r.${c}`).join(', ')} FROM optimization_results r ` +
    `JOIN optimization_recommendations c ON c.id = r.recommendation_id` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY r.recorded_at, r.id`;
  return { sql, params };
}

/**
 * The values of the three writes below go as `storableParams` (NUL as U+FFFD: PostgreSQL's text refuses it), on
 * both stores, so that they hold and answer the same text.
 */
export function recommendationValues(r: Recommendation): Value[] {
  const w = r.baseline?.window;
  return storableParams<Value>([
    r.id,
    r.title,
    r.category,
    r.description,
    r.estimatedSavingsPerRequest,
    r.estimatedSavingsPercentage,
    r.priority,
    r.implementationCost,
    r.status,
    r.createdAt,
    r.implementedAt,
    w?.from ?? null,
    w?.to ?? null,
    w?.requests ?? null,
    w?.pricedRequests ?? null,
    w?.costUsd ?? null,
    r.baseline?.declared ? JSON.stringify(r.baseline.declared) : null,
  ]);
}

export function implementValues(
  id: string,
  implementedAt: number,
  baseline: NonNullable<Recommendation['baseline']>,
): Value[] {
  const w = baseline.window;
  return storableParams<Value>([
    implementedAt,
    w.from,
    w.to,
    w.requests,
    w.pricedRequests,
    w.costUsd,
    baseline.declared ? JSON.stringify(baseline.declared) : null,
    id,
  ]);
}

export function resultValues(r: RecommendationResult): Value[] {
  return storableParams<Value>([
    r.id,
    r.recommendationId,
    r.recordedAt,
    r.periodDays,
    r.before.from,
    r.before.to,
    r.before.requests,
    r.before.pricedRequests,
    r.before.costUsd,
    r.after.from,
    r.after.to,
    r.after.requests,
    r.after.pricedRequests,
    r.after.costUsd,
    r.beforeCost,
    r.afterCost,
    r.actualSavings,
    r.implementationCost,
    r.roiPercentage,
    r.roiReason,
    r.confidenceScore,
  ]);
}

// PostgreSQL returns BIGINT as a string; SQLite returns numbers.
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string => String(v);

export function toRecommendation(row: Record<string, unknown>): Recommendation {
  const implementedAt = numOrNull(row.implemented_at);
  const from = numOrNull(row.baseline_from);
  const declared =
    row.baseline_declared === null || row.baseline_declared === undefined ? null : str(row.baseline_declared);
  return {
    id: str(row.id),
    title: str(row.title),
    category: str(row.category),
    description: str(row.description),
    estimatedSavingsPerRequest: num(row.estimated_savings_per_request),
    estimatedSavingsPercentage: num(row.estimated_savings_percentage),
    priority: str(row.priority) as RecommendationPriority,
    implementationCost: num(row.implementation_cost),
    status: row.status === 'implemented' ? 'implemented' : 'pending',
    createdAt: num(row.created_at),
    implementedAt,
    baseline:
      from === null
        ? null
        : {
            window: {
              from,
              to: num(row.baseline_to),
              requests: num(row.baseline_requests),
              pricedRequests: num(row.baseline_priced_requests),
              costUsd: num(row.baseline_cost_usd),
            },
            declared: declared === null ? null : (JSON.parse(declared) as Record<string, unknown>),
          },
  };
}

const usageWindow = (row: Record<string, unknown>, side: 'before' | 'after'): UsageWindow => ({
  from: num(row[`${side}_from`]),
  to: num(row[`${side}_to`]),
  requests: num(row[`${side}_requests`]),
  pricedRequests: num(row[`${side}_priced_requests`]),
  costUsd: num(row[`${side}_cost_usd`]),
});

export function toResult(row: Record<string, unknown>): RecommendationResult {
  return {
    id: str(row.id),
    recommendationId: str(row.recommendation_id),
    recordedAt: num(row.recorded_at),
    periodDays: num(row.period_days),
    before: usageWindow(row, 'before'),
    after: usageWindow(row, 'after'),
    beforeCost: num(row.before_cost),
    afterCost: num(row.after_cost),
    actualSavings: num(row.actual_savings),
    implementationCost: num(row.implementation_cost),
    roiPercentage: numOrNull(row.roi_percentage),
    roiReason: row.roi_reason === null || row.roi_reason === undefined ? null : str(row.roi_reason),
    confidenceScore: num(row.confidence_score),
  };
}
