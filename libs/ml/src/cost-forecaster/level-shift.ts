import { HOUR_MS } from '@app/common';
import { median, seasonalLag168 } from './forecast-features';
import type { CostForecast, HourlySeries } from './forecast.types';

/** Fewest hours at a new level before it is read as a level shift (a burst of 1–3 hours is not one). */
export const LEVEL_SHIFT_MIN_HOURS = 6;
/** How far back a shift is looked for: two days. */
const MAX_HOURS = 48;
/**
 * History needed to look for a shift either way, against the same hours a week before. Against the day before (tried
 * first), every Monday read as a shift (a Sunday costs a half to a fifth of it in business use), and a shift hidden by a
 * weekend was placed on the Monday after it; with less than a week before them, a cut and the week's cycle cannot be
 * told apart. With less, only a rise of the last day is looked for (`SHORT_DAYS`).
 */
export const LEVEL_SHIFT_MIN_HISTORY = 168 + MAX_HOURS + LEVEL_SHIFT_MIN_HOURS;
/**
 * With less than LEVEL_SHIFT_MIN_HISTORY hours, a rise is read against the **largest** of the same hour on the days
 * before (at least SHORT_MIN_DAYS of them, at most SHORT_DAYS): any 3 days hold a weekday, so a Monday is not a rise
 * over its weekend (it is compared with the Friday before), and a launch still is. A cut is not looked for there (a
 * Saturday is a cut against the weekdays before it), nor a shift older than a day (t−24 follows it from a day after).
 */
const SHORT_MIN_DAYS = 3;
const SHORT_DAYS = 6;
const SHORT_MAX_HOURS = 24;
/** The median ratio to the reference hours from which the new level is a shift (×1.5 up, ×1/1.5 down). */
const SHIFT_FACTOR = 1.5;
/** Each hour after the shift: at least this far from its reference hour, on the same side... */
const HOUR_FACTOR = 1.25;
/** ...for at least this share of the hours after it (a spike hour or two among them do not make one). */
const CONSISTENT_SHARE = 0.8;
/** z of the 80 % interval (the factor's uncertainty widens the interval by it). */
const Z80 = 1.2816;

/**
 * A step in the level of spend in the last hours: from `at` (the index of its first hour) on, the hours cost about
 * `factor` times the same hours a week before.
 */
export interface LevelShift {
  at: number;
  hours: number;
  factor: number;
  /** Standard error of log(factor) (the spread of the hours' log ratios around it, over √hours). */
  logError: number;
  /** What the hours were compared with: the same hours a week before, or the largest of the days before. */
  against: 'week' | 'days';
}

/**
 * Finds a level shift that started in the last two days, with a week of history before them: the longest run of the
 * last hours, at least LEVEL_SHIFT_MIN_HOURS, of which CONSISTENT_SHARE cost HOUR_FACTOR times the same hour a week before or
 * more (or as much less), with a median ratio beyond SHIFT_FACTOR, after hours that were not shifted (so the step is
 * in the run: an older shift is not found). Hours without cost are no evidence of a level (an outage is not a new
 * level). With less than LEVEL_SHIFT_MIN_HISTORY hours, only a rise in the last day, against the largest of the same
 * hours on the 3 to 6 days before (`SHORT_DAYS`). Null when there is none.
 */
export function detectLevelShift(series: HourlySeries): LevelShift | null {
  const { cost } = series;
  const n = cost.length;
  const short = n < LEVEL_SHIFT_MIN_HISTORY;
  const maxHours = short ? SHORT_MAX_HOURS : MAX_HOURS;
  // Log ratio of each of the last hours to the same hour a week before (a burst a week old read as such, as t−168
  // reads it), or with a short history to the largest of the same hour on the days before; null when either cost
  // nothing (or too few days came before).
  const reference = (t: number): number => {
    if (!short) return seasonalLag168(cost, t - 1, 1);
    if (t < 24 * SHORT_MIN_DAYS) return 0;
    let largest = 0;
    for (let k = 1; k <= SHORT_DAYS && t - 24 * k >= 0; k++) largest = Math.max(largest, cost[t - 24 * k]!);
    return largest;
  };
  const logRatio = (t: number): number | null => {
    const ref = reference(t);
    return cost[t]! > 0 && ref > 0 ? Math.log(cost[t]! / ref) : null;
  };
  const ratios: (number | null)[] = [];
  for (let k = 1; k <= maxHours + LEVEL_SHIFT_MIN_HOURS; k++) ratios.push(logRatio(n - k)); // ratios[k-1]: hour n-k
  const side = (values: readonly (number | null)[], sign: number): number =>
    values.filter((v) => v !== null && sign * v >= Math.log(HOUR_FACTOR)).length;
  for (let longest = maxHours; longest >= LEVEL_SHIFT_MIN_HOURS; longest--) {
    const run = ratios.slice(0, longest);
    const known = run.filter((v): v is number => v !== null);
    if (known.length < CONSISTENT_SHARE * longest) continue;
    const m = median([...known]);
    const sign = Math.sign(m);
    if (short && sign < 0) continue;
    if (Math.abs(m) < Math.log(SHIFT_FACTOR) || side(run, sign) < CONSISTENT_SHARE * longest) continue;
    // The hours before the run were at the old level, as far as they tell: the step is in it. When they do not tell
    // (no cost, or another kind of day than the day before), where it started is not known: no shift is read, for
    // rebasing hours already at the new level would multiply them twice.
    const before = ratios.slice(longest, longest + LEVEL_SHIFT_MIN_HOURS);
    const told = before.filter((v) => v !== null).length;
    if (told < before.length / 2 || side(before, sign) > told / 2) return null;
    // It starts at its first shifted hour (the run may begin with a few hours still at the old level).
    let hours = longest;
    while (hours > LEVEL_SHIFT_MIN_HOURS && side([ratios[hours - 1]!], sign) === 0) hours -= 1;
    return shiftOf(ratios.slice(0, hours), n, short ? 'days' : 'week');
  }
  return null;
}

function shiftOf(run: readonly (number | null)[], n: number, against: LevelShift['against']): LevelShift {
  const hours = run.length;
  const known = run.filter((v): v is number => v !== null);
  const m = median([...known]);
  // Robust spread of the hours' log ratios (MAD) and the standard error of their median.
  const spread = 1.4826 * median(known.map((v) => Math.abs(v - m)));
  return {
    at: n - hours,
    hours,
    factor: Math.exp(m),
    logError: (1.2533 * spread) / Math.sqrt(known.length),
    against,
  };
}

/** The series with its hours before the shift scaled to the new level (cost and calls). */
export function rebased(series: HourlySeries, shift: LevelShift): HourlySeries {
  const scale = (values: readonly number[]): number[] => values.map((v, i) => (i < shift.at ? v * shift.factor : v));
  return { ...series, cost: scale(series.cost), requests: scale(series.requests) };
}

/**
 * Forecasts from the new level after a level shift of the last day (a launch, a customer gone, a cheaper model): the
 * hours before the shift are rebased to the level since (`rebased`), so that every method forecasts, and is
 * backtested, from it; without that, a launch ×4 a day ago was forecast at a quarter of the next day (t−168, the
 * model's 168 h level and EWMA read the week before it) and a cut to a quarter at three times. The factor is
 * estimated from a few hours: its uncertainty is added to the error the confidence claims and widens the interval.
 * Without a shift, `forecast(series)` as it is.
 */
export function forecastAfterLevelShift(
  series: HourlySeries,
  forecast: (series: HourlySeries) => CostForecast,
): CostForecast {
  const shift = detectLevelShift(series);
  if (!shift) return forecast(series);
  const result = forecast(rebased(series, shift));
  if (result.method === 'none') return result;
  const spread = Math.exp(Z80 * shift.logError);
  const factorError = 100 * (Math.exp(shift.logError) - 1);
  const validation = result.validation && {
    ...result.validation,
    metrics: { ...result.validation.metrics, mape: result.validation.metrics.mape + factorError },
    interval: {
      ...result.validation.interval,
      lower: Math.max(-1, (1 + result.validation.interval.lower) / spread - 1),
      upper: (1 + result.validation.interval.upper) * spread - 1,
    },
  };
  const from = new Date(series.start + shift.at * HOUR_MS).toISOString();
  const factor = shift.factor.toPrecision(3);
  return {
    ...result,
    hours: result.hours.map((h) => ({
      ...h,
      lowerUsd: h.lowerUsd === null ? null : h.lowerUsd / spread,
      upperUsd: h.upperUsd === null ? null : h.upperUsd * spread,
    })),
    validation,
    confidence: validation ? Math.max(0, Math.min(1, 1 - validation.metrics.mape / 100)) : 0,
    reason:
      `${result.reason}; level shift: the ${shift.hours} hours from ${from} cost ×${factor} ` +
      `${shift.against === 'week' ? 'the same hours a week before' : 'the largest of the same hours on the days before'} ` +
      `(median), so the hours before them were rebased ×${factor} and the forecast is from the new level (the ` +
      `factor's uncertainty, ±${factorError.toFixed(1)} %, is added to the error and the interval)`,
  };
}
