import type { HourlyUsage, UsageDimension } from '../usage-record';

/** What to read: one dimension to group by (null: totals), and whether latency and quality sums are wanted. */
export interface UsageMetricsOptions {
  /** Default `model`. */
  groupBy?: UsageDimension | null;
  /** Also fill `latencyMsSum`, `qualitySum` and `qualityCount` (from the distributions); default false. */
  latencyAndQuality?: boolean;
}

/**
 * Port: hourly usage history from a metrics backend (the service's own `llm.cost.usd`, `llm.request.count`
 * and token series), for importing into the ledger and for anomaly attribution from Datadog. Implemented over
 * Datadog's metrics query API (`DatadogUsageMetricsSource`, through libs/datadog's `DatadogApiPort`, which refuses
 * clearly without keys).
 */
export abstract class UsageMetricsSource {
  abstract readonly name: string;
  /** False when the backend is not configured (no keys): every read would be refused. */
  abstract readonly configured: boolean;
  /** Hourly rows (one per hour and group) in [from, to), epoch ms. */
  abstract hourlyUsage(from: number, to: number, options?: UsageMetricsOptions): Promise<HourlyUsage[]>;
}
