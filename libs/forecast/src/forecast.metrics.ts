import { type MetricDefinition, registerMetrics, TAG } from '@app/telemetry';

/** Metrics of the cost forecaster (docs/telemetry.md, "Ledger and budgets"). */
export const FORECAST_METRICS = {
  forecastLatency: {
    name: 'ml.cost_forecast.latency_ms',
    type: 'distribution',
    unit: 'millisecond',
    tags: [TAG.kind],
    description:
      'Time to compute one cost forecast (features + model or baseline), ledger read excluded; kind: ml or baseline.',
  },
} as const satisfies Record<string, MetricDefinition>;

registerMetrics(FORECAST_METRICS);
