import { ANY, type UsageDimension } from './usage-record';

/** A window of raw usage records to aggregate: [from, to), grouped by some dimensions. */
export interface WindowQuery {
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
  /** Dimensions to keep; the others are summed over and reported as `*`. Default: none (one row). */
  groupBy?: readonly UsageDimension[];
  /**
   * Latency bucket bounds (ms, ascending, finite): `latencyAtMost[i]` counts the calls whose latency is at most
   * `latencyBoundsMs[i]`, enough to interpolate a percentile without reading every record.
   */
  latencyBoundsMs?: readonly number[];
}

/**
 * Latency bucket bounds the store keeps per 10-second slot (`usage_10s`): the E12 series (1, 1.2, 1.5, 1.8, 2.2, 2.7,
 * 3.3, 3.9, 4.7, 5.6, 6.8, 8.2) over seven decades, 1 ms to 8.2e6 ms, about 21 % apart. A window query whose
 * `latencyBoundsMs` are all on this ladder is answered from the rollups (exactly: a bucket counts the calls
 * at most that latency); other bounds are read from the raw records.
 */
export const LATENCY_LADDER_MS: readonly number[] = (() => {
  const e12 = [10, 12, 15, 18, 22, 27, 33, 39, 47, 56, 68, 82];
  const out: number[] = [];
  for (let decade = 0; decade < 7; decade++) for (const m of e12) out.push((m * 10 ** decade) / 10);
  return out;
})();

/** Which repeated prompts to find: [from, to), prompts asked at least `minCalls` times, at most `limit` rows. */
export interface RepeatedPromptQuery {
  from: number;
  to: number;
  minCalls: number;
  limit: number;
}

/** One exact prompt (by hash) answered several times on one endpoint by one model: a response-cache candidate. */
export interface RepeatedPrompt {
  endpoint: string;
  model: string;
  promptHash: string;
  /** Answered calls with this prompt in the window. */
  calls: number;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  latencyMsSum: number;
}

/** Sums over the raw records of one window (and, unless grouped away, one endpoint/provider/model). */
export interface WindowUsage {
  endpoint: string;
  provider: string;
  model: string;
  /** Every call, aborted ones included. */
  requests: number;
  /** Calls that were answered (`ok`). */
  answered: number;
  errors: number;
  /** Failed calls whose error type is `timeout`. */
  timeouts: number;
  /** Failed calls refused because the circuit breakers of every model in the chain were open (`circuit_open`). */
  circuitOpen: number;
  safetyBlocks: number;
  aborted: number;
  retries: number;
  /** Spend of the window (unpriced calls add nothing), and how many calls were priced. */
  costUsd: number;
  pricedRequests: number;
  inputTokens: number;
  outputTokens: number;
  /** Calls with a latency (every call but the aborted ones: their latency measures the client's patience). */
  latencyCount: number;
  latencyMsSum: number;
  /** Per bound of the query, the calls (aborted ones excluded) with latency at most that bound. */
  latencyAtMost: number[];
  qualitySum: number;
  qualityCount: number;
  /** Answered calls flagged `ungrounded` or `failure_to_answer`. */
  ungrounded: number;
  failureToAnswer: number;
  /** Calls (any status) whose prompt was flagged: personal data, prompt injection, token abuse. */
  pii: number;
  promptInjection: number;
  tokenAbuse: number;
  /**
   * Failed calls refused with 503 NO_CAPACITY (`no_capacity`): the process was saturated, the concurrency limit's
   * queue timed out, or every model was held after the provider's 429s; none reached a model.
   */
  noCapacity: number;
  /**
   * Calls that reached this model only after an earlier model of their chain failed or had its circuit open
   * (`fallback_used`): the row names the model that answered (or was tried last), not the one that failed first.
   */
  fallbacks: number;
  /**
   * The retries of those calls (`retry_count` of the `fallbacks`): attempts that are mostly the earlier model's, not
   * this one's.
   */
  fallbackRetries: number;
  /**
   * The latency of those calls (timed ones, as `latencyCount`): the earlier model's failed attempts and the retry
   * backoff, then this model's answer. Subtracted from the window's latency, what is left is the model's own calls'
   * (the health score's per-model p95): before, a healthy fallback answering in 30 ms read a p95 of 1485 ms and a
   * performance of 0, the failed model's 600 ms attempts counted as its slowness.
   */
  fallbackLatencyCount: number;
  fallbackLatencyMsSum: number;
  /** Per bound of the query, the fallbacks (timed) with latency at most that bound: part of `latencyAtMost`. */
  fallbackLatencyAtMost: number[];
  /**
   * Priced calls that were not answered and cost nothing (a failure, refusal, block or abort the provider billed
   * nothing for): `pricedRequests − freeFailures` are the calls answered or billed, what a cost per call is over.
   * Before, they counted as calls of $0, so the cost per call fell during an outage.
   */
  freeFailures: number;
}

/** The counted members of WindowUsage (all but the dimensions and the latency buckets), in storage order. */
export const WINDOW_MEASURES = [
  'requests',
  'answered',
  'errors',
  'timeouts',
  'circuitOpen',
  'safetyBlocks',
  'aborted',
  'retries',
  'costUsd',
  'pricedRequests',
  'inputTokens',
  'outputTokens',
  'latencyCount',
  'latencyMsSum',
  'qualitySum',
  'qualityCount',
  'ungrounded',
  'failureToAnswer',
  'pii',
  'promptInjection',
  'tokenAbuse',
  // Added after the first 10-second rollups: last, so their columns are added to an earlier version's table.
  'noCapacity',
  'fallbacks',
  'fallbackRetries',
  'fallbackLatencyCount',
  'fallbackLatencyMsSum',
  'freeFailures',
] as const satisfies readonly (keyof WindowUsage)[];
export type WindowMeasure = (typeof WINDOW_MEASURES)[number];

export function emptyWindow(buckets: number, endpoint = ANY, provider = ANY, model = ANY): WindowUsage {
  const row = {
    endpoint,
    provider,
    model,
    latencyAtMost: new Array<number>(buckets).fill(0),
    fallbackLatencyAtMost: new Array<number>(buckets).fill(0),
  } as WindowUsage;
  for (const m of WINDOW_MEASURES) row[m] = 0;
  return row;
}

/** Adds `b` into `a` (same bucket bounds). */
export function addWindow(a: WindowUsage, b: WindowUsage): WindowUsage {
  for (const m of WINDOW_MEASURES) a[m] += b[m];
  b.latencyAtMost.forEach((n, i) => (a.latencyAtMost[i] = (a.latencyAtMost[i] ?? 0) + n));
  b.fallbackLatencyAtMost.forEach((n, i) => (a.fallbackLatencyAtMost[i] = (a.fallbackLatencyAtMost[i] ?? 0) + n));
  return a;
}
