import { HOUR_MS, hourStart } from '@app/common';
import type { AppConfig } from '@app/config';
import type { DatadogApiPort } from '@app/datadog';
import { ANY, emptyHourly, type HourlyMeasure, type HourlyUsage } from '../usage-record';
import { UsageMetricsSource } from './usage-metrics-source.port';

/** The series pulled, and the hourly measure each fills. All are counts, summed per hour. */
export const DATADOG_USAGE_SERIES: readonly { metric: string; measure: HourlyMeasure }[] = [
  { metric: 'llm.cost.usd', measure: 'costUsd' },
  { metric: 'llm.request.count', measure: 'requests' },
  { metric: 'llm.error.count', measure: 'errors' },
  { metric: 'llm.tokens.input', measure: 'inputTokens' },
  { metric: 'llm.tokens.output', measure: 'outputTokens' },
  { metric: 'llm.tokens.cached', measure: 'cachedTokens' },
  { metric: 'llm.tokens.reasoning', measure: 'reasoningTokens' },
];

/** Longest window per query: 30 days of hourly points (720) stays well under the API's point limit. */
const WINDOW_MS = 30 * 24 * HOUR_MS;

/**
 * Hourly usage from the service's own metrics in Datadog, per model, scoped to this service and env, through
 * `DatadogApiPort` (libs/datadog). Queries: `sum:<metric>{service:S,env:E} by {model}.as_count().rollup(sum, 3600)`.
 * Without Datadog keys the port refuses, saying which keys are missing.
 */
export class DatadogUsageMetricsSource extends UsageMetricsSource {
  readonly name = 'datadog';
  private readonly scope: string;

  constructor(
    private readonly datadog: DatadogApiPort,
    config: AppConfig,
  ) {
    super();
    this.scope = `service:${config.service.name},env:${config.service.env}`;
  }

  async hourlyUsage(from: number, to: number): Promise<HourlyUsage[]> {
    const rows = new Map<string, HourlyUsage>();
    for (let start = hourStart(from); start < to; start += WINDOW_MS) {
      const end = Math.min(to, start + WINDOW_MS);
      for (const { metric, measure } of DATADOG_USAGE_SERIES) {
        const query = `sum:${metric}{${this.scope}} by {model}.as_count().rollup(sum, 3600)`;
        for (const series of await this.datadog.queryMetrics({ query, from: start, to: end })) {
          const modelTag = series.tags.find((t) => t.startsWith('model:'));
          const model = modelTag ? modelTag.slice('model:'.length) : ANY;
          for (const { ts, value } of series.points) {
            const hour = hourStart(ts);
            if (hour < from || hour >= to) continue;
            const key = `${hour}|${model}`;
            const row = rows.get(key) ?? emptyHourly(hour, ANY, ANY, model);
            row[measure] += value;
            rows.set(key, row);
          }
        }
      }
    }
    return [...rows.values()].sort((a, b) => a.hour - b.hour || a.model.localeCompare(b.model));
  }
}
