import { HOUR_MS, hourStart } from '@app/common';
import type { v1 } from '@datadog/datadog-api-client';
import type { AppConfig } from '@app/config';
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
 * Pulls hourly usage from Datadog's v1 metrics query API (`GET /api/v1/query`), per model, scoped to this
 * service and env. Queries: `sum:<metric>{service:S,env:E} by {model}.as_count().rollup(sum, 3600)`.
 */
export class DatadogUsageMetricsAdapter extends UsageMetricsSource {
  readonly name = 'datadog';
  private api?: v1.MetricsApi;
  private readonly scope: string;

  constructor(private readonly config: AppConfig) {
    super();
    if (!config.datadog.apiKey || !config.datadog.appKey) {
      throw new Error('DatadogUsageMetricsAdapter needs DD_API_KEY and DD_APP_KEY');
    }
    this.scope = `service:${config.service.name},env:${config.service.env}`;
  }

  /** The SDK is loaded on first use, not at boot (it is large: about 40% of the boot CPU when eager). */
  private async metricsApi(): Promise<v1.MetricsApi> {
    if (this.api) return this.api;
    const { client, v1: api } = await import('@datadog/datadog-api-client');
    const { apiKey, appKey, apiUrl } = this.config.datadog;
    const configuration = client.createConfiguration({
      authMethods: { apiKeyAuth: apiKey?.reveal() ?? '', appKeyAuth: appKey?.reveal() ?? '' },
      baseServer: new client.BaseServerConfiguration(apiUrl, {}),
      enableRetry: true,
      maxRetries: 2,
    });
    this.api = new api.MetricsApi(configuration);
    return this.api;
  }

  async hourlyUsage(from: number, to: number): Promise<HourlyUsage[]> {
    const metricsApi = await this.metricsApi();
    const rows = new Map<string, HourlyUsage>();
    for (let start = hourStart(from); start < to; start += WINDOW_MS) {
      const end = Math.min(to, start + WINDOW_MS);
      for (const { metric, measure } of DATADOG_USAGE_SERIES) {
        const query = `sum:${metric}{${this.scope}} by {model}.as_count().rollup(sum, 3600)`;
        const response = await metricsApi.queryMetrics({
          from: Math.floor(start / 1000),
          to: Math.floor(end / 1000) - 1,
          query,
        });
        if (response.status && response.status !== 'ok') {
          throw new Error(`Datadog metrics query failed for ${metric}: ${response.error ?? response.status}`);
        }
        for (const series of response.series ?? []) {
          const modelTag = (series.tagSet ?? series.scope?.split(',') ?? []).find((t) => t.startsWith('model:'));
          const model = modelTag ? modelTag.slice('model:'.length) : ANY;
          for (const point of series.pointlist ?? []) {
            const [ts, value] = point;
            if (typeof ts !== 'number' || typeof value !== 'number' || !Number.isFinite(value)) continue;
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
