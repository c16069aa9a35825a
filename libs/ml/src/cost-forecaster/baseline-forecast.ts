import { HOUR_MS } from '@app/common';
import { baselineForecast, MAX_HORIZON } from './forecast-features';
import type { CostForecast, HourlySeries } from './forecast.types';

/**
 * Forecast without any trained card (no artifacts under MODELS_DIR): seasonal-naive 24 h with a day of
 * history, else EWMA (α 0.3), else zero. No interval and confidence 0: there is no validation to base them on.
 */
export function untrainedForecast(series: HourlySeries, hours: number, why: string): CostForecast {
  const n = series.cost.length;
  const horizon = Math.max(1, Math.min(MAX_HORIZON, Math.floor(hours)));
  const method = n >= 24 ? 'seasonal_naive_24' : 'ewma';
  const points = Array.from({ length: horizon }, (_, i) =>
    n === 0 ? 0 : baselineForecast(method, series.cost, n - 1, i + 1, 0.3),
  );
  return {
    method,
    hours: points.map((p, i) => ({ hour: series.start + (n + i) * HOUR_MS, costUsd: p, lowerUsd: p, upperUsd: p })),
    validation: null,
    confidence: 0,
    reason: `${why}; serving ${method} without validation`,
  };
}
