import type { ErrorMetrics, IntervalSpec, MethodReport } from './forecast.types';

/** MAPE/sMAPE/MASE of predictions against actuals. `scale`: in-sample MAE of the 24 h seasonal-naive forecast. */
export function errorMetrics(actual: readonly number[], predicted: readonly number[], scale: number): ErrorMetrics {
  const mean = actual.reduce((a, b) => a + b, 0) / Math.max(1, actual.length);
  const floor = 0.01 * mean;
  let ape = 0;
  let apeN = 0;
  let sape = 0;
  let ae = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const p = predicted[i]!;
    const err = Math.abs(a - p);
    ae += err;
    if (a > floor) {
      ape += err / a;
      apeN += 1;
    }
    sape += a + p === 0 ? 0 : (2 * err) / (Math.abs(a) + Math.abs(p));
  }
  const n = actual.length;
  const mae = ae / Math.max(1, n);
  return {
    mape: (100 * ape) / Math.max(1, apeN),
    smape: (100 * sape) / Math.max(1, n),
    mase: scale > 0 ? mae / scale : Number.NaN,
    mae,
    n,
  };
}

/** In-sample MAE of the seasonal-naive forecast with period m (the MASE denominator). */
export function naiveScale(series: readonly number[], m = 24): number {
  let sum = 0;
  let n = 0;
  for (let i = m; i < series.length; i++) {
    sum += Math.abs(series[i]! - series[i - m]!);
    n += 1;
  }
  return n > 0 ? sum / n : 0;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * The 80 % interval from relative validation residuals (10th and 90th percentiles), widened to hold the point
 * forecast itself: a method that under-forecast most of its backtest (spend growing) has its 10th percentile above 0,
 * and an interval from it alone started above the forecast it bounds (lower > cost at some hours of the day).
 */
export function intervalFromResiduals(actual: readonly number[], predicted: readonly number[]): IntervalSpec {
  const rel: number[] = [];
  for (let i = 0; i < actual.length; i++) if (predicted[i]! > 0) rel.push(actual[i]! / predicted[i]! - 1);
  rel.sort((a, b) => a - b);
  const lower = Math.min(0, Math.max(-1, quantile(rel, 0.1)));
  const upper = Math.max(0, quantile(rel, 0.9));
  const inside = rel.filter((r) => r >= lower && r <= upper).length;
  return { lower, upper, coverage: rel.length ? inside / rel.length : 0 };
}

/** Median relative residual (actual / predicted − 1) of the forecasts above 0; 0 without any. */
function medianResidual(actual: readonly number[], predicted: readonly number[]): number {
  const rel: number[] = [];
  for (let i = 0; i < actual.length; i++) if (predicted[i]! > 0) rel.push(actual[i]! / predicted[i]! - 1);
  rel.sort((a, b) => a - b);
  return rel.length ? quantile(rel, 0.5) : 0;
}

/** Confidence of a method: 1 − its MAPE / 100, clamped to [0, 1] (from its measured error, never a constant). */
export function confidenceOf(metrics: ErrorMetrics): number {
  return Math.max(0, Math.min(1, 1 - metrics.mape / 100));
}

export const RECENT_ORIGIN_HOURS = [6, 24] as const;
/** Fewest forecasts with spend a window of recent origins is scored from (else it is left out). */
export const RECENT_MIN_SCORED = 6;

/**
 * A backtest's report of one method, scored on every forecast and on those from the last 6 and the last 24 hours
 * of origins (RECENT_ORIGIN_HOURS: they start where the forecast served now starts): its MAPE (so the confidence)
 * is the largest of the three (the methods are still ranked on every forecast's, `rankMape`: the last hours alone
 * are a noisy ranking). Its interval is the 10th–90th residual percentiles of every forecast, moved out by as much
 * as the median residual of a recent set lies beyond the median of all (so it widens when the recent forecasts
 * miss on one side: after an outage, EWMA under-forecasts the recovery). Not by a recent set's own percentiles:
 * a window of 6 hours of origins holds about 21 forecasts, so one spike or launch hour among its targets was its
 * 90th percentile, and the interval of every hour of the next day (one $10 hour among $0.1 hours, 2–4 hours ago:
 * upper bounds 100 to 200 times the points). The other metrics and the coverage are over every forecast. `origins[i]` is the origin of
 * forecast i; `last` the last hour of the history.
 */
export function backtestReport(
  method: MethodReport['method'],
  actual: readonly number[],
  predicted: readonly number[],
  origins: readonly number[],
  last: number,
  scale: number,
): MethodReport {
  const metrics = errorMetrics(actual, predicted, scale);
  const all = intervalFromResiduals(actual, predicted);
  let { lower, upper } = all;
  const centre = medianResidual(actual, predicted);
  let mape = metrics.mape;
  const floor = 0.01 * (actual.reduce((a, b) => a + b, 0) / Math.max(1, actual.length));
  for (const hours of RECENT_ORIGIN_HOURS) {
    const ra: number[] = [];
    const rp: number[] = [];
    for (let i = 0; i < actual.length; i++) {
      if (origins[i]! >= last - hours) {
        ra.push(actual[i]!);
        rp.push(predicted[i]!);
      }
    }
    // Recent forecasts with too few actuals with spend (an outage still going on) have no MAPE worth the name.
    if (ra.filter((a) => a > floor).length < RECENT_MIN_SCORED) continue;
    mape = Math.max(mape, errorMetrics(ra, rp, scale).mape);
    const bias = medianResidual(ra, rp) - centre;
    lower = Math.max(-1, Math.min(lower, all.lower + bias));
    upper = Math.max(upper, all.upper + bias);
  }
  let inside = 0;
  let count = 0;
  for (let i = 0; i < actual.length; i++) {
    if (predicted[i]! <= 0) continue;
    const r = actual[i]! / predicted[i]! - 1;
    count += 1;
    if (r >= lower && r <= upper) inside += 1;
  }
  return {
    method,
    metrics: { ...metrics, mape },
    interval: { lower, upper, coverage: count ? inside / count : 0 },
    rankMape: metrics.mape,
  };
}

/** The figure a backtest ranks methods by: the MAPE over all its forecasts. */
export const rankOf = (r: MethodReport): number => r.rankMape ?? r.metrics.mape;

/**
 * A method's error in a forecast's `reason`: the figure it was ranked by, and, when larger, the MAPE its confidence is
 * from (`metrics.mape`, of its most recent forecasts). Before 2026-12-07 a reason gave the second beside the others'
 * and said the served method had "the lowest error" next to a smaller figure of another method.
 */
export function mapeWords(r: MethodReport, served = false): string {
  const rank = `${rankOf(r).toFixed(1)} %`;
  const confidence = `${r.metrics.mape.toFixed(1)} %`;
  if (!served || confidence === rank) return rank;
  return `${rank} (${confidence} over its most recent forecasts: its confidence)`;
}
