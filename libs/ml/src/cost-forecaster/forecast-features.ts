import { HOUR_MS } from '@app/common';
import type { BaselineName, HourlySeries } from './forecast.types';

/** Hours of history needed before a forecast origin (the 168 h lag and weekly level). */
export const MIN_HISTORY = 168;
/** Longest horizon of the direct multi-horizon model. */
export const MAX_HORIZON = 24;

/**
 * The seasonal profile: multiplicative factors of the hour of day and of the day of week (UTC), stored as logs.
 * Fitted on the training part (robustly, by median polish) and saved with the scaler; the network forecasts
 * the residual around level × profile.
 */
export interface SeasonalProfile {
  hour: number[];
  dow: number[];
}

/** Smallest profile factor (a share of the level): hours without usage do not make the expectation 0. */
const PROFILE_FLOOR = 0.01;

/** No seasonality (every factor 1). */
export const FLAT_PROFILE: SeasonalProfile = { hour: new Array<number>(24).fill(0), dow: new Array<number>(7).fill(0) };

/**
 * Features of one (origin, horizon) pair: origin o is the last observed hour, the target is o + h.
 * Every cost feature is a log ratio to the seasonal expectation E(t) = level(o) · profile(t), where the level is
 * the origin's deseasonalised, burst-trimmed 168 h mean cost: 0 means "as the profile expects". Recent hours
 * enter as medians (a 1–3 h burst does not move them). The model predicts the same log ratio for the target, so
 * one model serves any scale, trend and regime; the prediction is multiplied back. Calendar inputs (hour as
 * sine/cosine, weekend, the profile's log factor) let it correct the profile where it does not fit.
 */
export const FEATURE_NAMES = [
  'horizon',
  'hour_sin',
  'hour_cos',
  'weekend',
  'profile',
  'lag_1',
  'lag_24',
  'lag_168',
  'rolling_median_6',
  'rolling_median_24',
  'same_hour_median_7d',
  'requests_rolling_median_24',
];

/** Offset of the log ratios: keeps hours without usage finite. */
export const LOG_OFFSET = 0.01;

export function logRatio(value: number, expected: number): number {
  return Math.log(Math.max(0, value) / expected + LOG_OFFSET);
}

export function mean(values: readonly number[], from: number, to: number): number {
  let sum = 0;
  for (let i = from; i <= to; i++) sum += values[i]!;
  return sum / (to - from + 1);
}

/** Median; sorts `values` in place. */
export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = values.sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Hours of the level window left out as outliers (the largest 5 %: bursts should not move the level). */
const TRIM = Math.round(MIN_HISTORY * 0.05);

/** The level at `origin`: mean of the last 168 h without the largest 5 % (a trimmed, burst-robust mean). */
const lastLevel = new WeakMap<readonly number[], { origin: number; level: number }>();

export function levelAt(values: readonly number[], origin: number): number {
  // The 24 horizons of one origin share the level: remember the last one per (never mutated) series array.
  const last = lastLevel.get(values);
  if (last?.origin === origin) return last.level;
  const level = trimmedLevel(values, origin);
  lastLevel.set(values, { origin, level });
  return level;
}

function trimmedLevel(values: readonly number[], origin: number): number {
  const window = values.slice(origin - MIN_HISTORY + 1, origin + 1).sort((a, b) => a - b);
  let sum = 0;
  for (let i = 0; i < window.length - TRIM; i++) sum += window[i]!;
  return sum / (window.length - TRIM);
}

/** Hour of day and day of week (UTC, 0 = Sunday) of hour index i (epoch hours: 1970-01-01 was a Thursday). */
function calendar(series: HourlySeries, i: number): { hour: number; dow: number } {
  const epochHour = Math.floor(series.start / HOUR_MS) + i;
  return { hour: epochHour % 24, dow: (Math.floor(epochHour / 24) + 4) % 7 };
}

/** The profile's factor for hour index i of the series. */
export function profileFactor(profile: SeasonalProfile, series: HourlySeries, i: number): number {
  const { hour, dow } = calendar(series, i);
  return Math.exp(profile.hour[hour]! + profile.dow[dow]!);
}

const lastCostLevel = new WeakMap<readonly number[], { profile: SeasonalProfile; origin: number; level: number }>();

/**
 * The cost level at `origin`: mean of the last 168 h of cost / profile factor (deseasonalised), without the
 * largest 5 % (bursts should not move it). With the flat profile this is the trimmed mean of the raw costs.
 */
export function costLevel(series: HourlySeries, profile: SeasonalProfile, origin: number): number {
  // The 24 horizons of one origin share the level: remember the last one per (never mutated) series array.
  const last = lastCostLevel.get(series.cost);
  if (last?.origin === origin && last.profile === profile) return last.level;
  const window: number[] = [];
  for (let i = origin - MIN_HISTORY + 1; i <= origin; i++)
    window.push(series.cost[i]! / profileFactor(profile, series, i));
  window.sort((a, b) => a - b);
  let sum = 0;
  for (let i = 0; i < window.length - TRIM; i++) sum += window[i]!;
  const level = Math.max(sum / (window.length - TRIM), 1e-9);
  lastCostLevel.set(series.cost, { profile, origin, level });
  return level;
}

/** Profile fits: the first against the raw level, the next ones against the level deseasonalised by the last. */
const PROFILE_PASSES = 2;

/**
 * Fits the seasonal profile on the (origin, horizon) pairs of `origins`: log(cost(o + h) / level(o)) =
 * hour effect + day-of-week effect, by median polish (medians, so bursts and the week after a regime change
 * do not pull it). Centred: the mean hour effect is 0, the level's ratio to the hourly mean goes to the days.
 * Refitted against the level deseasonalised by the previous fit (a more precise level than raw costs give).
 */
export function fitSeasonalProfile(series: HourlySeries, origins: readonly number[]): SeasonalProfile {
  let profile = FLAT_PROFILE;
  const hours: number[] = [];
  const days: number[] = [];
  for (const o of origins) {
    for (let h = 1; h <= MAX_HORIZON; h++) {
      const { hour, dow } = calendar(series, o + h);
      hours.push(hour);
      days.push(dow);
    }
  }
  for (let pass = 0; pass < PROFILE_PASSES; pass++) {
    const y: number[] = [];
    for (const o of origins) {
      const level = costLevel(series, profile, o);
      for (let h = 1; h <= MAX_HORIZON; h++) y.push(Math.log(Math.max(series.cost[o + h]! / level, PROFILE_FLOOR)));
    }
    const hour = new Array<number>(24).fill(0);
    const dow = new Array<number>(7).fill(0);
    for (let iteration = 0; iteration < 4; iteration++) {
      const byHour = Array.from({ length: 24 }, () => [] as number[]);
      for (let i = 0; i < y.length; i++) byHour[hours[i]!]!.push(y[i]! - dow[days[i]!]!);
      for (let k = 0; k < 24; k++) hour[k] = median(byHour[k]!);
      const byDay = Array.from({ length: 7 }, () => [] as number[]);
      for (let i = 0; i < y.length; i++) byDay[days[i]!]!.push(y[i]! - hour[hours[i]!]!);
      for (let k = 0; k < 7; k++) dow[k] = median(byDay[k]!);
    }
    const shift = hour.reduce((a, b) => a + b, 0) / 24;
    profile = { hour: hour.map((v) => v - shift), dow: dow.map((v) => v + shift) };
  }
  return profile;
}

/**
 * Writes the features of (origin, h) into `out` at `offset`; returns the seasonal expectation of the target
 * (level × profile), the scale of the prediction.
 */
export function writeFeatures(
  series: HourlySeries,
  profile: SeasonalProfile,
  origin: number,
  h: number,
  out: Float32Array,
  offset: number,
): number {
  const { cost, requests } = series;
  const level = costLevel(series, profile, origin);
  const reqLevel = Math.max(levelAt(requests, origin), 1e-9);
  const expected = (i: number): number => level * profileFactor(profile, series, i);
  const target = origin + h;
  const { hour, dow } = calendar(series, target);
  const recent: number[] = [];
  const recentRequests: number[] = [];
  for (let i = origin - 23; i <= origin; i++) {
    const e = expected(i);
    recent.push(logRatio(cost[i]!, e));
    recentRequests.push(logRatio(requests[i]! / reqLevel, e / level));
  }
  const sameHour: number[] = [];
  for (let k = 1; k <= 7; k++) sameHour.push(logRatio(cost[target - 24 * k]!, expected(target - 24 * k)));
  const values = [
    h / MAX_HORIZON,
    Math.sin((2 * Math.PI * hour) / 24),
    Math.cos((2 * Math.PI * hour) / 24),
    dow === 0 || dow === 6 ? 1 : 0,
    profile.hour[hour]! + profile.dow[dow]!,
    logRatio(cost[origin]!, expected(origin)),
    logRatio(cost[target - 24]!, expected(target - 24)),
    logRatio(cost[target - 168]!, expected(target - 168)),
    median(recent.slice(18)),
    median(recent),
    median(sameHour),
    median(recentRequests),
  ];
  for (let i = 0; i < values.length; i++) out[offset + i] = values[i]!;
  return expected(target);
}

/**
 * Upper quantile the EWMA's inputs are winsorised at, within its window: a burst of a few hours is capped at the
 * window's 95th percentile. Unwinsorised, one $100 hour among $0.1 hours (under 168 h of history) set EWMA's
 * forecast to 11–225 times the actuals for days. Zeros are kept (an outage's empty hours are real).
 */
export const EWMA_WINSOR_QUANTILE = 0.95;

let ewmaMemo: { cost: readonly number[]; origin: number; at: number; alpha: number; level: number } | null = null;

/** EWMA level of the cost up to and including `origin`, its inputs winsorised at EWMA_WINSOR_QUANTILE. */
export function ewmaAt(cost: readonly number[], origin: number, alpha: number): number {
  // A backtest asks for every horizon of one origin in turn: the same level (the origin's own value is compared
  // too, in case the caller's array changed in place).
  if (ewmaMemo?.cost === cost && ewmaMemo.origin === origin && ewmaMemo.at === cost[origin] && ewmaMemo.alpha === alpha)
    return ewmaMemo.level;
  const from = Math.max(0, origin - Math.ceil(10 / alpha));
  const sorted = cost.slice(from, origin + 1).sort((a, b) => a - b);
  const pos = (sorted.length - 1) * EWMA_WINSOR_QUANTILE;
  const lo = Math.floor(pos);
  const cap = sorted[lo]! + (sorted[Math.ceil(pos)]! - sorted[lo]!) * (pos - lo);
  let level = Math.min(cap, cost[from]!);
  for (let i = from + 1; i <= origin; i++) level = alpha * Math.min(cap, cost[i]!) + (1 - alpha) * level;
  ewmaMemo = { cost, origin, at: cost[origin]!, alpha, level };
  return level;
}

/**
 * How many times a typical high hour around it a lagged hour must cost before a seasonal naive forecast reads it as a
 * burst that ended (a runaway loop, an incident, a one-off batch) rather than the week's or the day's pattern.
 */
export const SEASONAL_BURST_FACTOR = 5;

/**
 * Hours around a lagged hour that may cost as much as it (within SEASONAL_BURST_FACTOR) and still leave it a burst:
 * the typical high hour it is compared with is the (SPIKE_HOURS + 1)-th largest, so a few other spike hours in the
 * window (1 % of hours at ×30–230 puts one or two in a week) do not make it look usual. A pattern that recurs every
 * day puts at least 5 hours of that cost in the window of t−168 (a day after the lag to the origin: 121 hours or more),
 * so it is still read as one.
 */
export const SPIKE_HOURS = 3;

/**
 * Whether `value` is a burst against the hours of `cost` in [from, to] other than `skip`: fewer than SPIKE_HOURS + 1
 * of them cost at least 1 / SEASONAL_BURST_FACTOR of it. Returns the typical high hour (the (SPIKE_HOURS + 1)-th
 * largest, 0 when the window has fewer hours) when it is one, else null (stops at the (SPIKE_HOURS + 1)-th match: most
 * hours are matched soon, and a full scan of every lag doubled a 504 h backtest's time).
 */
function burstAgainst(cost: readonly number[], value: number, from: number, to: number, skip = -1): number | null {
  let matched = 0;
  for (let i = Math.max(0, from); i <= to; i++)
    if (i !== skip && value <= SEASONAL_BURST_FACTOR * cost[i]! && (matched += 1) > SPIKE_HOURS) return null;
  // A burst (rare): its typical high hour, for the caller's comparison with the hour a week or a day earlier.
  const window: number[] = [];
  for (let i = Math.max(0, from); i <= to; i++) if (i !== skip) window.push(cost[i]!);
  window.sort((x, y) => y - x);
  return window[SPIKE_HOURS] ?? 0;
}

/** The second largest of the hours `lag` + 24 k in [from, to] (k ≠ 0): the same hour of the day on the other days. */
function sameHourHigh(cost: readonly number[], lag: number, from: number, to: number): number {
  let first = 0;
  let second = 0;
  for (let i = lag - 24 * Math.floor((lag - Math.max(0, from)) / 24); i <= to; i += 24) {
    if (i === lag) continue;
    const c = cost[i]!;
    if (c > first) [first, second] = [c, first];
    else if (c > second) second = c;
  }
  return second;
}

/**
 * Seasonal naive t−168's lag for `origin + h` (h ≤ 168): the hour a week before, unless it was a burst that ended.
 * It is one when it costs more than SEASONAL_BURST_FACTOR times the same hour of the day on the days from a day after it
 * to the origin (the second largest of them: one other spike at that hour does not hide it), or than the typical high
 * hour of all those hours (`burstAgainst`: the largest but SPIKE_HOURS; at least 121 hours, all known at the origin: a
 * burst of up to a day has ended by then), and the same hour a week earlier did not (so it does not recur weekly); it
 * is then replaced by that earlier hour, or without one by the median of the same hour of the day on the days since. A
 * burst a week old is never a backtest input: the backtest on the last week forecast it (from the week before) as a
 * target, so t−168 could rank first there and then replay it over the next day (a $50-an-hour day of a runaway loop
 * six days ago forecast tomorrow at 16 times its cost, with confidence 0.77 and a predicted budget breach). Until
 * 2026-12-07 (the second change) it was compared with the largest hour since only: one other spike hour in those days
 * (1 % of hours at ×30–230) made a spike a week old look usual, as did the day's peak hours a spike at night, and t−168
 * replayed it (real error 187 % over the next day, 33 % claimed).
 */
export function seasonalLag168(cost: readonly number[], origin: number, h: number): number {
  const lag = origin + h - 168 * Math.ceil(h / 168);
  const value = cost[lag]!;
  const sameHour = sameHourHigh(cost, lag, lag + 24, origin);
  let since: number | null = sameHour;
  if (!(sameHour > 0 && value > SEASONAL_BURST_FACTOR * sameHour)) since = burstAgainst(cost, value, lag + 24, origin);
  if (since === null || since <= 0) return value;
  if (lag >= 168) {
    const weekBefore = cost[lag - 168]!;
    return weekBefore > SEASONAL_BURST_FACTOR * since ? value : weekBefore;
  }
  const sameHours: number[] = [];
  for (let i = lag + 24; i <= origin; i += 24) sameHours.push(cost[i]!);
  return median(sameHours);
}

/** Hours on either side of a lagged hour that t−24 compares it with (`seasonalLag24`). */
const SPIKE_NEIGHBOURS = 6;

/**
 * Seasonal naive t−24's lag for `origin + h` (h ≤ 24): the hour a day before, unless it was a spike: it costs more than
 * SEASONAL_BURST_FACTOR times the same hour a day earlier (so it does not recur daily) and than the typical high hour
 * (`burstAgainst`: the largest but SPIKE_HOURS) of the SPIKE_NEIGHBOURS hours on either side of it known at the origin;
 * it is then replaced by that earlier hour. Before, a one-off spike hour of the last day (an incident, a batch run by
 * hand) was the next day's forecast at that hour: one hour at ×100 20 h ago, on business-hours spend, was forecast
 * at 50 times the next day's cost at that hour (real error 220–270 % over the day), and with 1 % of spike hours
 * (×30–230) and 200 h of history t−24 served with a real error of 140 % where 16 % was claimed. A launch or a
 * day-long burst is no spike (the hours around it cost as much) and is still read as t−24 reads it, as is the last
 * day's hour with less than a day before it.
 */
export function seasonalLag24(cost: readonly number[], origin: number, h: number): number {
  const lag = origin + h - 24 * Math.ceil(h / 24);
  const value = cost[lag]!;
  if (lag < 24) return value;
  const dayBefore = cost[lag - 24]!;
  if (value <= SEASONAL_BURST_FACTOR * dayBefore) return value;
  const typical = burstAgainst(cost, value, lag - SPIKE_NEIGHBOURS, Math.min(origin, lag + SPIKE_NEIGHBOURS), lag);
  return typical === null || typical <= 0 ? value : dayBefore;
}

/** A baseline's forecast for origin + h. */
export function baselineForecast(
  name: BaselineName,
  cost: readonly number[],
  origin: number,
  h: number,
  alpha: number,
): number {
  switch (name) {
    case 'seasonal_naive_24':
      return seasonalLag24(cost, origin, h);
    case 'seasonal_naive_168':
      return seasonalLag168(cost, origin, h);
    case 'ewma':
      return ewmaAt(cost, origin, alpha);
  }
}

export const BASELINES: readonly BaselineName[] = ['seasonal_naive_24', 'seasonal_naive_168', 'ewma'];

/** Baselines usable with `available` hours of history. */
export function baselineUsable(name: BaselineName, available: number): boolean {
  return name === 'seasonal_naive_168'
    ? available >= 168
    : name === 'seasonal_naive_24'
      ? available >= 24
      : available >= 1;
}
