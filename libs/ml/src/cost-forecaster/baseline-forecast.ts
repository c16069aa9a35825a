import { HOUR_MS } from '@app/common';
import { BASELINES, baselineForecast, baselineUsable, MAX_HORIZON, MIN_HISTORY } from './forecast-features';
import { backtestReport, confidenceOf, mapeWords, naiveScale, rankOf } from './forecast-accuracy';
import type { BaselineName, CostForecast, HourlySeries, MethodReport } from './forecast.types';
import { forecastAfterLevelShift } from './level-shift';

/** EWMA smoothing factor when no trained card chose one. */
export const DEFAULT_EWMA_ALPHA = 0.3;
/**
 * Fewest backtested target hours with spend a baseline's error (its confidence and interval) is computed from;
 * below it the baseline serves with confidence 0 and no interval.
 */
export const MIN_BACKTEST_HOURS = 12;

/** The last hour a baseline needs before its first forecast origin: t−168 reads 168 h back, t−24 24 h. */
function firstOrigin(method: BaselineName): number {
  return method === 'seasonal_naive_168' ? 167 : method === 'seasonal_naive_24' ? 23 : 0;
}

/**
 * Backtests a baseline on the history itself, with the card's protocol (every hourly origin, horizons 1..24)
 * restricted to targets inside the history. Null when fewer than MIN_BACKTEST_HOURS target hours have spend.
 */
export function backtestBaseline(method: BaselineName, cost: readonly number[], alpha: number): MethodReport | null {
  const n = cost.length;
  const from = firstOrigin(method);
  let targetsWithSpend = 0;
  for (let t = from + 1; t < n; t++) if (cost[t]! > 0) targetsWithSpend += 1;
  if (targetsWithSpend < MIN_BACKTEST_HOURS) return null;
  const actual: number[] = [];
  const predicted: number[] = [];
  const origins: number[] = [];
  for (let o = from; o < n - 1; o++) {
    for (let h = 1; h <= MAX_HORIZON && o + h < n; h++) {
      actual.push(cost[o + h]!);
      predicted.push(baselineForecast(method, cost, o, h, alpha));
      origins.push(o);
    }
  }
  return backtestReport(method, actual, predicted, origins, n - 1, naiveScale(cost, 24));
}

/**
 * Forecast from the history alone, when the model cannot serve (history shorter than it needs, or no trained
 * card): the baseline with the lowest error in a backtest on that history, its confidence and interval from
 * that backtest. When no usable baseline can be backtested, the longest-season usable one serves with
 * confidence 0 and no interval; with no history at all nothing serves (`none`). `why` says why the model is
 * not serving (with history). After a level shift in the last day, from the new level (`forecastAfterLevelShift`).
 */
export function baselineFromHistory(series: HourlySeries, hours: number, alpha: number, why: string): CostForecast {
  return forecastAfterLevelShift(series, (s) => baselineOn(s, hours, alpha, why));
}

/** `baselineFromHistory` on the series as it is (no level shift looked for: the caller did). */
export function baselineOn(series: HourlySeries, hours: number, alpha: number, why: string): CostForecast {
  const n = series.cost.length;
  const horizon = Math.max(1, Math.min(MAX_HORIZON, Math.floor(hours)));
  if (n === 0) {
    return {
      method: 'none',
      hours: [],
      validation: null,
      validationBasis: null,
      confidence: 0,
      reason:
        'no complete hour of usage history, so no forecast: EWMA needs 1 hour of history, seasonal naive t−24 ' +
        `24 hours, the model ${MIN_HISTORY}`,
    };
  }
  const usable = BASELINES.filter((b) => baselineUsable(b, n));
  const tested = usable
    .map((method) => ({ method, report: backtestBaseline(method, series.cost, alpha) }))
    .filter((t): t is { method: BaselineName; report: MethodReport } => t.report !== null)
    .sort((a, b) => rankOf(a.report) - rankOf(b.report));
  const best = tested[0];
  const method: BaselineName = best?.method ?? (usable.includes('seasonal_naive_24') ? 'seasonal_naive_24' : 'ewma');
  const report = best?.report ?? null;
  const points = Array.from({ length: horizon }, (_, i) => baselineForecast(method, series.cost, n - 1, i + 1, alpha));
  const others = [
    ...tested.slice(1).map((t) => `${t.method} ${mapeWords(t.report)}`),
    ...usable.filter((b) => !tested.some((t) => t.method === b)).map((b) => `${b} too short to backtest`),
  ];
  const reason = report
    ? `${why}; serving ${method}, the lowest error in a backtest on the ${n} hours of history ` +
      `(MAPE ${mapeWords(report, true)} over ${report.metrics.n} forecasts${others.length ? `; ${others.join(', ')}` : ''})`
    : `${why}; serving ${method} without a confidence or interval: ${n} hours of history are too few to backtest ` +
      `it (${MIN_BACKTEST_HOURS} hours with spend after its first forecast are needed)`;
  return {
    method,
    hours: points.map((p, i) => ({
      hour: series.start + (n + i) * HOUR_MS,
      costUsd: p,
      lowerUsd: report ? Math.max(0, p * (1 + report.interval.lower)) : null,
      upperUsd: report ? p * (1 + report.interval.upper) : null,
    })),
    validation: report,
    validationBasis: report ? 'backtest' : null,
    confidence: report ? confidenceOf(report.metrics) : 0,
    reason,
  };
}
