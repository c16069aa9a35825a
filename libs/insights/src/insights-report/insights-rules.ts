import { DAY_MS } from '@app/common';
import type { BudgetOutlookStatus } from '@app/forecast';
import type { HealthAssessment, HealthReport } from '@app/health-score';
import type { DriftMonitor } from '@app/ml';
import {
  type InsightEvidenceDto,
  type InsightPriority,
  INSIGHT_PRIORITIES,
  type InsightRecommendationDto,
  type InsightsWindowDto,
  type PredictiveInsightDto,
} from './insights-report.dto';
import {
  cachingRecommendations,
  cheaperModelRecommendations,
  capacityRecommendations,
  circuitRecommendations,
  costSpikeRecommendations,
  fallbackRecommendations,
  type TrafficFacts,
} from './traffic-rules';
import { spanLabel } from './span-label';

export type DriftSnapshot = ReturnType<DriftMonitor['all']>[number];

/** One endpoint's prompt volume over a window of hourly rollups. */
export interface EndpointPrompts {
  endpoint: string;
  requests: number;
  inputTokens: number;
}

/** Everything the live rules read, gathered by `InsightsReportService` (or built by hand in tests). */
export interface LiveFacts extends TrafficFacts {
  /** The health score of the short (`5m`) and long (`1h`) windows, ending at the same `to`. */
  short: HealthReport;
  long: HealthReport;
  /** Prompt sizes per endpoint over `promptsWindow` (the ledger's hourly rollups). */
  prompts: EndpointPrompts[];
  promptsWindow: InsightsWindowDto;
  /** The budget outlook; null when no budget is set. */
  budget: BudgetOutlookStatus | null;
  drift: DriftSnapshot[];
  /** The prompt-safety settings the security advice follows (PII_REDACT_PROMPTS, PROMPT_INJECTION_POLICY). */
  safety: { redactPrompts: boolean; injectionPolicy: 'flag' | 'block' };
  latencySloMs: number;
  /**
   * The highest p95 the health score reports (its last latency bucket): a p95 there is "at least" that much. Before,
   * a window of 9.6 s calls read "p95 latency 6800 ms (mean 9612 ms)".
   */
  p95CeilingMs: number;
  costPerRequestUsd: number;
}

/** Fewest calls of a model in a window for a rule to speak about it. */
export const MIN_CALLS = 5;
/** Fewest calls in the rest of the long window for it to serve as a baseline. */
export const MIN_BASELINE_CALLS = 5;
/** The volume at which confidence reaches half its effect factor: n / (n + VOLUME_HALF). */
export const VOLUME_HALF = 30;
/** An error rate from which reliability is flagged (the reliability curve is at 50 there). */
export const ERROR_RATE_TRIGGER = 0.05;
/** Prompts above this many tokens on average are long (the origin's router used the same boundary). */
export const LONG_PROMPT_TOKENS = 2000;
/** A flagged share of calls from which a security signal is reported, and the fewest flagged calls. */
export const SECURITY_RATE_TRIGGER = 0.02;
export const SECURITY_MIN_FLAGGED = 3;
/** p95 of the short window over p95 of the long one from which latency is rising. */
export const LATENCY_RISE_RATIO = 1.25;

const clamp01 = (x: number): number => (Number.isFinite(x) ? Math.max(0, Math.min(1, x)) : 0);
const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;
const pct = (rate: number): string => `${round(rate * 100, 1)}%`;

/** How much data stands behind a figure: 0 with none, 0.5 at VOLUME_HALF, towards 1 beyond. */
export const volumeFactor = (n: number): number => (n > 0 ? n / (n + VOLUME_HALF) : 0);
/** Confidence = volume factor × effect factor (both 0-1), 2 decimals. */
export const confidenceOf = (n: number, effect: number): number => round(volumeFactor(n) * clamp01(effect));

/** Priority from a 0-100 component score: < 25 critical, < 50 high, < 80 medium, else low. */
export function priorityFromScore(score: number | null): InsightPriority {
  if (score === null) return 'low';
  return score < 25 ? 'critical' : score < 50 ? 'high' : score < 80 ? 'medium' : 'low';
}

export const windowOf = (name: string, from: number, to: number): InsightsWindowDto => ({
  name,
  from: new Date(from).toISOString(),
  to: new Date(to).toISOString(),
  duration_ms: to - from,
});

const reportWindow = (r: HealthReport): InsightsWindowDto => windowOf(r.window, r.from, r.to);

const spanOf = (r: HealthReport): string => spanLabel(r.to - r.from);

/**
 * A rate over the part of the long window before the short one: (rate_L × n_L − rate_S × n_S) / (n_L − n_S), at
 * least 0 and at most `max` (1 for a share of calls; retries per call can exceed it).
 */
function restRate(
  long: HealthAssessment,
  short: HealthAssessment,
  pick: (a: HealthAssessment) => number | null,
  max = 1,
) {
  const nRest = long.signals.requests - short.signals.requests;
  const l = pick(long);
  const s = pick(short) ?? 0;
  if (nRest < MIN_BASELINE_CALLS || l === null) return null;
  const rest = (l * long.signals.requests - s * short.signals.requests) / nRest;
  return Number.isFinite(rest) ? Math.max(0, Math.min(max, rest)) : null;
}

const byPriority = (a: { priority: InsightPriority }, b: { priority: InsightPriority }): number =>
  INSIGHT_PRIORITIES.indexOf(a.priority) - INSIGHT_PRIORITIES.indexOf(b.priority);

/** Priority, then confidence (descending), then title: a stable order. */
export function sortRecommendations(list: InsightRecommendationDto[]): InsightRecommendationDto[] {
  return [...list].sort((a, b) => byPriority(a, b) || b.confidence - a.confidence || a.title.localeCompare(b.title));
}

/**
 * An exceeded daily budget: today's spend (the ledger's, UTC day) has reached DAILY_BUDGET_USD. A measured fact,
 * not an estimate (confidence 1), and the most urgent budget state, so it is always critical and always first.
 * What to do depends on BUDGET_POLICY: under enforce the LLM endpoints already refuse calls (429); under alert
 * nothing stops the spend.
 */
export function budgetRecommendations(facts: LiveFacts): InsightRecommendationDto[] {
  const b = facts.budget;
  if (!b || !b.exceeded || b.dailyBudgetUsd === null) return [];
  const budget = b.dailyBudgetUsd;
  const spent = b.spentTodayUsd;
  const over = Math.max(0, spent - budget);
  const spentPct = budget > 0 ? round((100 * spent) / budget, 1) : null;
  const share = spentPct === null ? '' : ` (${spentPct} %)`;
  const enforce = b.policy === 'enforce';
  return [
    {
      title: `Daily budget ${spent > budget ? 'exceeded' : 'reached'}: spent $${spent} of $${budget}${share} today`,
      category: 'cost',
      priority: 'critical',
      confidence: 1,
      description: enforce
        ? `BUDGET_POLICY=enforce: the LLM endpoints answer 429 BUDGET_EXCEEDED until the daily spend resets at ` +
          `${b.resetAt}. If this spend is expected, raise DAILY_BUDGET_USD; otherwise find the endpoints, models and ` +
          `API keys that drove it (llm.cost.usd by endpoint and model, GET /usage/spend by key, the cost ` +
          `recommendations here) and lower the traffic ` +
          `or the cost per call.`
        : `BUDGET_POLICY=alert: nothing stops the calls, so every further call today is spend over the budget until ` +
          `it resets at ${b.resetAt}. Find the endpoints, models and API keys driving it (llm.cost.usd by endpoint ` +
          `and model, GET /usage/spend by key, the cost recommendations here) and lower the traffic or the cost per call, set BUDGET_POLICY=enforce to ` +
          `refuse calls (429) once the budget is reached, or raise DAILY_BUDGET_USD if this spend is expected.`,
      evidence: {
        summary:
          `Spent today (UTC day, the usage ledger) $${spent} against DAILY_BUDGET_USD $${budget}${share}, ` +
          `$${round(over, 6)} over; $${b.reservedUsd} reserved by calls in flight; BUDGET_POLICY=${b.policy}; ` +
          `resets at ${b.resetAt}.`,
        window: null,
        baseline_window: null,
        requests: null,
        figures: {
          spent_today_usd: spent,
          daily_budget_usd: budget,
          spent_pct: spentPct,
          over_budget_usd: round(over, 6),
          reserved_usd: b.reservedUsd,
        },
      },
      expected_impact: enforce
        ? `Until the reset at ${b.resetAt} (or a DAILY_BUDGET_USD above $${spent}) every LLM call is refused with 429.`
        : `Spend today is already $${round(over, 6)} over the budget; lowering the traffic or the cost per call ` +
          `limits how much more is spent before the reset at ${b.resetAt}.`,
      model: null,
      endpoint: null,
    },
  ];
}

/**
 * A budget at risk that no other item explains: the budget outlook's risk is `high` (spend so far, or spend plus a
 * forecast with a validated confidence, at 90 % of DAILY_BUDGET_USD or more) with no breach predicted and the
 * budget not exceeded. `GET /forecast/cost` said `high` while insights said nothing until the projection reached
 * 100 %. Medium priority; its confidence is the forecast's (1 when it rests on the spend so far, a measured fact).
 */
export function budgetRiskRecommendations(facts: LiveFacts): InsightRecommendationDto[] {
  const b = facts.budget;
  if (!b || b.exceeded || b.risk !== 'high' || b.predictedBreach !== null || b.dailyBudgetUsd === null) return [];
  const budget = b.dailyBudgetUsd;
  const projected = b.forecastConfidence !== null && b.forecastConfidence > 0 ? b.projectedDayUsd : null;
  const basis = projected ?? b.spentTodayUsd + b.reservedUsd;
  const pctOf = budget > 0 ? round((100 * basis) / budget, 1) : null;
  return [
    {
      title:
        projected !== null
          ? `Daily budget at risk: today is projected at $${round(projected, 6)} of $${budget} (${pctOf} %)`
          : `Daily budget at risk: $${round(basis, 6)} of $${budget} (${pctOf} %) spent or reserved today`,
      category: 'cost',
      priority: 'medium',
      confidence: projected !== null ? round(b.forecastConfidence!) : 1,
      description:
        `Today's spend is close to DAILY_BUDGET_USD ($${budget}), which resets at ${b.resetAt}. Find the endpoints, ` +
        `models and API keys driving it (llm.cost.usd by endpoint and model, GET /usage/spend by key) and lower ` +
        `the traffic or the cost per call if the rest of the day matters more` +
        (b.policy === 'enforce'
          ? `; BUDGET_POLICY=enforce will refuse calls (429) once it is reached`
          : `; under BUDGET_POLICY=alert nothing stops the calls once it is reached`) +
        `; raise the budget if this spend is expected.`,
      evidence: {
        summary: `Budget risk high: ${b.riskBasis}.`,
        window: null,
        baseline_window: null,
        requests: null,
        figures: {
          spent_today_usd: b.spentTodayUsd,
          reserved_usd: b.reservedUsd,
          projected_day_usd: projected === null ? null : round(projected, 6),
          daily_budget_usd: budget,
          percent_of_budget: pctOf,
          forecast_confidence: b.forecastConfidence,
        },
      },
      expected_impact: `Keeping today's spend under $${budget} avoids the budget's breach before ${b.resetAt}.`,
      model: null,
      endpoint: null,
    },
  ];
}

/**
 * Spend at a pace the daily budget cannot hold: the short window's spend, kept up for a day, is at least
 * DAILY_BUDGET_USD (the health score's budget pace, which lowers its cost component from 0.8 and zeroes it at 1.5).
 * Says when the rest of today's budget runs out at that pace. The cost per call may be on target: this is volume.
 * Nothing when no budget is set, or when it is already exceeded (`budgetRecommendations` says more).
 */
export function budgetPaceRecommendations(facts: LiveFacts): InsightRecommendationDto[] {
  const b = facts.budget;
  const { signals, components } = facts.short.overall;
  const pace = signals.budgetPace;
  if (!b || b.exceeded || b.dailyBudgetUsd === null || b.dailyBudgetUsd <= 0 || pace === null || pace < 1) return [];
  const budget = b.dailyBudgetUsd;
  const windowMs = facts.short.to - facts.short.from;
  const windowSpend = (pace * budget * windowMs) / DAY_MS;
  const left = Math.max(0, budget - b.spentTodayUsd - b.reservedUsd);
  const resetAt = Date.parse(b.resetAt);
  const runsOutAt = facts.short.to + (left / windowSpend) * windowMs;
  const beforeReset = runsOutAt < resetAt;
  const hoursBefore = round((resetAt - runsOutAt) / 3_600_000, 1);
  const n = signals.requests;
  const shortW = reportWindow(facts.short);
  const runsOut = beforeReset
    ? `the $${round(left, 6)} left of today's budget runs out at ${new Date(runsOutAt).toISOString()}, ` +
      `${hoursBefore} h before it resets at ${b.resetAt}`
    : `the $${round(left, 6)} left of today's budget lasts until it resets at ${b.resetAt}, but a whole day at ` +
      `this pace would not`;
  return [
    {
      title:
        `Spend pace: the last ${spanOf(facts.short)} cost $${round(windowSpend, 6)}, ` +
        `${round(pace, 1)} × DAILY_BUDGET_USD ($${budget}) over a day`,
      category: 'cost',
      priority: priorityFromScore(components.cost),
      confidence: confidenceOf(n, (pace - 0.8) / 0.7),
      description:
        `At this pace ${runsOut}. Find the endpoints, models and API keys driving it (llm.cost.usd by endpoint and ` +
        `model, GET /usage/spend by key, the cost recommendations here) and lower the traffic or the cost per call` +
        (b.policy === 'enforce'
          ? `; BUDGET_POLICY=enforce refuses calls (429) once the budget is reached`
          : `, or set BUDGET_POLICY=enforce to refuse calls (429) once the budget is reached`) +
        `; raise DAILY_BUDGET_USD if this volume is expected.`,
      evidence: {
        summary:
          `${n} calls cost $${round(windowSpend, 6)} in the ${spanOf(facts.short)} window ${shortW.from} – ` +
          `${shortW.to}: $${round(pace * budget, 4)} over a day against DAILY_BUDGET_USD $${budget}. Spent today ` +
          `$${b.spentTodayUsd}, $${b.reservedUsd} reserved by calls in flight; BUDGET_POLICY=${b.policy}.`,
        window: shortW,
        baseline_window: null,
        requests: n,
        figures: {
          budget_pace: round(pace, 3),
          window_spend_usd: round(windowSpend, 6),
          daily_budget_usd: budget,
          spent_today_usd: b.spentTodayUsd,
          left_today_usd: round(left, 6),
          hours_until_runs_out: beforeReset ? round((runsOutAt - facts.short.to) / 3_600_000, 2) : null,
          cost_score: components.cost,
        },
      },
      expected_impact: beforeReset
        ? `Bringing the pace under 1 × the budget keeps today's spend within $${budget}, and lifts the cost score ` +
          `from ${components.cost}.`
        : `Bringing the pace under 1 × the budget lifts the cost score from ${components.cost}; today's budget holds ` +
          `until the reset either way.`,
      model: null,
      endpoint: null,
    },
  ];
}

/**
 * The live recommendations (docs/insights.md, "Insights report"). Only what the data supports. An exceeded daily
 * budget comes first; the rest are sorted (`sortRecommendations`).
 */
export function liveRecommendations(facts: LiveFacts): InsightRecommendationDto[] {
  const out: InsightRecommendationDto[] = [];
  const shortW = reportWindow(facts.short);
  const longW = reportWindow(facts.long);
  const longByModel = new Map(facts.long.models.map((m) => [m.model, m]));
  for (const m of facts.short.models) {
    const n = m.signals.requests;
    if (n < MIN_CALLS) continue;
    const long = longByModel.get(m.model);
    const s = m.signals;

    // Reliability: errors (timeouts and retries weigh in as in the health score).
    const e = s.errorRate ?? 0;
    const x = e + 0.5 * (s.timeoutRate ?? 0) + 0.1 * (s.retriesPerRequest ?? 0);
    if (e < ERROR_RATE_TRIGGER && x >= ERROR_RATE_TRIGGER) {
      out.push(retryRecommendation(m, long, facts, shortW, longW, x));
    }
    // Calls refused for capacity (503 NO_CAPACITY) reached no model: the capacity rule speaks for them, and the
    // provider is not said to be failing when they are what put the error rate over the trigger.
    const noCapacity = facts.refusals.find((r) => r.model === m.model)?.noCapacity ?? 0;
    if (e >= ERROR_RATE_TRIGGER && e - noCapacity / n >= ERROR_RATE_TRIGGER) {
      const before = long ? restRate(long, m, (a) => a.signals.errorRate) : null;
      const rose = before !== null && e > before + 0.01;
      const change = rose
        ? `rose from ${pct(before)} to ${pct(e)}`
        : `is ${pct(e)}${before !== null ? ` (${pct(before)} earlier in the ${spanOf(facts.long)} window)` : ''}`;
      out.push({
        title: `Model ${m.model}: error rate ${change} in the last ${spanOf(facts.short)}`,
        category: 'reliability',
        priority: priorityFromScore(m.components.reliability),
        confidence: confidenceOf(n, x / 0.1),
        description:
          `Calls to ${m.model} are failing (${Math.round(e * n)} of ${n}). Check the provider's status for it, ` +
          `add or move traffic to a fallback model (LLM_FALLBACK_MODELS), or reduce its share until it recovers.`,
        evidence: {
          summary:
            `${Math.round(e * n)} of ${n} calls to ${m.model} failed (${pct(e)}) in the ${spanOf(facts.short)} window ` +
            `${shortW.from} – ${shortW.to}` +
            (before !== null ? `; ${pct(before)} in the rest of the ${spanOf(facts.long)} window` : '') +
            `; timeouts ${pct(s.timeoutRate ?? 0)}, retries per call ${round(s.retriesPerRequest ?? 0, 3)}.`,
          window: shortW,
          baseline_window: before !== null ? longW : null,
          requests: n,
          figures: {
            error_rate: round(e, 4),
            baseline_error_rate: before === null ? null : round(before, 4),
            timeout_rate: round(s.timeoutRate ?? 0, 4),
            retries_per_request: round(s.retriesPerRequest ?? 0, 4),
            reliability_score: m.components.reliability,
          },
        },
        expected_impact:
          `Bringing ${m.model}'s error rate back to ${pct(before !== null && before < e ? before : 0)} would avoid ` +
          `about ${Math.round((e - (before !== null && before < e ? before : 0)) * n)} failed calls per ` +
          `${spanOf(facts.short)} at this volume and lift its reliability score from ${m.components.reliability}.`,
        model: m.model,
        endpoint: null,
      });
    }

    // Performance: p95 latency against the objective.
    const p95 = s.p95LatencyMs;
    if (p95 !== null && p95 >= facts.latencySloMs) {
      const ratio = p95 / facts.latencySloMs;
      const longP95 = long?.signals.p95LatencyMs ?? null;
      // At the last latency bucket the p95 is a floor: the slowest calls are above it (the curve is 0 from 2.5 × SLO).
      const atLeast = p95 >= facts.p95CeilingMs ? 'at least ' : '';
      // A fallback's latency is recorded under the model that answered it, the failed model's attempts and the retry
      // backoff included: the health score's per-model p95 leaves them out (before 2026-12-08 it did not, and a
      // healthy fallback behind a failing model was this item, critical), so this is the model's own slowness.
      const fellBack = facts.refusals.find((r) => r.model === m.model)?.fallbacks ?? 0;
      const slowness =
        fellBack > 0
          ? `Answers from ${m.model} are slow on the ${n - fellBack} calls it served from their start (the ` +
            `${fellBack} that fell back to it after another model failed are left out of this p95: their latency is ` +
            `mostly that model's failed attempts and the retry backoff; see the fallback recommendation): `
          : `Answers from ${m.model} are slow: `;
      out.push({
        title: `Model ${m.model}: p95 latency ${atLeast}${Math.round(p95)} ms in the last ${spanOf(facts.short)}, ${atLeast}${round(ratio, 1)} × the ${facts.latencySloMs} ms objective`,
        category: 'performance',
        priority: priorityFromScore(m.components.performance),
        confidence: confidenceOf(n, (ratio - 0.75) / 1.75),
        description:
          slowness +
          `check the provider's latency for it, move latency-sensitive traffic to ` +
          `a faster model, or cap output tokens (LLM_MAX_OUTPUT_TOKENS) for the slowest endpoints.`,
        evidence: {
          summary:
            `p95 latency of ${m.model} was ${atLeast}${Math.round(p95)} ms` +
            (atLeast ? ` (the health score's last latency bucket)` : '') +
            ` (mean ${Math.round(s.meanLatencyMs ?? 0)} ms) over ` +
            `${n - fellBack} calls${fellBack > 0 ? ` (not the ${fellBack} fallbacks)` : ''} in the ` +
            `${spanOf(facts.short)} window ${shortW.from} – ${shortW.to}` +
            (longP95 !== null ? `; ${Math.round(longP95)} ms over the ${spanOf(facts.long)} window` : '') +
            `; objective (HEALTH_LATENCY_SLO_MS) ${facts.latencySloMs} ms.`,
          window: shortW,
          baseline_window: longP95 !== null ? longW : null,
          requests: n,
          figures: {
            p95_latency_ms: Math.round(p95),
            mean_latency_ms: s.meanLatencyMs === null ? null : Math.round(s.meanLatencyMs),
            p95_latency_ms_long_window: longP95 === null ? null : Math.round(longP95),
            latency_slo_ms: facts.latencySloMs,
            performance_score: m.components.performance,
            fallback_calls: fellBack,
          },
        },
        expected_impact:
          `Bringing ${m.model}'s p95 under ${facts.latencySloMs} ms would cut the slowest 5% of its answers by at ` +
          `least ${Math.round(p95 - facts.latencySloMs)} ms and lift its performance score from ${m.components.performance}.`,
        model: m.model,
        endpoint: null,
      });
    }

    // Cost: spend per call against the target.
    const cpr = s.costPerRequestUsd;
    if (cpr !== null && cpr >= facts.costPerRequestUsd) {
      const ratio = cpr / facts.costPerRequestUsd;
      out.push({
        title: `Model ${m.model}: $${round(cpr, 5)} per call in the last ${spanOf(facts.short)}, ${round(ratio, 1)} × the $${facts.costPerRequestUsd} target`,
        category: 'cost',
        priority: priorityFromScore(m.components.cost),
        confidence: confidenceOf(n, (ratio - 0.5) / 2.5),
        description:
          `Calls to ${m.model} cost more than HEALTH_COST_PER_REQUEST_USD. Shorten prompts, cap output tokens, or ` +
          `send the endpoints that do not need it to a cheaper model.`,
        evidence: {
          summary:
            `${n} calls to ${m.model} cost $${round(cpr * n, 5)} ($${round(cpr, 5)} each) in the ` +
            `${spanOf(facts.short)} window ${shortW.from} – ${shortW.to}; target $${facts.costPerRequestUsd} per call.`,
          window: shortW,
          baseline_window: null,
          requests: n,
          figures: {
            cost_per_request_usd: round(cpr, 6),
            target_cost_per_request_usd: facts.costPerRequestUsd,
            cost_score: m.components.cost,
          },
        },
        expected_impact: `Meeting the target would save about $${round((cpr - facts.costPerRequestUsd) * n, 5)} per ${spanOf(facts.short)} at this volume.`,
        model: m.model,
        endpoint: null,
      });
    }

    // Quality: the quality component of the model's answers.
    const q = m.components.quality;
    if (q !== null && q < 60) {
      out.push({
        title: `Model ${m.model}: answer quality score ${q} in the last ${spanOf(facts.short)}`,
        category: 'quality',
        priority: priorityFromScore(q),
        confidence: confidenceOf(n, (60 - q) / 60),
        description:
          `Answers from ${m.model} score low (mean quality, ungrounded or failure-to-answer rate). Check its ` +
          `prompts and grounding documents, or route quality-sensitive endpoints to a stronger model.`,
        evidence: {
          summary:
            `Over ${n} calls to ${m.model} in the ${spanOf(facts.short)} window ${shortW.from} – ${shortW.to}: mean ` +
            `quality ${s.meanQuality === null ? 'not scored' : round(s.meanQuality, 3)}, ungrounded ` +
            `${pct(s.ungroundedRate ?? 0)}, failure to answer ${pct(s.failureToAnswerRate ?? 0)} of answers.`,
          window: shortW,
          baseline_window: null,
          requests: n,
          figures: {
            mean_quality: s.meanQuality === null ? null : round(s.meanQuality, 4),
            ungrounded_rate: s.ungroundedRate === null ? null : round(s.ungroundedRate, 4),
            failure_to_answer_rate: s.failureToAnswerRate === null ? null : round(s.failureToAnswerRate, 4),
            quality_score: q,
          },
        },
        expected_impact: `Bringing ${m.model}'s quality score from ${q} to 80 (healthy) would lift the overall score.`,
        model: m.model,
        endpoint: null,
      });
    }
  }

  out.push(...circuitRecommendations(facts));
  out.push(...capacityRecommendations(facts));
  out.push(...fallbackRecommendations(facts));
  out.push(...costSpikeRecommendations(facts, facts.costPerRequestUsd));
  out.push(...securityRecommendations(facts, shortW, longW));
  out.push(...promptRecommendations(facts));
  out.push(...cachingRecommendations(facts));
  // Moving traffic to a model this same report says is failing or slow, from one it does not, would contradict it
  // (and the dearer model's calls may be the very fallbacks of the failing one's): with a 45 % failing cheap model
  // whose calls fell back to a dearer one, the report said both "retries ... move traffic to a fallback" and "cheap
  // answered as well as dear, move dear's traffic to cheap". Such a cheaper model is not recommended until it recovers.
  const flagged = (model: string, category: string): boolean =>
    out.some((r) => r.model === model && r.category === category);
  const worseThan = (cheaper: string, dearer: string): boolean =>
    (['reliability', 'performance'] as const).some((c) => flagged(cheaper, c) && !flagged(dearer, c));
  out.push(...cheaperModelRecommendations(facts, worseThan));
  out.push(...budgetPaceRecommendations(facts));
  out.push(...budgetRiskRecommendations(facts));
  return [...budgetRecommendations(facts), ...sortRecommendations(out)];
}

/**
 * A model whose calls succeed only after retries: the error rate is under ERROR_RATE_TRIGGER, but the reliability
 * input the health score weighs (e + 0.5 timeouts + 0.1 retries per call) is at or above it, so the reliability
 * component is at 50 or below. A provider failing 30 % of attempts, with 2 retries: about 3 % of calls fail and
 * about 0.4 retries per call are needed (measured: 1 of 80 failed, 0.45 retries per call, reliability 38.83).
 * Before, such a model lowered the score to degraded or critical and no recommendation said why.
 */
function retryRecommendation(
  m: HealthAssessment & { model: string },
  long: (HealthAssessment & { model: string }) | undefined,
  facts: LiveFacts,
  shortW: InsightsWindowDto,
  longW: InsightsWindowDto,
  x: number,
): InsightRecommendationDto {
  const s = m.signals;
  const n = s.requests;
  const e = s.errorRate ?? 0;
  const r = s.retriesPerRequest ?? 0;
  const retries = Math.round(r * n);
  const failed = Math.round(e * n);
  const before = long ? restRate(long, m, (a) => a.signals.retriesPerRequest, Infinity) : null;
  const perCall = (v: number): string => `${round(v, 2)} retries per call`;
  const change =
    before !== null && r > before + 0.01
      ? `retries per call rose from ${round(before, 2)} to ${round(r, 2)}`
      : `${perCall(r)}${before !== null ? ` (${round(before, 2)} earlier in the ${spanOf(facts.long)} window)` : ''}`;
  const target = before !== null && before < r ? before : 0;
  return {
    title: `Model ${m.model}: ${change} in the last ${spanOf(facts.short)}, ${pct(e)} of calls failed`,
    category: 'reliability',
    priority: priorityFromScore(m.components.reliability),
    confidence: confidenceOf(n, x / 0.1),
    description:
      `Calls to ${m.model} mostly succeed, but only after retries (${retries} retries over ${n} calls): its ` +
      `attempts are failing, and each retry adds latency and load. Check the provider's status for it, add or move ` +
      `traffic to a fallback model (LLM_FALLBACK_MODELS), or reduce its share until it recovers.`,
    evidence: {
      summary:
        `${retries} retries over ${n} calls to ${m.model} (${round(r, 3)} per call) in the ${spanOf(facts.short)} ` +
        `window ${shortW.from} – ${shortW.to}` +
        (before !== null ? `; ${round(before, 3)} per call in the rest of the ${spanOf(facts.long)} window` : '') +
        `; ${failed} of ${n} calls failed after every retry (${pct(e)}), timeouts ${pct(s.timeoutRate ?? 0)}.`,
      window: shortW,
      baseline_window: before !== null ? longW : null,
      requests: n,
      figures: {
        error_rate: round(e, 4),
        timeout_rate: round(s.timeoutRate ?? 0, 4),
        retries_per_request: round(r, 4),
        baseline_retries_per_request: before === null ? null : round(before, 4),
        reliability_score: m.components.reliability,
      },
    },
    expected_impact:
      `Bringing ${m.model}'s retries back to ${perCall(target)} would save about ${Math.round((r - target) * n)} ` +
      `attempts per ${spanOf(facts.short)} at this volume and lift its reliability score from ` +
      `${m.components.reliability}.`,
    model: m.model,
    endpoint: null,
  };
}

const SECURITY_SIGNALS = [
  { key: 'promptInjectionRate', name: 'prompt injection', figure: 'prompt_injection_rate' },
  { key: 'piiRate', name: 'personal data (PII) in prompts', figure: 'pii_rate' },
  { key: 'tokenAbuseRate', name: 'token abuse', figure: 'token_abuse_rate' },
  { key: 'safetyBlockRate', name: 'safety blocks', figure: 'safety_block_rate' },
] as const;

/** What to do about one security signal: the setting that acts on it (docs/configuration.md), as it is set. */
function securityAdvice(key: (typeof SECURITY_SIGNALS)[number]['key'], safety: LiveFacts['safety']): string {
  switch (key) {
    case 'promptInjectionRate':
      return safety.injectionPolicy === 'block'
        ? 'PROMPT_INJECTION_POLICY is already block here (such prompts answered 422), so these were answered ' +
            'before it was set or by an instance with flag on a shared ledger; check those callers, or per-caller ' +
            'limits (RATE_LIMIT_PER_MINUTE).'
        : 'consider PROMPT_INJECTION_POLICY=block (answers such prompts 422 PROMPT_INJECTION instead of sending ' +
            'them to the model), or per-caller limits (RATE_LIMIT_PER_MINUTE).';
    case 'piiRate':
      return safety.redactPrompts
        ? 'PII_REDACT_PROMPTS is already true, so the PII is replaced before the prompt reaches the provider; ' +
            'ask those callers not to send personal data.'
        : 'consider PII_REDACT_PROMPTS=true (replaces the PII before the prompt reaches the provider; it is ' +
            'always redacted from logs, spans and LLM Observability), or ask those callers not to send personal data.';
    case 'tokenAbuseRate':
      return (
        'consider per-caller limits (RATE_LIMIT_PER_MINUTE), or shorter prompts (flagged above ' +
        'TOKEN_ABUSE_MAX_INPUT_TOKENS input tokens).'
      );
    case 'safetyBlockRate':
      return (
        "the provider's safety filter refused these; check what those callers send, or per-caller limits " +
        '(RATE_LIMIT_PER_MINUTE).'
      );
  }
}

function securityRecommendations(
  facts: LiveFacts,
  shortW: InsightsWindowDto,
  longW: InsightsWindowDto,
): InsightRecommendationDto[] {
  const out: InsightRecommendationDto[] = [];
  const short = facts.short.overall;
  const n = short.signals.requests;
  for (const sig of SECURITY_SIGNALS) {
    const rate = short.signals[sig.key];
    if (rate === null || rate < SECURITY_RATE_TRIGGER || rate * n < SECURITY_MIN_FLAGGED - 1e-9) continue;
    const before = restRate(facts.long.overall, short, (a) => a.signals[sig.key]);
    const flagged = Math.round(rate * n);
    out.push({
      title:
        `Security: ${sig.name} in ${pct(rate)} of calls in the last ${spanOf(facts.short)}` +
        (before !== null ? ` (${pct(before)} earlier in the ${spanOf(facts.long)} window)` : ''),
      category: 'security',
      priority: rate >= 0.1 ? 'high' : rate >= 0.05 ? 'medium' : 'low',
      confidence: confidenceOf(n, rate / 0.2),
      description:
        `Find the callers sending these prompts (the ledger's records and the llm.security.* metrics); ` +
        securityAdvice(sig.key, facts.safety),
      evidence: {
        summary:
          `${flagged} of ${n} calls flagged for ${sig.name} in the ${spanOf(facts.short)} window ${shortW.from} – ` +
          `${shortW.to}` +
          (before !== null ? `; ${pct(before)} in the rest of the ${spanOf(facts.long)} window.` : '.'),
        window: shortW,
        baseline_window: before !== null ? longW : null,
        requests: n,
        figures: {
          [sig.figure]: round(rate, 4),
          [`baseline_${sig.figure}`]: before === null ? null : round(before, 4),
          flagged_calls: flagged,
          security_score: short.components.security,
        },
      },
      expected_impact: `Stopping these would remove ${flagged} flagged calls per ${spanOf(facts.short)} and lift the security score from ${short.components.security}.`,
      model: null,
      endpoint: null,
    });
  }
  return out;
}

function promptRecommendations(facts: LiveFacts): InsightRecommendationDto[] {
  const out: InsightRecommendationDto[] = [];
  for (const p of facts.prompts) {
    if (p.requests < MIN_CALLS) continue;
    const avg = p.inputTokens / p.requests;
    const excess = (avg - LONG_PROMPT_TOKENS) / LONG_PROMPT_TOKENS;
    if (excess < 0.1) continue;
    const cut = 1 - LONG_PROMPT_TOKENS / avg;
    out.push({
      title: `Endpoint ${p.endpoint}: prompts average ${Math.round(avg)} tokens over the last ${facts.promptsWindow.name}`,
      category: 'cost',
      priority: excess >= 2 ? 'high' : excess >= 0.5 ? 'medium' : 'low',
      confidence: confidenceOf(p.requests, excess),
      description:
        `Prompts on ${p.endpoint} are long. Trim the context sent (retrieve fewer or shorter passages, drop ` +
        `repeated instructions) or summarise documents before asking.`,
      evidence: {
        summary:
          `${p.requests} calls on ${p.endpoint} sent ${p.inputTokens} input tokens (${Math.round(avg)} per call) ` +
          `from ${facts.promptsWindow.from} to ${facts.promptsWindow.to} (hourly rollups); long above ${LONG_PROMPT_TOKENS}.`,
        window: facts.promptsWindow,
        baseline_window: null,
        requests: p.requests,
        figures: {
          avg_input_tokens: Math.round(avg),
          input_tokens: p.inputTokens,
          long_prompt_tokens: LONG_PROMPT_TOKENS,
        },
      },
      expected_impact: `Prompts of ${LONG_PROMPT_TOKENS} tokens would send ${pct(cut)} fewer input tokens on ${p.endpoint}.`,
      model: null,
      endpoint: p.endpoint,
    });
  }
  return out;
}

/** The live predictive insights: budget breach (forecast), quality degradation (drift), latency trend. */
export function livePredictions(facts: LiveFacts): PredictiveInsightDto[] {
  const out: PredictiveInsightDto[] = [];
  const breach = facts.budget?.predictedBreach ?? null;
  if (facts.budget && breach) {
    const overshoot = breach.projectedDayUsd / breach.dailyBudgetUsd - 1;
    out.push({
      type: 'budget_breach',
      title: `Daily budget of $${breach.dailyBudgetUsd} projected to be reached by ${breach.breachAt}`,
      description:
        `Spend so far plus the ${breach.servedBy} forecast for the rest of the UTC day comes to ` +
        `$${breach.projectedDayUsd}. Lower the traffic or the cost per call, or raise DAILY_BUDGET_USD.`,
      // The forecast's validated confidence (as GET /forecast/cost gives it) × how far the day overshoots.
      confidence: round(breach.forecastConfidence * (1 - Math.exp(-Math.max(0, overshoot) / 0.1))),
      evidence: {
        summary:
          `Spent today $${facts.budget.spentTodayUsd}; forecast 24 h $${facts.budget.forecast24hUsd ?? 'n/a'} ` +
          `(${breach.servedBy}, confidence ${breach.forecastConfidence}); projected day $${breach.projectedDayUsd} ` +
          `against $${breach.dailyBudgetUsd}.`,
        window: null,
        baseline_window: null,
        requests: null,
        figures: {
          spent_today_usd: facts.budget.spentTodayUsd,
          forecast_24h_usd: facts.budget.forecast24hUsd,
          projected_day_usd: breach.projectedDayUsd,
          daily_budget_usd: breach.dailyBudgetUsd,
          forecast_confidence: breach.forecastConfidence,
        },
      },
      model: null,
      endpoint: null,
    });
  }

  for (const d of facts.drift) {
    const worst = Math.min(d.currentQuality, d.projected24h);
    const decline = d.currentQuality - d.projected24h;
    if (d.samples < 10 || !(d.trend === 'degrading' || d.risk === 'high' || d.risk === 'critical')) continue;
    out.push({
      type: 'quality_degradation',
      title: `Quality of ${d.model} on ${d.endpoint} projected at ${round(d.projected24h, 3)} in 24 h (now ${round(d.currentQuality, 3)}, risk ${d.risk})`,
      description:
        `The drift monitor's trend over the last answers is ${d.trend} (${round(d.slopePerHour, 4)} per hour). ` +
        `Check recent prompt, document or model changes on this endpoint.`,
      confidence: confidenceOf(d.samples, Math.max(decline / 0.25, (0.5 - worst) / 0.5)),
      evidence: {
        summary: `${d.samples} scored answers (rolling 24 h): current quality ${round(d.currentQuality, 3)}, slope ${round(d.slopePerHour, 4)}/h, projected ${round(d.projected24h, 3)}.`,
        window: null,
        baseline_window: null,
        requests: d.samples,
        figures: {
          current_quality: round(d.currentQuality, 4),
          slope_per_hour: round(d.slopePerHour, 5),
          projected_quality_24h: round(d.projected24h, 4),
        },
      },
      model: d.model,
      endpoint: d.endpoint,
    });
  }

  const longByModel = new Map(facts.long.models.map((m) => [m.model, m]));
  for (const m of facts.short.models) {
    const long = longByModel.get(m.model);
    const p95s = m.signals.p95LatencyMs;
    const p95l = long?.signals.p95LatencyMs ?? null;
    if (!long || m.signals.requests < MIN_CALLS || p95s === null || p95l === null || p95l <= 0) continue;
    if (long.signals.requests - m.signals.requests < MIN_BASELINE_CALLS) continue;
    const ratio = p95s / p95l;
    if (ratio < LATENCY_RISE_RATIO) continue;
    out.push({
      type: 'latency_trend',
      title: `Model ${m.model}: p95 latency rising, ${Math.round(p95s)} ms in the last ${spanOf(facts.short)} vs ${Math.round(p95l)} ms over ${spanOf(facts.long)}`,
      // Only a p95 at or above the objective has a performance recommendation (and a performance score below 100
      // from 0.75 × it); before, a rise from 100 to 150 ms against a 2000 ms objective pointed to one that was not there.
      description:
        p95s >= facts.latencySloMs
          ? `If the rise continues the performance score falls further; see the model's performance recommendation.`
          : `Still under the ${facts.latencySloMs} ms objective (HEALTH_LATENCY_SLO_MS; performance score ` +
            `${m.components.performance}); that score starts falling at ${Math.round(0.75 * facts.latencySloMs)} ms ` +
            `(0.75 × the objective) if the rise continues.`,
      confidence: confidenceOf(m.signals.requests, ratio - 1),
      evidence: {
        summary: `p95 ${Math.round(p95s)} ms over ${m.signals.requests} calls (${spanOf(facts.short)}) against ${Math.round(p95l)} ms over ${long.signals.requests} calls (${spanOf(facts.long)}), ${round(ratio, 2)} ×.`,
        window: reportWindow(facts.short),
        baseline_window: reportWindow(facts.long),
        requests: m.signals.requests,
        figures: {
          p95_latency_ms: Math.round(p95s),
          p95_latency_ms_long_window: Math.round(p95l),
          ratio: round(ratio, 3),
        },
      },
      model: m.model,
      endpoint: null,
    });
  }
  return out;
}

/** What the origin's body says, as evidence (no window, no count). */
const requestEvidence = (summary: string, figures: Record<string, number | null>): InsightEvidenceDto => ({
  summary,
  window: null,
  baseline_window: null,
  requests: null,
  figures,
});

export interface PostedAggregates {
  avg_latency_ms?: number;
  avg_cost_per_request?: number;
  avg_input_tokens?: number;
  error_rate?: number;
  retry_rate?: number;
  timeout_rate?: number;
  avg_quality_score?: number;
  ungrounded_rate?: number;
  safety_block_rate?: number;
  injection_risk_rate?: number;
  token_abuse_rate?: number;
  latency_trend?: string;
  cost_trend?: string;
  error_trend?: string;
}

/**
 * Recommendations from the caller's aggregates: one per component below 80 (not healthy), naming the posted figures.
 * They carry no count, so the volume factor is 0.5 (unknown); confidence = 0.5 × (80 − component) / 80.
 */
export function requestRecommendations(
  body: PostedAggregates,
  components: HealthAssessment['components'],
  latencySloMs: number,
): InsightRecommendationDto[] {
  const out: InsightRecommendationDto[] = [];
  const add = (
    category: InsightRecommendationDto['category'],
    score: number | null,
    title: string,
    description: string,
    figures: Record<string, number | null>,
  ): void => {
    if (score === null || score >= 80) return;
    const shown = Object.entries(figures)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    out.push({
      title,
      category,
      priority: priorityFromScore(score),
      confidence: round(0.5 * clamp01((80 - score) / 80)),
      description,
      evidence: requestEvidence(`Posted aggregates: ${shown}; ${category} score ${score}.`, {
        ...figures,
        [`${category}_score`]: score,
      }),
      expected_impact: `Bringing the ${category} score from ${score} to 80 (healthy) would lift the overall score.`,
      model: null,
      endpoint: null,
    });
  };
  const f = (v: number | undefined): number | null => (v === undefined ? null : v);
  add(
    'performance',
    components.performance,
    `Latency ${body.avg_latency_ms ?? 0} ms is above the ${latencySloMs} ms objective`,
    'Move latency-sensitive traffic to a faster model or cap output tokens.',
    { avg_latency_ms: f(body.avg_latency_ms), latency_slo_ms: latencySloMs },
  );
  add(
    'reliability',
    components.reliability,
    `Error rate ${pct(body.error_rate ?? 0)} (timeouts ${pct(body.timeout_rate ?? 0)}, retries ${pct(body.retry_rate ?? 0)})`,
    "Check the provider's status, add a fallback model, or reduce the failing model's share.",
    { error_rate: f(body.error_rate), timeout_rate: f(body.timeout_rate), retry_rate: f(body.retry_rate) },
  );
  add(
    'cost',
    components.cost,
    `Cost per call $${body.avg_cost_per_request ?? 0} is above target`,
    'Shorten prompts, cap output tokens, or send endpoints that do not need it to a cheaper model.',
    { avg_cost_per_request: f(body.avg_cost_per_request), avg_input_tokens: f(body.avg_input_tokens) },
  );
  add(
    'quality',
    components.quality,
    `Answer quality ${body.avg_quality_score ?? 'n/a'} (ungrounded ${pct(body.ungrounded_rate ?? 0)})`,
    'Check prompts and grounding documents, or route quality-sensitive endpoints to a stronger model.',
    { avg_quality_score: f(body.avg_quality_score), ungrounded_rate: f(body.ungrounded_rate) },
  );
  add(
    'security',
    components.security,
    `Flagged traffic: safety blocks ${pct(body.safety_block_rate ?? 0)}, injections ${pct(body.injection_risk_rate ?? 0)}, token abuse ${pct(body.token_abuse_rate ?? 0)}`,
    'Find the callers sending these prompts; consider PROMPT_INJECTION_POLICY=block or per-caller limits.',
    {
      safety_block_rate: f(body.safety_block_rate),
      injection_risk_rate: f(body.injection_risk_rate),
      token_abuse_rate: f(body.token_abuse_rate),
    },
  );
  return sortRecommendations(out);
}

const WORSENING = /increas|ris|up|degrad|wors|grow|spik/i;

/**
 * A trend the caller reports as worsening (free text: increasing, rising, up, degrading, worse, growing, spiking)
 * becomes a `reported_trend` insight; confidence = 0.5 × (1 − the related component / 100).
 */
export function requestPredictions(
  body: PostedAggregates,
  components: HealthAssessment['components'],
): PredictiveInsightDto[] {
  const trends = [
    { field: 'latency_trend', value: body.latency_trend, component: components.performance },
    { field: 'cost_trend', value: body.cost_trend, component: components.cost },
    { field: 'error_trend', value: body.error_trend, component: components.reliability },
  ] as const;
  return trends
    .filter((t) => t.value !== undefined && WORSENING.test(t.value))
    .map((t) => ({
      type: 'reported_trend' as const,
      title: `${t.field.replace('_trend', '')} reported as "${t.value}"`,
      description: 'A trend the caller reported; the service did not measure it.',
      confidence: round(0.5 * clamp01(1 - (t.component ?? 100) / 100)),
      evidence: requestEvidence(`Posted ${t.field}: "${t.value}".`, { component_score: t.component }),
      model: null,
      endpoint: null,
    }));
}
