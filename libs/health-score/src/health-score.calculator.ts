import { DAY_MS } from '@app/common';
import { HEALTH_COMPONENTS, type HealthComponentName } from '@app/config';
import { emptyWindow, LATENCY_LADDER_MS, type WindowUsage } from '@app/ledger';
import {
  answerFlagCurve,
  budgetCurve,
  costPerRequestCurve,
  meanQualityCurve,
  performanceCurve,
  reliabilityCurve,
  securityCurve,
  WEAKEST_LINK_MARGIN,
} from './curves';
import type { HealthAssessment, HealthSignals, HealthStatus } from './health-score.types';

export interface HealthScoreSettings {
  latencySloMs: number;
  costPerRequestUsd: number;
  weights: Readonly<Record<HealthComponentName, number>>;
  /** DAILY_BUDGET_USD, when set. */
  dailyBudgetUsd?: number;
}

/**
 * Latency bucket bounds asked of the ledger: the ledger's latency ladder (E12, about 21 % apart) from its first bound
 * (1 ms) to 4 × the SLO (the curve is flat beyond 2.5 ×; the last bound is at least 3.2 ×). The whole low end is
 * asked, not only what the score's curve needs: the p50 and p95 are reported as they are (a window of 5 ms calls
 * read p50 135 ms and p95 256 ms when the first bound was SLO / 8, interpolated from 0 to 250 ms). Bounds on the
 * ladder let the ledger answer from its 10-second rollups instead of scanning the window's records.
 */
export function latencyBounds(latencySloMs: number): number[] {
  return LATENCY_LADDER_MS.filter((b) => b <= 4 * latencySloMs);
}

/**
 * The p95 of the window's latencies from bucket counts, interpolated linearly inside its bucket (from 0 below the
 * first bound); above the last bound it is reported as that bound (at least 4 × the SLO: the curve is 0 there).
 */
export function p95FromBuckets(bounds: readonly number[], atMost: readonly number[], count: number): number | null {
  return quantileFromBuckets(bounds, atMost, count, 0.95);
}

/** The quantile `q` (0–1) of the window's latencies from bucket counts, as `p95FromBuckets`. */
export function quantileFromBuckets(
  bounds: readonly number[],
  atMost: readonly number[],
  count: number,
  q: number,
): number | null {
  if (count <= 0) return null;
  const target = q * count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (let i = 0; i < bounds.length; i++) {
    const n = atMost[i] ?? 0;
    if (n >= target) {
      const share = n === lowerCount ? 1 : (target - lowerCount) / (n - lowerCount);
      return lowerBound + share * (bounds[i]! - lowerBound);
    }
    lowerBound = bounds[i]!;
    lowerCount = n;
  }
  return bounds[bounds.length - 1] ?? null;
}

const rate = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null);

export function statusOf(score: number | null): HealthStatus {
  if (score === null) return 'no_data';
  return score >= 80 ? 'healthy' : score >= 60 ? 'degraded' : 'critical';
}

/**
 * The overall score from the components: the weighted mean of those with data (weights renormalised over them),
 * capped at the weakest component + 50. A component weighted 0 (HEALTH_WEIGHTS) is left out of both: before, one the
 * operator had weighted out still capped the score (cost=0 and calls over the cost target: 50, critical). Null when
 * no weighted component has data.
 */
export function combine(
  components: Readonly<Record<HealthComponentName, number | null>>,
  weights: Readonly<Record<HealthComponentName, number>>,
): number | null {
  let weighted = 0;
  let weightSum = 0;
  let weakest = Infinity;
  for (const name of HEALTH_COMPONENTS) {
    const score = components[name];
    if (score === null || !(weights[name] > 0)) continue;
    weakest = Math.min(weakest, score);
    weighted += weights[name] * score;
    weightSum += weights[name];
  }
  if (weightSum <= 0) return null;
  return Math.min(weighted / weightSum, weakest + WEAKEST_LINK_MARGIN);
}

/** The signals of one window's usage. */
export function signalsOf(
  usage: WindowUsage,
  bounds: readonly number[],
  windowMs: number,
  budget?: number,
): HealthSignals {
  const n = usage.requests;
  const signals: HealthSignals = {
    requests: n,
    p50LatencyMs: quantileFromBuckets(bounds, usage.latencyAtMost, usage.latencyCount, 0.5),
    p95LatencyMs: p95FromBuckets(bounds, usage.latencyAtMost, usage.latencyCount),
    meanLatencyMs: rate(usage.latencyMsSum, usage.latencyCount),
    errorRate: rate(usage.errors, n),
    timeoutRate: rate(usage.timeouts, n),
    retriesPerRequest: rate(usage.retries, n),
    // Over the calls answered or billed: a failure that cost nothing is no cheaper call (before, an outage whose
    // failures cost $0 read as a fall of the cost per call; slots written before `freeFailures` count none).
    costPerRequestUsd: rate(usage.costUsd, usage.pricedRequests - usage.freeFailures),
    // Only over priced calls: the spend of calls to a model missing from the price table is unknown, not $0 (before,
    // a window of such calls read a pace of 0 and a cost component of 100 while costPerRequestUsd was null).
    budgetPace:
      budget && budget > 0 && usage.pricedRequests > 0 ? (usage.costUsd * (DAY_MS / windowMs)) / budget : null,
    meanQuality: rate(usage.qualitySum, usage.qualityCount),
    ungroundedRate: rate(usage.ungrounded, usage.answered),
    failureToAnswerRate: rate(usage.failureToAnswer, usage.answered),
    safetyBlockRate: rate(usage.safetyBlocks, n),
    promptInjectionRate: rate(usage.promptInjection, n),
    piiRate: rate(usage.pii, n),
    tokenAbuseRate: rate(usage.tokenAbuse, n),
  };
  return signals;
}

const minOf = (...scores: (number | null)[]): number | null => {
  const present = scores.filter((s): s is number => s !== null);
  return present.length > 0 ? Math.min(...present) : null;
};

/** The five components from the signals (docs/health-score.md, "Components"). */
export function componentsOf(
  s: HealthSignals,
  settings: HealthScoreSettings,
): Record<HealthComponentName, number | null> {
  const has = s.requests > 0;
  return {
    performance: s.p95LatencyMs === null ? null : performanceCurve(s.p95LatencyMs / settings.latencySloMs),
    reliability: has
      ? reliabilityCurve((s.errorRate ?? 0) + 0.5 * (s.timeoutRate ?? 0) + 0.1 * (s.retriesPerRequest ?? 0))
      : null,
    cost: minOf(
      s.costPerRequestUsd === null ? null : costPerRequestCurve(s.costPerRequestUsd / settings.costPerRequestUsd),
      s.budgetPace === null ? null : budgetCurve(s.budgetPace),
    ),
    quality: minOf(
      s.meanQuality === null ? null : meanQualityCurve(s.meanQuality),
      s.ungroundedRate === null ? null : answerFlagCurve(s.ungroundedRate),
      s.failureToAnswerRate === null ? null : answerFlagCurve(s.failureToAnswerRate),
    ),
    security: has
      ? securityCurve(
          (s.safetyBlockRate ?? 0) +
            (s.promptInjectionRate ?? 0) +
            0.5 * (s.piiRate ?? 0) +
            0.5 * (s.tokenAbuseRate ?? 0),
        )
      : null,
  };
}

/** The health of one window's usage (null usage: the window holds no call). */
export function assess(
  usage: WindowUsage | null,
  bounds: readonly number[],
  windowMs: number,
  settings: HealthScoreSettings,
): HealthAssessment {
  const empty = usage === null || usage.requests === 0;
  const signals = signalsOf(usage ?? emptyWindow(bounds.length), bounds, windowMs, settings.dailyBudgetUsd);
  const components = componentsOf(signals, settings);
  const score = empty ? null : combine(components, settings.weights);
  return { score, status: statusOf(score), components, signals };
}

/** The signals each component is computed from: a component none of whose inputs is given has no data. */
const COMPONENT_INPUTS: Record<HealthComponentName, readonly (keyof HealthSignals)[]> = {
  performance: ['p95LatencyMs'],
  reliability: ['errorRate', 'timeoutRate', 'retriesPerRequest'],
  cost: ['costPerRequestUsd', 'budgetPace'],
  quality: ['meanQuality', 'ungroundedRate', 'failureToAnswerRate'],
  security: ['safetyBlockRate', 'promptInjectionRate', 'piiRate', 'tokenAbuseRate'],
};

/**
 * Scores caller-supplied aggregates (rates and means, no window) with the same curves, weights and cap: a component
 * none of whose inputs is given is null and left out of the overall score.
 */
export function assessAggregates(given: Partial<HealthSignals>, settings: HealthScoreSettings): HealthAssessment {
  const present = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined && v !== null));
  const signals: HealthSignals = {
    ...signalsOf(emptyWindow(0), [], DAY_MS),
    ...present,
    requests: given.requests ?? 1,
  };
  const computed = componentsOf(signals, settings);
  const components = { ...computed };
  for (const name of HEALTH_COMPONENTS) {
    const known = COMPONENT_INPUTS[name].some((key) => given[key] !== undefined && given[key] !== null);
    if (!known) components[name] = null;
  }
  const score = combine(components, settings.weights);
  return { score, status: statusOf(score), components, signals };
}
