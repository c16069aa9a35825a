import type { HourlyUsage } from '../usage-record';

/**
 * Port: hourly usage history from a metrics backend (the service's own `llm.cost.usd`, `llm.request.count`
 * and token series), for importing into the ledger. Implemented over Datadog's metrics query API
 * (`DatadogUsageMetricsSource`, through libs/datadog's `DatadogApiPort`, which refuses clearly without keys).
 */
export abstract class UsageMetricsSource {
  abstract readonly name: string;
  /** Hourly rows (one per hour and model) in [from, to), epoch ms. */
  abstract hourlyUsage(from: number, to: number): Promise<HourlyUsage[]>;
}
