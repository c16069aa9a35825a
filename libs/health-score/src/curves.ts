/**
 * The component curves of the health score (docs/health-score.md states each one). Every curve is continuous and
 * monotone over its whole input range: a smoothstep between two knees, flat (100 or 0) outside them, so there is no
 * jump anywhere (the origin's curve fell from 60 to 0.1 between 1500 and 1499 ms) and no turn.
 */

/** Hermite smoothstep: 0 for t ≤ 0, 1 for t ≥ 1, 3t² − 2t³ between (continuous, with a continuous slope). */
export function smoothstep(t: number): number {
  if (!(t > 0)) return 0; // also NaN
  if (t >= 1) return 1;
  return t * t * (3 - 2 * t);
}

/** 100 up to `good`, 0 from `bad`, smoothly falling between (non-increasing in x). `good` < `bad`. */
export function falling(x: number, good: number, bad: number): number {
  return 100 * (1 - smoothstep((x - good) / (bad - good)));
}

/** 0 up to `bad`, 100 from `good`, smoothly rising between (non-decreasing in x). `bad` < `good`. */
export function rising(x: number, bad: number, good: number): number {
  return 100 * smoothstep((x - bad) / (good - bad));
}

/** The knees of each curve (x where the score leaves 100, x where it reaches 0). */
export const KNEES = {
  /** p95 latency / HEALTH_LATENCY_SLO_MS. */
  latencyRatio: [0.75, 2.5],
  /** Error rate + 0.5 × timeout rate + 0.1 × retries per request. */
  unreliability: [0, 0.1],
  /** Spend per priced request / HEALTH_COST_PER_REQUEST_USD. */
  costRatio: [0.5, 3],
  /** The window's spend rate over a day / DAILY_BUDGET_USD. */
  budgetPace: [0.8, 1.5],
  /** Mean quality score (rising: 0 at 0.3, 100 at 0.8). */
  meanQuality: [0.3, 0.8],
  /** Ungrounded and failure-to-answer rates of answered calls. */
  answerFlagRate: [0, 0.3],
  /** (Safety blocks + injections + 0.5 × PII + 0.5 × token abuse) per request. */
  insecurity: [0, 0.2],
} as const satisfies Record<string, readonly [number, number]>;

export const performanceCurve = (latencyRatio: number): number =>
  falling(latencyRatio, KNEES.latencyRatio[0], KNEES.latencyRatio[1]);
export const reliabilityCurve = (unreliability: number): number =>
  falling(unreliability, KNEES.unreliability[0], KNEES.unreliability[1]);
export const costPerRequestCurve = (costRatio: number): number =>
  falling(costRatio, KNEES.costRatio[0], KNEES.costRatio[1]);
export const budgetCurve = (pace: number): number => falling(pace, KNEES.budgetPace[0], KNEES.budgetPace[1]);
export const meanQualityCurve = (quality: number): number =>
  rising(quality, KNEES.meanQuality[0], KNEES.meanQuality[1]);
export const answerFlagCurve = (rate: number): number =>
  falling(rate, KNEES.answerFlagRate[0], KNEES.answerFlagRate[1]);
export const securityCurve = (insecurity: number): number =>
  falling(insecurity, KNEES.insecurity[0], KNEES.insecurity[1]);

/** How far above its weakest component the overall score may be: one component at 0 makes the service critical. */
export const WEAKEST_LINK_MARGIN = 50;
