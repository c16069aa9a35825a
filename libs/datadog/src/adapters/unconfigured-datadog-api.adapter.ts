import { DatadogApiPort, type MetricSeries } from '../datadog-api.port';
import { DatadogApiError } from '../datadog.errors';

/** The local default without DD_API_KEY and DD_APP_KEY: every call is refused, saying what to configure. */
export class UnconfiguredDatadogApi extends DatadogApiPort {
  readonly name = 'unconfigured';

  queryMetrics(): Promise<MetricSeries[]> {
    return Promise.reject(
      new DatadogApiError(
        'metrics query',
        'needs DD_API_KEY and DD_APP_KEY (and DD_SITE or DATADOG_API_URL); none are configured',
      ),
    );
  }
}
