import { MIN_BACKTEST_HOURS } from './baseline-forecast';
import { backtestReport, naiveScale, rankOf } from './forecast-accuracy';
import {
  BASELINES,
  baselineForecast,
  baselineUsable,
  FEATURE_NAMES,
  MAX_HORIZON,
  MIN_HISTORY,
  type SeasonalProfile,
  writeFeatures,
} from './forecast-features';
import type { HourlySeries, MethodReport } from './forecast.types';

/** The span of forecast origins a backtest on the serving history covers at most: its last week. */
export const HISTORY_BACKTEST_ORIGINS = 168;
/**
 * Hours between two of its origins, counted back from the last: every 4th hour of the week, 42 origins and about
 * 1,000 forecasts for each method (every hour: 54 ms of blocked event loop once an hour for the model's 4,000 rows;
 * every 4th: about 15 ms). Each hour of the day is still a target of every horizon.
 */
export const HISTORY_BACKTEST_STEP = 4;
/**
 * Fewest target hours (after the model's first possible origin, 168 h in) a backtest on the serving history needs: a
 * day, so that every hour of the day is a target. With 168–191 hours of history the model's backtest would rest on a
 * handful of forecasts (15 from 180 hours); the baselines are then backtested on the whole history instead.
 */
export const HISTORY_BACKTEST_MIN_TARGETS = 24;

const F = FEATURE_NAMES.length;

/** The trained network, as the backtest calls it: raw feature rows and their levels in, hourly costs out. */
export interface ModelRows {
  profile: SeasonalProfile;
  predictRows(x: Float32Array, levels: Float64Array, rows: number): number[];
}

/** What a backtest on the serving history found: the origins it covered and each method's report, best first. */
export interface HistoryBacktest {
  origins: number;
  forecasts: number;
  reports: MethodReport[];
}

/**
 * Backtests the model (when there is one) and every usable baseline on the serving history itself, on the same
 * forecasts: every HISTORY_BACKTEST_STEP-th origin of its last HISTORY_BACKTEST_ORIGINS hours from which the model can
 * forecast (it reads 168 hours back), horizons 1..24 inside the history. The card's validation was measured on the data it was trained on
 * (synthetic for the committed artifacts); this one is measured on the history being forecast, so a confidence
 * drawn from it describes what is served, on this history. Null when fewer than HISTORY_BACKTEST_MIN_TARGETS target
 * hours follow the first origin, or fewer than MIN_BACKTEST_HOURS of them have spend.
 */
export function backtestOnHistory(
  series: HourlySeries,
  alpha: number,
  model: ModelRows | null,
): HistoryBacktest | null {
  const { cost } = series;
  const n = cost.length;
  const first = Math.max(MIN_HISTORY - 1, n - 1 - HISTORY_BACKTEST_ORIGINS);
  if (n - 1 - first < HISTORY_BACKTEST_MIN_TARGETS) return null;
  let targetsWithSpend = 0;
  for (let t = first + 1; t < n; t++) if (cost[t]! > 0) targetsWithSpend += 1;
  if (targetsWithSpend < MIN_BACKTEST_HOURS) return null;

  const origins: number[] = [];
  const horizons: number[] = [];
  for (let o = n - 2; o >= first; o -= HISTORY_BACKTEST_STEP) {
    for (let h = 1; h <= MAX_HORIZON && o + h < n; h++) {
      origins.push(o);
      horizons.push(h);
    }
  }
  const rows = origins.length;
  const actual = origins.map((o, r) => cost[o + horizons[r]!]!);
  const scale = naiveScale(cost, 24);
  const report = (method: MethodReport['method'], predicted: number[]): MethodReport =>
    backtestReport(method, actual, predicted, origins, n - 1, scale);

  const reports: MethodReport[] = [];
  if (model) {
    const x = new Float32Array(rows * F);
    const levels = new Float64Array(rows);
    for (let r = 0; r < rows; r++)
      levels[r] = writeFeatures(series, model.profile, origins[r]!, horizons[r]!, x, r * F);
    reports.push(report('ml', model.predictRows(x, levels, rows)));
  }
  for (const method of BASELINES) {
    if (!baselineUsable(method, n)) continue;
    reports.push(
      report(
        method,
        origins.map((o, r) => baselineForecast(method, cost, o, horizons[r]!, alpha)),
      ),
    );
  }
  reports.sort((a, b) => rankOf(a) - rankOf(b));
  return { origins: n - 1 - first, forecasts: rows, reports };
}
