import type { HourlyUsage } from '../usage-record';

/**
 * Port: hourly usage history from a metrics backend (the service's own `llm.cost.usd`, `llm.request.count`
 * and token series), for importing into the ledger. Real adapter: Datadog's metrics query API. Without
 * Datadog keys the local default refuses with a clear message (there is nothing to pull).
 */
export abstract class UsageMetricsSource {
  abstract readonly name: string;
  /** Hourly rows (one per hour and model) in [from, to), epoch ms. */
  abstract hourlyUsage(from: number, to: number): Promise<HourlyUsage[]>;
}

/** The default without DD_API_KEY/DD_APP_KEY. */
export class UnconfiguredUsageMetricsSource extends UsageMetricsSource {
  readonly name = 'none';
  hourlyUsage(): Promise<HourlyUsage[]> {
    return Promise.reject(
      new Error('Datadog import needs DD_API_KEY and DD_APP_KEY (and DD_SITE or DATADOG_API_URL); none are configured'),
    );
  }
}
