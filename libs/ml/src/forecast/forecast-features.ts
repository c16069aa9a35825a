import { HOUR_MS } from '@app/ledger';
import type { BaselineName, HourlySeries } from './forecast.types';

/** Hours of history needed before a forecast origin (the 168 h lag and weekly level). */
export const MIN_HISTORY = 168;
/** Longest horizon of the direct multi-horizon model. */
export const MAX_HORIZON = 24;

/**
 * Features of one (origin, horizon) pair: origin o is the last observed hour, the target is o + h.
 * Cost features are divided by the origin's 168 h mean cost (the level), request features by the 168 h
 * mean request count, so one model serves any scale, trend and regime; the prediction is multiplied back.
 */
export const FEATURE_NAMES = [
  ...Array.from({ length: 24 }, (_, h) => `hour_${h}`),
  ...Array.from({ length: 7 }, (_, d) => `dow_${d}`),
  'horizon',
  'lag_1',
  'lag_2',
  'lag_24',
  'lag_168',
  'rolling_mean_24',
  'same_hour_mean_7d',
  'requests_lag_24',
  'requests_lag_168',
  'requests_rolling_mean_24',
];

export function mean(values: readonly number[], from: number, to: number): number {
  let sum = 0;
  for (let i = from; i <= to; i++) sum += values[i]!;
  return sum / (to - from + 1);
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

/** Writes the features of (origin, h) into `out` at `offset`; returns the cost level used for scaling. */
export function writeFeatures(
  series: HourlySeries,
  origin: number,
  h: number,
  out: Float32Array,
  offset: number,
): number {
  const { cost, requests } = series;
  const level = Math.max(levelAt(cost, origin), 1e-9);
  const reqLevel = Math.max(levelAt(requests, origin), 1e-9);
  const target = origin + h;
  const date = new Date(series.start + target * HOUR_MS);
  const hour = date.getUTCHours();
  const dow = date.getUTCDay();
  let sameHour = 0;
  for (let k = 1; k <= 7; k++) sameHour += cost[target - 24 * k]!;
  const values = [
    ...Array.from({ length: 24 }, (_, i) => (i === hour ? 1 : 0)),
    ...Array.from({ length: 7 }, (_, i) => (i === dow ? 1 : 0)),
    h / MAX_HORIZON,
    cost[origin]! / level,
    cost[origin - 1]! / level,
    cost[target - 24]! / level,
    cost[target - 168]! / level,
    mean(cost, origin - 23, origin) / level,
    sameHour / 7 / level,
    requests[target - 24]! / reqLevel,
    requests[target - 168]! / reqLevel,
    mean(requests, origin - 23, origin) / reqLevel,
  ];
  for (let i = 0; i < values.length; i++) out[offset + i] = values[i]!;
  return level;
}

/** EWMA level of the cost up to and including `origin`. */
export function ewmaAt(cost: readonly number[], origin: number, alpha: number): number {
  const from = Math.max(0, origin - Math.ceil(10 / alpha));
  let level = cost[from]!;
  for (let i = from + 1; i <= origin; i++) level = alpha * cost[i]! + (1 - alpha) * level;
  return level;
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
      return cost[origin + h - 24 * Math.ceil(h / 24)]!;
    case 'seasonal_naive_168':
      return cost[origin + h - 168 * Math.ceil(h / 168)]!;
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
