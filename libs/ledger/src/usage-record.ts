import { hourStart } from '@app/common';
/**
 * Outcome of one LLM call as the ledger stores it. `aborted`: the client went away before the answer was
 * complete; what the provider was asked for and generated is still paid (its tokens and cost are recorded).
 * `rejected`: the provider refused the request itself as invalid (a prompt over the context window, an invalid
 * argument: the caller's 400, error type `bad_request`); a request, not an error of the service.
 */
export type UsageStatus = 'ok' | 'error' | 'safety_block' | 'aborted' | 'rejected';

/**
 * One LLM call. No raw prompt or answer: a hash and lengths, plus an optional redacted preview that is only
 * kept when LEDGER_STORE_PREVIEW=true.
 */
export interface UsageRecord {
  /** Epoch milliseconds of the call's start. */
  ts: number;
  endpoint: string;
  provider: string;
  model: string;
  status: UsageStatus;
  errorType: string | null;
  latencyMs: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  /** True when the token counts are estimates (the provider did not report usage). */
  tokensEstimated: boolean;
  /** Null when the model has no known price. */
  costUsd: number | null;
  qualityScore: number | null;
  /** e.g. ungrounded, failure_to_answer, pii, prompt_injection, token_abuse */
  flags: string[];
  retryCount: number;
  fallbackUsed: boolean;
  routerDecision: string | null;
  promptHash: string;
  promptChars: number;
  answerChars: number;
  /** Redacted, only when LEDGER_STORE_PREVIEW. */
  preview: string | null;
  /** The response's `metadata.prompt_id`: how a caller finds the record of a call it holds. Null on older rows. */
  promptId?: string | null;
  /** The 128-bit hex trace id (`dd.trace_id` of the call's log line); null when tracing is off. */
  traceId?: string | null;
  /**
   * The record's own id, given by the ledger when the call is recorded (a random UUID): a write of the record is
   * idempotent by it on PostgreSQL (a batch whose COMMIT's answer was lost is written again, counted once).
   */
  key?: string;
  /**
   * A call answered from the response cache (flag `cache_hit`, zero tokens, cost 0): what the original call cost,
   * saved by the hit (docs/cache.md). Null on every other call, and on older rows.
   */
  savedCostUsd?: number | null;
  /**
   * The name of the API key the call was made with (`API_KEYS`, or `development`): who spent it. Null without a key
   * (AUTH_DISABLED) and on rows recorded before the ledger kept it. Never the key itself nor its hash.
   */
  principal?: string | null;
}

/** The flag of a ledger record answered from the response cache (docs/cache.md). */
export const CACHE_HIT_FLAG = 'cache_hit';

/** Dimensions an hourly rollup can be grouped by. */
export type UsageDimension = 'endpoint' | 'provider' | 'model';
export const USAGE_DIMENSIONS: readonly UsageDimension[] = ['endpoint', 'provider', 'model'];

/** Sums over one hour (and, unless grouped away, one endpoint/provider/model). */
export interface HourlyUsage {
  /** Epoch milliseconds of the hour's start (UTC). */
  hour: number;
  endpoint: string;
  provider: string;
  model: string;
  requests: number;
  errors: number;
  /**
   * The requests whose errors are not known: imported usage without an error count (a file with no `errors` column,
   * or an empty cell). An error rate leaves them out of its denominator (unknown, not 0 %). Recorded calls: 0.
   */
  errorsUnknown: number;
  safetyBlocks: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  costUsd: number;
  /**
   * The latency of the timed calls (`isTimed`): a refusal that reached no model (circuit open, no capacity), an
   * aborted or a rejected call is a request, not a latency. Imported usage has none (0 and 0).
   */
  latencyMsSum: number;
  latencyCount: number;
  qualitySum: number;
  qualityCount: number;
  retries: number;
  fallbacks: number;
  flagged: number;
}

/** The numeric members of HourlyUsage, in storage order. */
export const HOURLY_MEASURES = [
  'requests',
  'errors',
  'errorsUnknown',
  'safetyBlocks',
  'inputTokens',
  'outputTokens',
  'cachedTokens',
  'reasoningTokens',
  'costUsd',
  'latencyMsSum',
  'latencyCount',
  'qualitySum',
  'qualityCount',
  'retries',
  'fallbacks',
  'flagged',
] as const satisfies readonly (keyof HourlyUsage)[];
export type HourlyMeasure = (typeof HOURLY_MEASURES)[number];

/** The measures that are not counts (stored as floats); every other one is a whole number. */
export const FRACTIONAL_HOURLY_MEASURES: ReadonlySet<HourlyMeasure> = new Set([
  'costUsd',
  'latencyMsSum',
  'qualitySum',
]);

/** Value of a dimension that was grouped away, or unknown on imported data. */
export const ANY = '*';

export interface HourlyQuery {
  /** Inclusive, epoch ms (rounded down to the hour). */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
  /** Dimensions to keep; the others are summed over and reported as `*`. Default: none (one row per hour). */
  groupBy?: readonly UsageDimension[];
}

export function emptyHourly(hour: number, endpoint = ANY, provider = ANY, model = ANY): HourlyUsage {
  return {
    hour,
    endpoint,
    provider,
    model,
    requests: 0,
    errors: 0,
    errorsUnknown: 0,
    safetyBlocks: 0,
    inputTokens: 0,
    outputTokens: 0,
    cachedTokens: 0,
    reasoningTokens: 0,
    costUsd: 0,
    latencyMsSum: 0,
    latencyCount: 0,
    qualitySum: 0,
    qualityCount: 0,
    retries: 0,
    fallbacks: 0,
    flagged: 0,
  };
}

/**
 * A call whose latency is counted (the windows' `TIMED_SQL` and the hourly rollup's `latencyCount`): not a refusal
 * that reached no model (circuit open, no capacity: about 0.3 ms, which pulled the means down in an outage), not an
 * aborted call (the client's time, not the model's), not one the provider rejected as invalid.
 */
export const isTimed = (r: Pick<UsageRecord, 'status' | 'errorType'>): boolean =>
  r.status !== 'aborted' && r.status !== 'rejected' && r.errorType !== 'circuit_open' && r.errorType !== 'no_capacity';

/** Folds records into hourly rows keyed by hour/endpoint/provider/model, sorted by key (stable lock order). */
export function rollUp(records: readonly UsageRecord[]): HourlyUsage[] {
  const rows = new Map<string, HourlyUsage>();
  for (const r of records) {
    const hour = hourStart(r.ts);
    const key = `${hour}\u0000${r.endpoint}\u0000${r.provider}\u0000${r.model}`;
    let row = rows.get(key);
    if (!row) {
      row = emptyHourly(hour, r.endpoint, r.provider, r.model);
      rows.set(key, row);
    }
    // An aborted call is a request (its tokens and cost were spent), not an error; nor is a rejected one (the caller's).
    row.requests += 1;
    if (r.status === 'error') row.errors += 1;
    if (r.status === 'safety_block') row.safetyBlocks += 1;
    row.inputTokens += r.inputTokens;
    row.outputTokens += r.outputTokens;
    row.cachedTokens += r.cachedTokens;
    row.reasoningTokens += r.reasoningTokens;
    row.costUsd += r.costUsd ?? 0;
    if (isTimed(r)) {
      row.latencyMsSum += r.latencyMs;
      row.latencyCount += 1;
    }
    // Quality of answers only: a safety block's capped score (the blocked text) is not an answer's quality.
    if (r.qualityScore !== null && r.status === 'ok') {
      row.qualitySum += r.qualityScore;
      row.qualityCount += 1;
    }
    row.retries += r.retryCount;
    row.fallbacks += r.fallbackUsed ? 1 : 0;
    row.flagged += r.flags.length > 0 ? 1 : 0;
  }
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}
