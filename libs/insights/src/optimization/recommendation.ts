/** The days of ledger usage before implementation that make a recommendation's baseline. */
export const BASELINE_DAYS = 7;
export const DAY_MS = 86_400_000;
/** Requests in the thinner window at which the confidence of a result is 0.5 (see `confidenceFromVolume`). */
export const CONFIDENCE_HALF_REQUESTS = 30;

export const RECOMMENDATION_STATUSES = ['pending', 'implemented'] as const;
export type RecommendationStatus = (typeof RECOMMENDATION_STATUSES)[number];
export const RECOMMENDATION_PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;
export type RecommendationPriority = (typeof RECOMMENDATION_PRIORITIES)[number];

/** Ledger usage over one window [from, to) (epoch ms), priced calls only (an unpriced call has no cost). */
export interface UsageWindow {
  from: number;
  to: number;
  /** Every call in the window. */
  requests: number;
  /** Calls with a cost, failed calls that cost nothing left out: the figures per request are over these. */
  pricedRequests: number;
  costUsd: number;
}

/** What implementation recorded: the ledger's usage over the BASELINE_DAYS before it, and what the caller sent. */
export interface Baseline {
  window: UsageWindow;
  /** The caller's `baseline_metrics`, kept as sent (informational: the comparison uses `window`). */
  declared: Record<string, unknown> | null;
}

export interface Recommendation {
  id: string;
  title: string;
  category: string;
  description: string;
  estimatedSavingsPerRequest: number;
  estimatedSavingsPercentage: number;
  priority: RecommendationPriority;
  implementationCost: number;
  status: RecommendationStatus;
  createdAt: number;
  implementedAt: number | null;
  baseline: Baseline | null;
}

/** One measured result of an implemented recommendation. */
export interface RecommendationResult {
  id: string;
  recommendationId: string;
  recordedAt: number;
  periodDays: number;
  /** The baseline window (before) and the window measured since implementation (after); they never overlap. */
  before: UsageWindow;
  after: UsageWindow;
  /** What the after window's priced requests would have cost at the baseline's cost per request. */
  beforeCost: number;
  /** What they cost. */
  afterCost: number;
  actualSavings: number;
  /** The implementation cost when the result was recorded. */
  implementationCost: number;
  roiPercentage: number | null;
  roiReason: string | null;
  confidenceScore: number;
}

export const round = (value: number, digits: number): number => {
  const f = 10 ** digits;
  const r = Math.round(value * f) / f;
  return Object.is(r, -0) ? 0 : r;
};

/** Cost per priced request of a window; null without priced requests. */
export function costPerRequest(window: UsageWindow): number | null {
  return window.pricedRequests > 0 ? window.costUsd / window.pricedRequests : null;
}

/** Priced requests per hour of a window. */
export function requestsPerHour(window: UsageWindow): number {
  const hours = (window.to - window.from) / 3_600_000;
  return hours > 0 ? window.pricedRequests / hours : 0;
}

export interface Roi {
  /** Percent, finite; null when the implementation cost is 0 (there is nothing to divide by). */
  roiPercentage: number | null;
  /** Why `roiPercentage` is null; null when it is a number. */
  roiReason: string | null;
}

/**
 * ROI = (savings − implementation cost) / implementation cost × 100, rounded to 0.01 %. With a zero cost the ratio
 * has no value (the origin answered +∞, which broke every later JSON answer): null, with the reason.
 */
export function computeRoi(savings: number, implementationCost: number): Roi {
  if (!Number.isFinite(savings) || !Number.isFinite(implementationCost) || implementationCost < 0) {
    return { roiPercentage: null, roiReason: 'savings or implementation cost is not a finite number' };
  }
  if (implementationCost === 0) {
    return {
      roiPercentage: null,
      roiReason: 'implementation_cost is 0: ROI (savings − cost) / cost is undefined; see the savings instead',
    };
  }
  return { roiPercentage: round(((savings - implementationCost) / implementationCost) * 100, 2), roiReason: null };
}

/**
 * Confidence in a measured saving, from the request volume of both windows: n / (n + 30), n the priced requests
 * of the thinner window (0 with none; 0.5 at 30; 0.91 at 300), rounded to 0.001.
 */
export function confidenceFromVolume(beforeRequests: number, afterRequests: number): number {
  const n = Math.max(0, Math.min(beforeRequests, afterRequests));
  return round(n / (n + CONFIDENCE_HALF_REQUESTS), 3);
}

/**
 * Why a result cannot be measured (no priced requests in a window), or undefined when it can. `sinceLastResult`: the
 * after window starts where the previous result's ended, not at implementation.
 */
export function unmeasurable(before: UsageWindow, after: UsageWindow, sinceLastResult = false): string | undefined {
  const iso = (ms: number): string => new Date(ms).toISOString();
  if (before.pricedRequests === 0) {
    return `the baseline window [${iso(before.from)}, ${iso(before.to)}) has no priced requests in the ledger: there is no cost per request to compare with`;
  }
  if (after.pricedRequests === 0) {
    const since = sinceLastResult ? 'the last result recorded' : 'implementation';
    return `no priced requests in the ledger since ${since} ([${iso(after.from)}, ${iso(after.to)})): nothing to measure yet`;
  }
  return undefined;
}

/**
 * The result of a recommendation measured from two ledger windows: the after window's priced requests at the
 * baseline cost per request (`beforeCost`) against what they cost (`afterCost`). Both windows must have priced
 * requests (`unmeasurable`).
 */
export function measure(
  before: UsageWindow,
  after: UsageWindow,
  implementationCost: number,
): Pick<
  RecommendationResult,
  'beforeCost' | 'afterCost' | 'actualSavings' | 'roiPercentage' | 'roiReason' | 'confidenceScore'
> {
  const baselineRate = costPerRequest(before) ?? 0;
  const beforeCost = round(baselineRate * after.pricedRequests, 6);
  const afterCost = round(after.costUsd, 6);
  const actualSavings = round(beforeCost - afterCost, 6);
  return {
    beforeCost,
    afterCost,
    actualSavings,
    ...computeRoi(actualSavings, implementationCost),
    confidenceScore: confidenceFromVolume(before.pricedRequests, after.pricedRequests),
  };
}

/** `opt-YYYYmmdd-HHMMSS-<6 hex>` (the origin's form, with a random suffix instead of a per-process count). */
export function recommendationId(now: number, random: string): string {
  const iso = new Date(now).toISOString();
  return `opt-${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${random}`;
}
