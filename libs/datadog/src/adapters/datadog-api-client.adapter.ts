import type { v1 } from '@datadog/datadog-api-client';
import type { AppConfig } from '@app/config';
import { DatadogApiPort, type MetricSeries, type MetricsQuery } from '../datadog-api.port';
import { DatadogApiError, describeSdkError, statusOfSdkError } from '../datadog.errors';
import { createSdkConfiguration } from './sdk-configuration';

/**
 * `DatadogApiPort` on `@datadog/datadog-api-client`, at DATADOG_API_URL (https://api.<DD_SITE> by default; a
 * loopback server in tests). The SDK is loaded on first use, not at boot (`createSdkConfiguration`).
 */
export class DatadogApiClientAdapter extends DatadogApiPort {
  readonly name = 'datadog';
  private metrics?: v1.MetricsApi;

  constructor(private readonly config: AppConfig) {
    super();
    if (!config.datadog.apiKey || !config.datadog.appKey) {
      throw new Error('DatadogApiClientAdapter needs DD_API_KEY and DD_APP_KEY');
    }
  }

  private async metricsApi(): Promise<v1.MetricsApi> {
    if (this.metrics) return this.metrics;
    const { sdk, configuration } = await createSdkConfiguration(this.config);
    this.metrics = new sdk.v1.MetricsApi(configuration);
    return this.metrics;
  }

  async queryMetrics({ query, from, to }: MetricsQuery): Promise<MetricSeries[]> {
    const api = await this.metricsApi();
    let response: v1.MetricsQueryResponse;
    try {
      response = await api.queryMetrics({ from: Math.floor(from / 1000), to: Math.floor(to / 1000) - 1, query });
    } catch (error) {
      const status = statusOfSdkError(error);
      throw new DatadogApiError('metrics query', describeSdkError(error, status), { cause: error, status });
    }
    if (response.status && response.status !== 'ok') {
      throw new DatadogApiError('metrics query', `${query}: ${response.error ?? response.status}`);
    }
    return (response.series ?? []).map((series) => ({
      metric: series.metric ?? '',
      tags: series.tagSet ?? series.scope?.split(',') ?? [],
      points: (series.pointlist ?? []).flatMap(([ts, value]) =>
        typeof ts === 'number' && typeof value === 'number' && Number.isFinite(value) ? [{ ts, value }] : [],
      ),
    }));
  }
}
