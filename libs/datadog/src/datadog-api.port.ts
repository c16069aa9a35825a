/** One metrics query over a time range (epoch ms, `to` exclusive). */
export interface MetricsQuery {
  /** A Datadog metrics query, e.g. `sum:llm.cost.usd{service:s,env:e} by {model}.as_count().rollup(sum, 3600)`. */
  query: string;
  from: number;
  to: number;
}

/** One series of a metrics query's answer: its tags (`key:value`) and its points. */
export interface MetricSeries {
  metric: string;
  tags: readonly string[];
  /** Points in time order; `ts` in epoch ms. Points without a finite value are left out. */
  points: readonly { ts: number; value: number }[];
}

/**
 * Port: everything the control plane asks of the Datadog REST API. Only the adapter in this lib talks to
 * Datadog (through `@datadog/datadog-api-client`); the ledger's import, and later health, insights and
 * incidents, depend on this port. Without keys the local default refuses each call with a clear message.
 */
export abstract class DatadogApiPort {
  /** `datadog` when keys are configured, `unconfigured` otherwise. */
  abstract readonly name: 'datadog' | 'unconfigured';
  /** Runs a metrics query (v1 `GET /api/v1/query`). */
  abstract queryMetrics(query: MetricsQuery): Promise<MetricSeries[]>;
}
