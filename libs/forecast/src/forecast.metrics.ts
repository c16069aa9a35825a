import { type MetricDefinition, TAG } from '@app/telemetry';

/** Metrics of the cost forecast and the budget outlook (docs/telemetry.md, "Ledger, budgets and forecasts"). */
export const FORECAST_METRICS = {
  forecastLatency: {
    name: 'ml.cost_forecast.latency_ms',
    type: 'distribution',
    unit: 'millisecond',
    tags: [TAG.kind],
    description:
      "Time to compute one cost forecast (features + model or baseline, the backtests on the history included), ledger read excluded; recorded when one is computed: a forecast is reused until the ledger's hourly history changes (a new hour closes, an import lands); kind: the method served (ml or a baseline).",
  },
  costForecast24h: {
    name: 'llm.cost.forecast_24h_usd',
    type: 'gauge',
    unit: 'dollar',
    tags: [TAG.kind],
    description: 'Forecast LLM cost of the next 24 hours; kind is ml or the baseline that served the forecast.',
  },
  budgetPredictedBreach: {
    name: 'llm.budget.predicted_breach',
    type: 'gauge',
    unit: 'flag',
    tags: [],
    description:
      '1 when spend so far plus the forecast for the rest of the UTC day reaches the budget and the forecast has a validated confidence (> 0), else 0.',
  },
} as const satisfies Record<string, MetricDefinition>;
