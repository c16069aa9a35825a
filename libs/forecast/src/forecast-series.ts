import { HOUR_MS, hourStart } from '@app/common';
import { type HourlyUsage } from '@app/ledger';
import type { HourlySeries } from '@app/ml';

/**
 * Complete hours without usage after the last hour with usage before the forecast's input is stale: a full
 * day without a single call. A forecast from it then starts from hours the ledger holds no usage for (a
 * service idle that long, or a ledger whose import stops in the past), not from the data its confidence was
 * measured on.
 */
export const STALE_AFTER_HOURS = 24;

/** Sums hourly rows (any grouping) into a zero-filled series over [from, to). */
export function seriesFromHourly(rows: readonly HourlyUsage[], from: number, to: number, source: string): HourlySeries {
  const start = hourStart(from);
  const n = Math.max(0, Math.ceil((to - start) / HOUR_MS));
  const cost = new Array<number>(n).fill(0);
  const requests = new Array<number>(n).fill(0);
  for (const row of rows) {
    const i = Math.round((row.hour - start) / HOUR_MS);
    if (i < 0 || i >= n) continue;
    cost[i]! += row.costUsd;
    requests[i]! += row.requests;
  }
  return { start, cost, requests, source };
}

const hasUsage = (series: HourlySeries, i: number): boolean => series.cost[i]! > 0 || series.requests[i]! > 0;

/** Start of the series' last hour with usage (cost or requests), or null when it has none. */
export function lastObservedHour(series: HourlySeries): number | null {
  for (let i = series.cost.length - 1; i >= 0; i--) if (hasUsage(series, i)) return series.start + i * HOUR_MS;
  return null;
}

/** The latest hour with usage among hourly rows (any grouping), or null. */
export function lastHourWithUsage(rows: readonly HourlyUsage[]): number | null {
  let last: number | null = null;
  for (const r of rows) if ((r.costUsd > 0 || r.requests > 0) && (last === null || r.hour > last)) last = r.hour;
  return last;
}

/** Complete hours between the hour starting at `lastObserved` and the current hour of `now`: 0 when fresh. */
export function hoursWithoutUsage(lastObserved: number, now: number): number {
  return Math.max(0, Math.round((hourStart(now) - lastObserved) / HOUR_MS) - 1);
}

/** Drops leading hours without any usage (a ledger's history before its first call). */
export function trimLeadingEmpty(series: HourlySeries): HourlySeries {
  const first = series.cost.findIndex((c, i) => c > 0 || series.requests[i]! > 0);
  if (first <= 0) return first < 0 ? { ...series, cost: [], requests: [] } : series;
  return {
    ...series,
    start: series.start + first * HOUR_MS,
    cost: series.cost.slice(first),
    requests: series.requests.slice(first),
  };
}

/**
 * Drops the hours without usage at both ends: before the first hour with usage (no history yet) and after the
 * last one (a ledger or file that stops in the past: a gap, not hours that cost $0). The training series.
 */
export function trimEmptyEnds(series: HourlySeries): HourlySeries {
  const leading = trimLeadingEmpty(series);
  const last = lastObservedHour(leading);
  if (last === null) return leading;
  const n = Math.round((last - leading.start) / HOUR_MS) + 1;
  if (n === leading.cost.length) return leading;
  return { ...leading, cost: leading.cost.slice(0, n), requests: leading.requests.slice(0, n) };
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(':00:00.000Z', ':00Z');

/**
 * "usage covers A → B (N hours)", and the hours without usage from then to `now` when there are any: how
 * training names the span it trains on and the gap it does not.
 */
export function describeCoverage(series: HourlySeries, now: number): { text: string; gapHours: number } {
  const n = series.cost.length;
  if (n === 0) return { text: 'no usage', gapHours: 0 };
  const lastHour = series.start + (n - 1) * HOUR_MS;
  const gapHours = hoursWithoutUsage(lastHour, now);
  const span = `usage covers ${iso(series.start)} → ${iso(lastHour + HOUR_MS)} (${n} hours, ${(n / 24).toFixed(1)} days)`;
  return {
    text:
      gapHours > 0
        ? `${span}, then none in the ${gapHours} hours (${(gapHours / 24).toFixed(1)} days) up to now`
        : span,
    gapHours,
  };
}
