import { DAY_MS, HOUR_MS, utcDayStart } from '@app/common';
import { budgetRisk, type BudgetRisk, type BudgetStatus } from '@app/ledger';
import type { SpendForecast } from './spend-forecast.port';

/** A predicted breach of today's budget: the signal insights reads. */
export interface BudgetBreachPrediction {
  /** Spend so far plus the forecast for the rest of the UTC day. */
  projectedDayUsd: number;
  dailyBudgetUsd: number;
  /** The end of the forecast hour in which the cumulative spend crosses the budget (ISO 8601). */
  breachAt: string;
  servedBy: string;
  /** The served forecast's confidence (1 − its validation MAPE); always > 0 (else no breach is predicted). */
  forecastConfidence: number;
}

/**
 * Today's budget risk and what it rests on: the one judgement `GET /forecast/cost` (with the forecast it serves)
 * and the budget outlook read by `POST /insights` (with the forecast it last read) both give.
 */
export interface BudgetJudgement {
  risk: BudgetRisk;
  /** What the risk rests on, in words (spend so far, or spend so far plus a forecast and its confidence). */
  riskBasis: string;
  /**
   * Spend so far plus the forecast for the rest of the UTC day (the current hour pro rata); null without a budget
   * or a forecast. Given also when the forecast has no confidence, though it then does not count.
   */
  projectedDayUsd: number | null;
  /** Whether the projection counts toward the risk: a forecast with a validated confidence (> 0). */
  projectionCounted: boolean;
  /** Null when the projection does not reach the budget, does not count, or the budget is already exceeded. */
  predictedBreach: BudgetBreachPrediction | null;
}

const round = (value: number, digits = 6): number => Math.round(value * 10 ** digits) / 10 ** digits;
/** USD to 6 significant digits (a tiny budget's figures keep their digits), as the forecast shows them. */
const sig6 = (value: number): number => Number(value.toPrecision(6));
const usd = (value: number): string => `$${sig6(value)}`;

/**
 * Judges today's budget from what is known: today's spend (and reservations) and, when the served forecast has
 * a validated confidence, spend so far plus that forecast for the rest of the UTC day. A forecast with confidence
 * 0 (too little history to backtest, or stale input) does not move the risk, which then rests on the spend so far
 * and says so; an exceeded budget is a fact and is `exceeded` whatever the forecast.
 */
export function judgeBudget(status: BudgetStatus, forecast: SpendForecast | null, now: number): BudgetJudgement {
  const budget = status.dailyBudgetUsd;
  if (budget === null) {
    return {
      risk: 'none',
      riskBasis: 'no daily budget (DAILY_BUDGET_USD unset)',
      projectedDayUsd: null,
      projectionCounted: false,
      predictedBreach: null,
    };
  }
  const pct = (usdAmount: number): string => (budget > 0 ? `${round((100 * usdAmount) / budget, 1)} %` : 'n/a');
  const spent = status.spentTodayUsd;
  const spendSoFar =
    `spend so far ${usd(spent)}` +
    (status.reservedUsd > 0 ? ` (+ ${usd(status.reservedUsd)} reserved by calls in flight)` : '') +
    ` of the ${usd(budget)} daily budget: ${pct(spent + status.reservedUsd)}`;

  // Spend so far plus the forecast for what is left of the UTC day: the current hour only for its remaining part.
  let projected: number | null = null;
  let breachAt: number | null = null;
  if (forecast) {
    const dayEnd = utcDayStart(now) + DAY_MS;
    projected = spent;
    forecast.hourly.forEach((cost, i) => {
      const hour = forecast.startHour + i * HOUR_MS;
      const left = Math.min(1, Math.max(0, (hour + HOUR_MS - now) / HOUR_MS));
      if (left === 0 || hour >= dayEnd) return;
      projected! += cost * left;
      if (breachAt === null && projected! >= budget) breachAt = hour + HOUR_MS;
    });
    projected = sig6(projected);
  }
  const counted = forecast !== null && forecast.confidence > 0;

  if (status.exceeded) {
    return {
      risk: 'exceeded',
      riskBasis: `the budget is exceeded: ${spendSoFar} (a fact, no forecast needed)`,
      projectedDayUsd: projected,
      projectionCounted: counted,
      predictedBreach: null,
    };
  }
  if (!forecast || projected === null) {
    return {
      risk: status.risk,
      riskBasis: `${spendSoFar}; no forecast serves yet, so the risk rests on the spend so far`,
      projectedDayUsd: null,
      projectionCounted: false,
      predictedBreach: null,
    };
  }
  const projection = `spend so far plus the ${forecast.servedBy} forecast for the rest of the UTC day: ${usd(projected)}, ${pct(projected)}`;
  if (!counted) {
    return {
      risk: status.risk,
      riskBasis:
        `${spendSoFar}; the risk rests on that alone: the ${forecast.servedBy} forecast has no validated ` +
        `confidence (0), so its projection (${projection}) is not counted`,
      projectedDayUsd: projected,
      projectionCounted: false,
      predictedBreach: null,
    };
  }
  const confidence = round(forecast.confidence, 4);
  return {
    risk: budgetRisk(Math.max(status.utilizationPct ?? 0, (100 * projected) / budget)),
    riskBasis: `${projection} (forecast confidence ${confidence}); ${spendSoFar}`,
    projectedDayUsd: projected,
    projectionCounted: true,
    predictedBreach:
      breachAt === null
        ? null
        : {
            projectedDayUsd: projected,
            dailyBudgetUsd: budget,
            breachAt: new Date(breachAt).toISOString(),
            servedBy: forecast.servedBy,
            forecastConfidence: confidence,
          },
  };
}
