import { ANY, isTimed, USAGE_DIMENSIONS, type UsageRecord } from '../usage-record';
import {
  addWindow,
  emptyWindow,
  LATENCY_LADDER_MS,
  WINDOW_MEASURES,
  type WindowMeasure,
  type WindowQuery,
  type WindowUsage,
} from '../window-usage';
import { type SqlValue, TIMED_SQL, WINDOW_SQL, windowColumn } from './ledger-sql';

/**
 * 10-second rollups of the window measures (`usage_10s`), so a window read sums at most a few hundred rows per
 * group instead of scanning every raw record: the health score's hour at 100 calls/s is 360,000 records but 360
 * slot rows per endpoint × model. They are written in the same transaction as the records they count (exact, and
 * late records land in their own slot), hold the latency ladder's cumulative buckets, and are purged with the
 * records. `ledger_meta.rollup_10s_since` says from which slot they are complete: a ledger created by an earlier
 * version gets the last BACKFILL_MS rolled up from its records once, on the first start; before that slot, and
 * for the partial slots at a window's edges, windows read the raw records.
 *
 * The slot is the health score's window step (HEALTH_WINDOW_STEP_MS, 10 s by default), so its windows have no
 * ragged edges: no raw scan at all. Minute rollups (`usage_minutely`, the version before) left up to two partial
 * minutes to scan at every read: at 650 calls/s, a 40–100 ms block of the event loop every 10 s. An earlier
 * version's `usage_minutely` is no longer read, written or purged (replicas of that version may still write it
 * during a rolling upgrade); drop it once none runs (docs/ledger.md).
 */
export const ROLLUP_MS = 10_000;
/** How far back the first start of this version rolls up existing records. */
export const BACKFILL_MS = 2 * 3_600_000;
export const ROLLUP_SINCE_KEY = 'rollup_10s_since';

const FLOAT_MEASURES = new Set<WindowMeasure>(['costUsd', 'latencyMsSum', 'qualitySum', 'fallbackLatencyMsSum']);
const bucketColumn = (i: number): string => `h_${i}`;
/** The fallbacks' latency buckets (`fallbackLatencyAtMost`), on the same ladder. */
const fallbackBucketColumn = (i: number): string => `fh_${i}`;

export const ROLLUP_COLUMNS: readonly string[] = [
  'slot',
  ...USAGE_DIMENSIONS,
  ...WINDOW_MEASURES.map(windowColumn),
  ...LATENCY_LADDER_MS.map((_, i) => bucketColumn(i)),
  ...LATENCY_LADDER_MS.map((_, i) => fallbackBucketColumn(i)),
];

export const rollupStart = (ts: number): number => Math.floor(ts / ROLLUP_MS) * ROLLUP_MS;

export function rollupSchema(dialect: 'sqlite' | 'postgres'): string[] {
  const float = dialect === 'sqlite' ? 'REAL' : 'DOUBLE PRECISION';
  const measures = WINDOW_MEASURES.map(
    (m) => `${windowColumn(m)} ${FLOAT_MEASURES.has(m) ? float : 'BIGINT'} NOT NULL DEFAULT 0`,
  );
  const buckets = [
    ...LATENCY_LADDER_MS.map((_, i) => `${bucketColumn(i)} BIGINT NOT NULL DEFAULT 0`),
    ...LATENCY_LADDER_MS.map((_, i) => `${fallbackBucketColumn(i)} BIGINT NOT NULL DEFAULT 0`),
  ];
  return [
    `CREATE TABLE IF NOT EXISTS usage_10s (
  slot BIGINT NOT NULL,
  endpoint TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  ${[...measures, ...buckets].join(',\n  ')},
  PRIMARY KEY (slot, endpoint, provider, model)
)`,
    'CREATE TABLE IF NOT EXISTS ledger_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)',
  ];
}

/**
 * Measures added to `usage_10s` after its first version, with their column type: a table created by an earlier
 * version gets them on start (0 in its existing slots: those windows count none).
 */
export const ADDED_ROLLUP_COLUMNS: readonly (readonly [string, string])[] = [
  [windowColumn('noCapacity'), 'BIGINT NOT NULL DEFAULT 0'],
  [windowColumn('fallbacks'), 'BIGINT NOT NULL DEFAULT 0'],
  [windowColumn('fallbackRetries'), 'BIGINT NOT NULL DEFAULT 0'],
  [windowColumn('fallbackLatencyCount'), 'BIGINT NOT NULL DEFAULT 0'],
  // REAL on SQLite: its DOUBLE PRECISION is a REAL affinity too.
  [windowColumn('fallbackLatencyMsSum'), 'DOUBLE PRECISION NOT NULL DEFAULT 0'],
  [windowColumn('freeFailures'), 'BIGINT NOT NULL DEFAULT 0'],
  ...LATENCY_LADDER_MS.map((_, i) => [fallbackBucketColumn(i), 'BIGINT NOT NULL DEFAULT 0'] as const),
];

const hasFlag = (r: UsageRecord, flag: string): boolean => r.flags.includes(flag);

/** One record's contribution to each window measure: the same definitions as `WINDOW_SQL` (ledger-sql.ts). */
function measuresOf(r: UsageRecord): Record<WindowMeasure, number> {
  const timed = isTimed(r);
  return {
    requests: 1,
    answered: r.status === 'ok' ? 1 : 0,
    errors: r.status === 'error' ? 1 : 0,
    timeouts: r.status === 'error' && r.errorType === 'timeout' ? 1 : 0,
    circuitOpen: r.status === 'error' && r.errorType === 'circuit_open' ? 1 : 0,
    safetyBlocks: r.status === 'safety_block' ? 1 : 0,
    aborted: r.status === 'aborted' ? 1 : 0,
    retries: r.retryCount,
    costUsd: r.costUsd ?? 0,
    pricedRequests: r.costUsd === null ? 0 : 1,
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    latencyCount: timed ? 1 : 0,
    latencyMsSum: timed ? r.latencyMs : 0,
    // Quality of answers only (status ok), as ungrounded and failure to answer: not a safety block's capped score.
    qualitySum: r.status === 'ok' ? (r.qualityScore ?? 0) : 0,
    qualityCount: r.status === 'ok' && r.qualityScore !== null ? 1 : 0,
    ungrounded: r.status === 'ok' && hasFlag(r, 'ungrounded') ? 1 : 0,
    failureToAnswer: r.status === 'ok' && hasFlag(r, 'failure_to_answer') ? 1 : 0,
    pii: hasFlag(r, 'pii') ? 1 : 0,
    promptInjection: hasFlag(r, 'prompt_injection') ? 1 : 0,
    tokenAbuse: hasFlag(r, 'token_abuse') ? 1 : 0,
    noCapacity: r.status === 'error' && r.errorType === 'no_capacity' ? 1 : 0,
    fallbacks: r.fallbackUsed ? 1 : 0,
    fallbackRetries: r.fallbackUsed ? r.retryCount : 0,
    fallbackLatencyCount: r.fallbackUsed && timed ? 1 : 0,
    fallbackLatencyMsSum: r.fallbackUsed && timed ? r.latencyMs : 0,
    freeFailures: r.status !== 'ok' && r.costUsd === 0 ? 1 : 0,
  };
}

/** The slot rows a batch of records adds to (in key order, so concurrent writers never deadlock). */
export function rollUpSlots(records: readonly UsageRecord[]): SqlValue[][] {
  const rows = new Map<string, { slot: number; usage: WindowUsage }>();
  for (const r of records) {
    const slot = rollupStart(r.ts);
    const key = `${String(slot).padStart(16, '0')}\u0000${r.endpoint}\u0000${r.provider}\u0000${r.model}`;
    let row = rows.get(key);
    if (!row) {
      row = { slot, usage: emptyWindow(LATENCY_LADDER_MS.length, r.endpoint, r.provider, r.model) };
      rows.set(key, row);
    }
    const m = measuresOf(r);
    for (const name of WINDOW_MEASURES) row.usage[name] += m[name];
    if (isTimed(r)) {
      LATENCY_LADDER_MS.forEach((bound, i) => {
        if (r.latencyMs <= bound) row.usage.latencyAtMost[i]! += 1;
        if (r.fallbackUsed && r.latencyMs <= bound) row.usage.fallbackLatencyAtMost[i]! += 1;
      });
    }
  }
  return [...rows.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, { slot, usage }]) => [
      slot,
      usage.endpoint,
      usage.provider,
      usage.model,
      ...WINDOW_MEASURES.map((name) => usage[name]),
      ...usage.latencyAtMost,
      ...usage.fallbackLatencyAtMost,
    ]);
}

/** `INSERT ... ON CONFLICT DO UPDATE` adding a batch's slot rows to what is there. */
export function rollupUpsert(placeholders: string): string {
  const updates = ROLLUP_COLUMNS.slice(4)
    .map((c) => `${c} = usage_10s.${c} + excluded.${c}`)
    .join(', ');
  return `INSERT INTO usage_10s (${ROLLUP_COLUMNS.join(', ')}) VALUES ${placeholders}
ON CONFLICT (slot, endpoint, provider, model) DO UPDATE SET ${updates}`;
}

/**
 * Rolls up the records from `$1` on with the same SQL as a window read (the first start of this version, before
 * any slot row exists). Slots are whole: `$1` is a slot start. `bounded`: up to `$2` (an hour rebuilt,
 * rollup-repair.ts).
 */
export function rollupBackfill(param: (i: number) => string, bounded = false): string {
  const sums = WINDOW_MEASURES.map((m) => WINDOW_SQL[m]);
  const buckets = LATENCY_LADDER_MS.map(
    (bound) => `SUM(CASE WHEN ${TIMED_SQL} AND latency_ms <= ${bound} THEN 1 ELSE 0 END)`,
  );
  const fallbackBuckets = LATENCY_LADDER_MS.map(
    (bound) => `SUM(CASE WHEN fallback_used = 1 AND ${TIMED_SQL} AND latency_ms <= ${bound} THEN 1 ELSE 0 END)`,
  );
  const slot = `(ts - (ts % ${ROLLUP_MS}))`;
  return `INSERT INTO usage_10s (${ROLLUP_COLUMNS.join(', ')})
SELECT ${slot} AS s, ${USAGE_DIMENSIONS.join(', ')}, ${[...sums, ...buckets, ...fallbackBuckets].join(', ')}
FROM usage_records WHERE ts >= ${param(1)}${bounded ? ` AND ts < ${param(2)}` : ''}
GROUP BY ${slot}, ${USAGE_DIMENSIONS.join(', ')}`;
}

/** How a window is read: whole slots from the rollups, the rest (edges, before `since`) from the raw records. */
export interface WindowPlan {
  /** [from, to) ranges read from the raw records. */
  raw: [number, number][];
  /** [from, to) of whole slots read from the rollups; null when none. */
  slots: [number, number] | null;
  /** Per query bound, its index on the ladder. */
  buckets: number[];
}

/** Null when the rollups cannot answer the query (a bound off the ladder, or no rollups yet). */
export function planWindow(query: WindowQuery, since: number | null): WindowPlan | null {
  if (since === null) return null;
  const buckets = (query.latencyBoundsMs ?? []).map((b) => LATENCY_LADDER_MS.indexOf(b));
  if (buckets.some((i) => i < 0)) return null;
  const first = Math.max(Math.ceil(query.from / ROLLUP_MS) * ROLLUP_MS, since);
  const last = rollupStart(query.to);
  if (last - first < ROLLUP_MS) return { raw: [[query.from, query.to]], slots: null, buckets };
  const raw: [number, number][] = [];
  if (query.from < first) raw.push([query.from, first]);
  if (last < query.to) raw.push([last, query.to]);
  return { raw, slots: [first, last], buckets };
}

/** The rollup query of a plan: the window measures and the asked buckets, grouped like `windowSelect`. */
export function rollupSelect(query: WindowQuery, buckets: readonly number[], param: (i: number) => string): string {
  const keep = USAGE_DIMENSIONS.filter((d) => query.groupBy?.includes(d));
  const dims = USAGE_DIMENSIONS.map((d) => (keep.includes(d) ? d : `'${ANY}' AS ${d}`)).join(', ');
  const sums = WINDOW_MEASURES.map((m) => `COALESCE(SUM(${windowColumn(m)}), 0) AS ${windowColumn(m)}`);
  const le = buckets.map((b, i) => `COALESCE(SUM(${bucketColumn(b)}), 0) AS w_le_${i}`);
  const fle = buckets.map((b, i) => `COALESCE(SUM(${fallbackBucketColumn(b)}), 0) AS w_fle_${i}`);
  const group = keep.length > 0 ? `GROUP BY ${keep.join(', ')}` : '';
  return `SELECT ${dims}, ${[...sums, ...le, ...fle].join(', ')} FROM usage_10s
WHERE slot >= ${param(1)} AND slot < ${param(2)} ${group}`;
}

/** Sums window rows of the same group (endpoint, provider, model), in the raw read's order; drops empty ones. */
export function mergeWindows(parts: readonly WindowUsage[][], buckets: number): WindowUsage[] {
  const merged = new Map<string, WindowUsage>();
  for (const rows of parts) {
    for (const row of rows) {
      const key = `${row.endpoint}\u0000${row.provider}\u0000${row.model}`;
      const into = merged.get(key) ?? emptyWindow(buckets, row.endpoint, row.provider, row.model);
      merged.set(key, addWindow(into, row));
    }
  }
  return [...merged.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, row]) => row)
    .filter((w) => w.requests > 0);
}
