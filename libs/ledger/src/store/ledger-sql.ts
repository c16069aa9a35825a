import { hourStart } from '@app/common';
import {
  ANY,
  FRACTIONAL_HOURLY_MEASURES,
  HOURLY_MEASURES,
  type HourlyMeasure,
  type HourlyQuery,
  type HourlyUsage,
  USAGE_DIMENSIONS,
  type UsageRecord,
  type UsageStatus,
  CACHE_HIT_FLAG,
} from '../usage-record';
import {
  type RepeatedPrompt,
  WINDOW_MEASURES,
  type WindowMeasure,
  type WindowQuery,
  type WindowUsage,
} from '../window-usage';

/** SQL shared by the SQLite and PostgreSQL stores (both speak this dialect subset). */

export const RECORD_COLUMNS = [
  'ts',
  'endpoint',
  'provider',
  'model',
  'status',
  'error_type',
  'latency_ms',
  'input_tokens',
  'output_tokens',
  'cached_tokens',
  'reasoning_tokens',
  'tokens_estimated',
  'cost_usd',
  'quality_score',
  'flags',
  'retry_count',
  'fallback_used',
  'router_decision',
  'prompt_hash',
  'prompt_chars',
  'answer_chars',
  'preview',
  'prompt_id',
  'trace_id',
  'saved_cost_usd',
  'principal',
] as const;

/**
 * Columns added to `usage_records` after its first release, with their type: a ledger created earlier gets them on
 * start (`ALTER TABLE ... ADD COLUMN`, nullable, so its old rows read null). Each store adds the missing ones.
 */
export const ADDED_RECORD_COLUMNS: readonly (readonly [column: string, type: string])[] = [
  ['prompt_id', 'TEXT'],
  ['trace_id', 'TEXT'],
  // DOUBLE PRECISION: REAL affinity in SQLite.
  ['saved_cost_usd', 'DOUBLE PRECISION'],
  // The API key's name (never the key or its hash); null without a key and on older rows.
  ['principal', 'TEXT'],
];

/**
 * The hourly latency of the timed calls (2026-12-07): `timed_latency_ms_sum` over `latency_count` (`isTimed`). Before,
 * `latency_ms_sum` summed every call, a circuit-open refusal's 0.3 ms included, and was averaged over every request,
 * imported ones (no latency) too. New columns, not a new meaning of the old one: during a rolling upgrade the
 * replicas of the earlier version keep adding to `latency_ms_sum` alone, so their calls are left out of the new mean
 * (a sample), never counted in its sum without its count. A ledger of an earlier version gets them on its first
 * start, in one transaction with their backfill: each row's latency sum and requests where it holds a latency (what
 * its mean was until then), 0 on imported rows.
 */
export const HOURLY_LATENCY_COLUMNS: readonly (readonly [column: string, type: string])[] = [
  ['timed_latency_ms_sum', 'DOUBLE PRECISION NOT NULL DEFAULT 0'],
  ['latency_count', 'BIGINT NOT NULL DEFAULT 0'],
];
export const HOURLY_LATENCY_BACKFILL =
  'UPDATE usage_hourly SET timed_latency_ms_sum = latency_ms_sum, latency_count = requests WHERE latency_ms_sum > 0';

/**
 * The requests whose errors are not known (2026-12-07, `HourlyUsage.errorsUnknown`): imported usage without an error
 * count. Before, such an import read as 0 % errors. No backfill: an earlier import cannot be told from one whose file
 * said 0 errors, so its rows keep reading as known. Builds of schema 2 write nothing to it (their calls are known).
 */
export const HOURLY_ERRORS_UNKNOWN_COLUMN = ['errors_unknown', 'BIGINT NOT NULL DEFAULT 0'] as const;

/** The statements that upgrade a `usage_hourly` with the columns `present`; none when it has them all. */
export function hourlyUpgrade(present: ReadonlySet<string>): string[] {
  const missing = HOURLY_LATENCY_COLUMNS.filter(([column]) => !present.has(column));
  const [unknownColumn, unknownType] = HOURLY_ERRORS_UNKNOWN_COLUMN;
  return [
    ...missing.map(([column, type]) => `ALTER TABLE usage_hourly ADD COLUMN ${column} ${type}`),
    ...(missing.length > 0 ? [HOURLY_LATENCY_BACKFILL] : []),
    ...(present.has(unknownColumn) ? [] : [`ALTER TABLE usage_hourly ADD COLUMN ${unknownColumn} ${unknownType}`]),
  ];
}

/** Written by the versions before 2026-12-07 only (all calls' latency); kept so that they can write during an upgrade. */
export const LEGACY_HOURLY_LATENCY_COLUMN = 'latency_ms_sum';

/** Indexes over the added columns, created once the columns exist (a caller finds its call by `prompt_id`). */
/**
 * PostgreSQL only: each record's key (`UsageRecord.key`), unique, so that a batch written again after its COMMIT's
 * answer was lost (the connection cut during the COMMIT: a failover, a network blip) adds nothing twice. Older rows
 * and rows of older versions have none (NULL: never a conflict). SQLite commits in-process: no answer can be lost.
 */
export const POSTGRES_RECORD_KEY = [
  'ALTER TABLE usage_records ADD COLUMN IF NOT EXISTS record_key TEXT',
  'CREATE UNIQUE INDEX IF NOT EXISTS usage_records_record_key ON usage_records (record_key)',
] as const;

export const ADDED_RECORD_INDEXES = [
  'CREATE INDEX IF NOT EXISTS usage_records_prompt_id ON usage_records (prompt_id)',
] as const;

export const MEASURE_COLUMNS: Record<HourlyMeasure, string> = {
  requests: 'requests',
  errors: 'errors',
  errorsUnknown: 'errors_unknown',
  safetyBlocks: 'safety_blocks',
  inputTokens: 'input_tokens',
  outputTokens: 'output_tokens',
  cachedTokens: 'cached_tokens',
  reasoningTokens: 'reasoning_tokens',
  costUsd: 'cost_usd',
  latencyMsSum: 'timed_latency_ms_sum',
  latencyCount: 'latency_count',
  qualitySum: 'quality_sum',
  qualityCount: 'quality_count',
  retries: 'retries',
  fallbacks: 'fallbacks',
  flagged: 'flagged',
};

/** DDL; `serial`/`float`/`bigint` are spelled per dialect. */
export function schema(dialect: 'sqlite' | 'postgres'): string[] {
  const id = dialect === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY';
  const float = dialect === 'sqlite' ? 'REAL' : 'DOUBLE PRECISION';
  const measures = HOURLY_MEASURES.map(
    (m) => `${MEASURE_COLUMNS[m]} ${FRACTIONAL_HOURLY_MEASURES.has(m) ? float : 'BIGINT'} NOT NULL DEFAULT 0`,
  ).join(',\n  ');
  return [
    `CREATE TABLE IF NOT EXISTS usage_records (
  id ${id},
  ts BIGINT NOT NULL,
  endpoint TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  status TEXT NOT NULL,
  error_type TEXT,
  latency_ms ${float} NOT NULL,
  input_tokens BIGINT NOT NULL,
  output_tokens BIGINT NOT NULL,
  cached_tokens BIGINT NOT NULL,
  reasoning_tokens BIGINT NOT NULL,
  tokens_estimated INTEGER NOT NULL,
  cost_usd ${float},
  quality_score ${float},
  flags TEXT NOT NULL,
  retry_count INTEGER NOT NULL,
  fallback_used INTEGER NOT NULL,
  router_decision TEXT,
  prompt_hash TEXT NOT NULL,
  prompt_chars INTEGER NOT NULL,
  answer_chars INTEGER NOT NULL,
  preview TEXT,
  prompt_id TEXT,
  trace_id TEXT,
  saved_cost_usd ${float},
  principal TEXT
)`,
    'CREATE INDEX IF NOT EXISTS usage_records_ts ON usage_records (ts)',
    `CREATE TABLE IF NOT EXISTS usage_hourly (
  hour BIGINT NOT NULL,
  endpoint TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  ${measures},
  ${LEGACY_HOURLY_LATENCY_COLUMN} ${float} NOT NULL DEFAULT 0,
  PRIMARY KEY (hour, endpoint, provider, model)
)`,
  ];
}

export type SqlValue = string | number | null;

export function recordValues(r: UsageRecord): SqlValue[] {
  return [
    r.ts,
    r.endpoint,
    r.provider,
    r.model,
    r.status,
    r.errorType,
    r.latencyMs,
    r.inputTokens,
    r.outputTokens,
    r.cachedTokens,
    r.reasoningTokens,
    r.tokensEstimated ? 1 : 0,
    r.costUsd,
    r.qualityScore,
    JSON.stringify(r.flags),
    r.retryCount,
    r.fallbackUsed ? 1 : 0,
    r.routerDecision,
    r.promptHash,
    r.promptChars,
    r.answerChars,
    r.preview,
    r.promptId ?? null,
    r.traceId ?? null,
    r.savedCostUsd ?? null,
    r.principal ?? null,
  ];
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string => (typeof v === 'string' ? v : String(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : str(v));

export function toRecord(row: Record<string, unknown>): UsageRecord {
  return {
    ts: num(row.ts),
    endpoint: str(row.endpoint),
    provider: str(row.provider),
    model: str(row.model),
    status: str(row.status) as UsageStatus,
    errorType: strOrNull(row.error_type),
    latencyMs: num(row.latency_ms),
    inputTokens: num(row.input_tokens),
    outputTokens: num(row.output_tokens),
    cachedTokens: num(row.cached_tokens),
    reasoningTokens: num(row.reasoning_tokens),
    tokensEstimated: num(row.tokens_estimated) === 1,
    costUsd: numOrNull(row.cost_usd),
    qualityScore: numOrNull(row.quality_score),
    flags: JSON.parse(str(row.flags)) as string[],
    retryCount: num(row.retry_count),
    fallbackUsed: num(row.fallback_used) === 1,
    routerDecision: strOrNull(row.router_decision),
    promptHash: str(row.prompt_hash),
    promptChars: num(row.prompt_chars),
    answerChars: num(row.answer_chars),
    preview: strOrNull(row.preview),
    promptId: strOrNull(row.prompt_id),
    traceId: strOrNull(row.trace_id),
    savedCostUsd: numOrNull(row.saved_cost_usd),
    principal: strOrNull(row.principal),
  };
}

export function hourlyValues(row: HourlyUsage): SqlValue[] {
  return [row.hour, row.endpoint, row.provider, row.model, ...HOURLY_MEASURES.map((m) => row[m])];
}

export const HOURLY_COLUMNS = [
  'hour',
  'endpoint',
  'provider',
  'model',
  ...HOURLY_MEASURES.map((m) => MEASURE_COLUMNS[m]),
];

/** `INSERT ... ON CONFLICT DO UPDATE` adding (`add`) or replacing (`replace`) the measures. */
export function hourlyUpsert(placeholders: string, mode: 'add' | 'replace'): string {
  const updates = HOURLY_MEASURES.map((m) => {
    const c = MEASURE_COLUMNS[m];
    return mode === 'add' ? `${c} = usage_hourly.${c} + excluded.${c}` : `${c} = excluded.${c}`;
  }).join(', ');
  return `INSERT INTO usage_hourly (${HOURLY_COLUMNS.join(', ')}) VALUES ${placeholders}
ON CONFLICT (hour, endpoint, provider, model) DO UPDATE SET ${updates}`;
}

/** The grouped rollup query; dimensions come from a whitelist, never from input. `$1`/`$2`: from, to. */
export function hourlySelect(query: HourlyQuery, param: (i: number) => string): string {
  const keep = USAGE_DIMENSIONS.filter((d) => query.groupBy?.includes(d));
  const dims = USAGE_DIMENSIONS.map((d) => (keep.includes(d) ? d : `'${ANY}' AS ${d}`)).join(', ');
  const sums = HOURLY_MEASURES.map((m) => `SUM(${MEASURE_COLUMNS[m]}) AS ${MEASURE_COLUMNS[m]}`).join(', ');
  const group = ['hour', ...keep].join(', ');
  return `SELECT hour, ${dims}, ${sums} FROM usage_hourly WHERE hour >= ${param(1)} AND hour < ${param(2)}
GROUP BY ${group} ORDER BY ${group}`;
}

export function hourlyRange(query: HourlyQuery): [number, number] {
  return [hourStart(query.from), query.to];
}

export function toHourly(row: Record<string, unknown>): HourlyUsage {
  const out = {
    hour: num(row.hour),
    endpoint: str(row.endpoint),
    provider: str(row.provider),
    model: str(row.model),
  } as HourlyUsage;
  for (const m of HOURLY_MEASURES) out[m] = num(row[MEASURE_COLUMNS[m]]);
  return out;
}

/**
 * The calls whose latency the windows count: not an abandoned one (its latency measures the client's patience), nor a
 * refusal that reached no model (circuit open, no capacity: about 0.3 ms, which pulled the p50 and p95 down exactly
 * during an outage), nor a request the provider rejected at once as invalid (`rejected`: no answer was generated).
 * Shared by the window SQL and `rollUpSlots` (window-rollup.ts, `isTimed`).
 */
export const TIMED_SQL = `(status NOT IN ('aborted', 'rejected') AND COALESCE(error_type, '') NOT IN ('circuit_open', 'no_capacity'))`;
/** SQL of each window measure over `usage_records` (flags are a JSON array of fixed names). */
export const WINDOW_SQL: Record<WindowMeasure, string> = {
  requests: 'COUNT(*)',
  answered: `SUM(CASE WHEN status = 'ok' THEN 1 ELSE 0 END)`,
  errors: `SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END)`,
  timeouts: `SUM(CASE WHEN status = 'error' AND error_type = 'timeout' THEN 1 ELSE 0 END)`,
  circuitOpen: `SUM(CASE WHEN status = 'error' AND error_type = 'circuit_open' THEN 1 ELSE 0 END)`,
  safetyBlocks: `SUM(CASE WHEN status = 'safety_block' THEN 1 ELSE 0 END)`,
  aborted: `SUM(CASE WHEN status = 'aborted' THEN 1 ELSE 0 END)`,
  retries: 'COALESCE(SUM(retry_count), 0)',
  costUsd: 'COALESCE(SUM(cost_usd), 0)',
  pricedRequests: 'COUNT(cost_usd)',
  inputTokens: 'COALESCE(SUM(input_tokens), 0)',
  outputTokens: 'COALESCE(SUM(output_tokens), 0)',
  latencyCount: `SUM(CASE WHEN ${TIMED_SQL} THEN 1 ELSE 0 END)`,
  latencyMsSum: `COALESCE(SUM(CASE WHEN ${TIMED_SQL} THEN latency_ms ELSE 0 END), 0)`,
  qualitySum: `COALESCE(SUM(CASE WHEN status = 'ok' THEN quality_score END), 0)`,
  qualityCount: `COUNT(CASE WHEN status = 'ok' THEN quality_score END)`,
  ungrounded: `SUM(CASE WHEN status = 'ok' AND flags LIKE '%"ungrounded"%' THEN 1 ELSE 0 END)`,
  failureToAnswer: `SUM(CASE WHEN status = 'ok' AND flags LIKE '%"failure_to_answer"%' THEN 1 ELSE 0 END)`,
  pii: `SUM(CASE WHEN flags LIKE '%"pii"%' THEN 1 ELSE 0 END)`,
  promptInjection: `SUM(CASE WHEN flags LIKE '%"prompt_injection"%' THEN 1 ELSE 0 END)`,
  tokenAbuse: `SUM(CASE WHEN flags LIKE '%"token_abuse"%' THEN 1 ELSE 0 END)`,
  noCapacity: `SUM(CASE WHEN status = 'error' AND error_type = 'no_capacity' THEN 1 ELSE 0 END)`,
  fallbacks: 'SUM(CASE WHEN fallback_used = 1 THEN 1 ELSE 0 END)',
  fallbackRetries: 'COALESCE(SUM(CASE WHEN fallback_used = 1 THEN retry_count ELSE 0 END), 0)',
  fallbackLatencyCount: `SUM(CASE WHEN fallback_used = 1 AND ${TIMED_SQL} THEN 1 ELSE 0 END)`,
  fallbackLatencyMsSum: `COALESCE(SUM(CASE WHEN fallback_used = 1 AND ${TIMED_SQL} THEN latency_ms ELSE 0 END), 0)`,
  freeFailures: `SUM(CASE WHEN status <> 'ok' AND cost_usd = 0 THEN 1 ELSE 0 END)`,
};

export const windowColumn = (m: WindowMeasure): string => `w_${m.toLowerCase()}`;

/**
 * The window aggregate over raw records; dimensions come from a whitelist, bucket bounds are checked finite numbers
 * (inlined as numeric literals, never input text). `$1`/`$2`: from, to.
 */
export function windowSelect(query: WindowQuery, param: (i: number) => string): string {
  const keep = USAGE_DIMENSIONS.filter((d) => query.groupBy?.includes(d));
  const dims = USAGE_DIMENSIONS.map((d) => (keep.includes(d) ? d : `'${ANY}' AS ${d}`)).join(', ');
  const sums = WINDOW_MEASURES.map((m) => `${WINDOW_SQL[m]} AS ${windowColumn(m)}`);
  const buckets = (query.latencyBoundsMs ?? []).map((bound, i) => {
    if (!Number.isFinite(bound)) throw new Error(`latency bound ${String(bound)} is not a finite number`);
    return `SUM(CASE WHEN ${TIMED_SQL} AND latency_ms <= ${Number(bound)} THEN 1 ELSE 0 END) AS w_le_${i}`;
  });
  const fallbackBuckets = (query.latencyBoundsMs ?? []).map(
    (bound, i) =>
      `SUM(CASE WHEN fallback_used = 1 AND ${TIMED_SQL} AND latency_ms <= ${Number(bound)} THEN 1 ELSE 0 END) AS w_fle_${i}`,
  );
  const group = keep.length > 0 ? `GROUP BY ${keep.join(', ')} ORDER BY ${keep.join(', ')}` : '';
  return `SELECT ${dims}, ${[...sums, ...buckets, ...fallbackBuckets].join(', ')} FROM usage_records
WHERE ts >= ${param(1)} AND ts < ${param(2)} ${group}`;
}

export function toWindow(row: Record<string, unknown>, buckets: number): WindowUsage {
  const out = {
    endpoint: str(row.endpoint),
    provider: str(row.provider),
    model: str(row.model),
    latencyAtMost: Array.from({ length: buckets }, (_, i) => num(row[`w_le_${i}`])),
    fallbackLatencyAtMost: Array.from({ length: buckets }, (_, i) => num(row[`w_fle_${i}`])),
  } as WindowUsage;
  for (const m of WINDOW_MEASURES) out[m] = num(row[windowColumn(m)]);
  return out;
}

/**
 * Answered calls whose exact prompt (its hash: the whole text sent, document included) was asked more than once in
 * [from, to), per endpoint and model, most repeated first. Calls answered from the response cache (`cache_hit`) are
 * left out: they are repeats the cache already saved. `$1`/`$2`: from, to; `$3`: fewest calls; `$4`: limit.
 */
export function repeatedPromptsSelect(param: (i: number) => string): string {
  return `SELECT endpoint, model, prompt_hash, COUNT(*) AS calls, COALESCE(SUM(cost_usd), 0) AS cost_usd,
COALESCE(SUM(input_tokens), 0) AS input_tokens, COALESCE(SUM(output_tokens), 0) AS output_tokens,
COALESCE(SUM(latency_ms), 0) AS latency_ms_sum
FROM usage_records WHERE ts >= ${param(1)} AND ts < ${param(2)} AND status = 'ok'
AND flags NOT LIKE '%"${CACHE_HIT_FLAG}"%'
GROUP BY endpoint, model, prompt_hash HAVING COUNT(*) >= ${param(3)}
ORDER BY calls DESC, endpoint, model, prompt_hash LIMIT ${param(4)}`;
}

export function toRepeatedPrompt(row: Record<string, unknown>): RepeatedPrompt {
  return {
    endpoint: str(row.endpoint),
    model: str(row.model),
    promptHash: str(row.prompt_hash),
    calls: num(row.calls),
    costUsd: num(row.cost_usd),
    inputTokens: num(row.input_tokens),
    outputTokens: num(row.output_tokens),
    latencyMsSum: num(row.latency_ms_sum),
  };
}
