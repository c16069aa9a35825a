import { HOUR_MS, hourStart } from '@app/common';
import type { AppConfig } from '@app/config';
import type { DatadogApiPort } from '@app/datadog';
import {
  ANY,
  emptyHourly,
  FRACTIONAL_HOURLY_MEASURES,
  HOURLY_MEASURES,
  type HourlyMeasure,
  type HourlyUsage,
} from '../usage-record';
import { UsageMetricsSource, type UsageMetricsOptions } from './usage-metrics-source.port';

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

/**
 * The distributions read for attribution: `<aggregator>:<metric>{scope}` summed per hour (`sum:` of a distribution is
 * the sum of its values, `count:` their number).
 */
export const DATADOG_ATTRIBUTION_SERIES: readonly {
  aggregator: 'sum' | 'count';
  metric: string;
  measure: HourlyMeasure;
}[] = [
  { aggregator: 'sum', metric: 'llm.request.latency_ms', measure: 'latencyMsSum' },
  { aggregator: 'sum', metric: 'llm.quality.score', measure: 'qualitySum' },
  { aggregator: 'count', metric: 'llm.quality.score', measure: 'qualityCount' },
];

/** The counts (requests, errors, tokens...): whole numbers in the ledger, whatever Datadog sums them to. */
const COUNT_MEASURES = HOURLY_MEASURES.filter((m) => !FRACTIONAL_HOURLY_MEASURES.has(m));

/** Longest window per query: 30 days of hourly points (720) stays well under the API's point limit. */
const WINDOW_MS = 30 * 24 * HOUR_MS;

/**
 * Hourly usage from the service's own metrics in Datadog, per model, scoped to this service and env, through
 * `DatadogApiPort` (libs/datadog). Queries: `sum:<metric>{service:S,env:E} by {model}.as_count().rollup(sum, 3600)`
 * for the counts, `sum:`/`count:` of the latency and quality distributions with `.rollup(sum, 3600)`; grouped by
 * one dimension (`model`, `provider`, `endpoint`: tags of every llm.* metric) or not at all. Without Datadog keys
 * the port refuses, saying which keys are missing.
 */
export class DatadogUsageMetricsSource extends UsageMetricsSource {
  readonly name = 'datadog';
  readonly configured: boolean;
  private readonly scope: string;

  constructor(
    private readonly datadog: DatadogApiPort,
    config: AppConfig,
  ) {
    super();
    this.scope = `service:${config.service.name},env:${config.service.env}`;
    this.configured = datadog.name === 'datadog';
  }

  async hourlyUsage(from: number, to: number, options: UsageMetricsOptions = {}): Promise<HourlyUsage[]> {
    const groupBy = options.groupBy === undefined ? 'model' : options.groupBy;
    const by = groupBy ? ` by {${groupBy}}` : '';
    const queries = DATADOG_USAGE_SERIES.map(({ metric, measure }) => ({
      query: `sum:${metric}{${this.scope}}${by}.as_count().rollup(sum, 3600)`,
      measure,
    }));
    if (options.latencyAndQuality) {
      for (const { aggregator, metric, measure } of DATADOG_ATTRIBUTION_SERIES) {
        queries.push({ query: `${aggregator}:${metric}{${this.scope}}${by}.rollup(sum, 3600)`, measure });
      }
    }
    const rows = new Map<string, HourlyUsage>();
    for (let start = hourStart(from); start < to; start += WINDOW_MS) {
      const end = Math.min(to, start + WINDOW_MS);
      for (const { query, measure } of queries) {
        for (const series of await this.datadog.queryMetrics({ query, from: start, to: end })) {
          const tag = groupBy ? series.tags.find((t) => t.startsWith(`${groupBy}:`)) : undefined;
          const value = tag ? tag.slice(groupBy!.length + 1) : ANY;
          for (const point of series.points) {
            const hour = hourStart(point.ts);
            if (hour < from || hour >= to) continue;
            const key = `${hour}|${value}`;
            const row =
              rows.get(key) ??
              emptyHourly(
                hour,
                groupBy === 'endpoint' ? value : ANY,
                groupBy === 'provider' ? value : ANY,
                groupBy === 'model' ? value : ANY,
              );
            row[measure] += point.value;
            rows.set(key, row);
          }
        }
      }
    }
    // A count's hourly sum can come back fractional (a DogStatsD sample rate below 1 scales each point; the query
    // API's float arithmetic gives 9.999999): the ledger and the answers built on it (`requests`, `*_tokens`:
    // `type: integer`) hold whole counts, as the file import rounds them.
    for (const row of rows.values()) for (const measure of COUNT_MEASURES) row[measure] = Math.round(row[measure]);
    // The latency's mean is over `llm.request.count` (docs/insights.md, source datadog): the calls of an hour that
    // has a latency sum.
    for (const row of rows.values()) row.latencyCount = row.latencyMsSum > 0 ? row.requests : 0;
    const label = (r: HourlyUsage): string => `${r.endpoint}|${r.provider}|${r.model}`;
    return [...rows.values()].sort((a, b) => a.hour - b.hour || label(a).localeCompare(label(b)));
  }
}
