import { HOUR_MS, hourStart } from '@app/common';
import { type HourlyUsage } from '@app/ledger';
import type { HourlySeries } from '@app/ml';

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
