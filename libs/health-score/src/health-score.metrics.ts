import type { MetricDefinition } from '@app/telemetry';

/** Tag keys of the health gauges (bounded: fixed names, models of the configured chain, the LLM endpoints). */
export const HEALTH_TAG = {
  window: 'window',
  scope: 'scope',
  component: 'component',
  model: 'model',
  endpoint: 'endpoint',
} as const;

/** The health score's gauges (docs/health-score.md). */
export const HEALTH_METRICS = {
  score: {
    name: 'llm.health.score',
    type: 'gauge',
    unit: 'score',
    tags: [HEALTH_TAG.window, HEALTH_TAG.scope, HEALTH_TAG.model, HEALTH_TAG.endpoint],
    description:
      'LLM health score 0-100 over the window (5m, 1h) from the shared ledger; scope overall, model (the configured chain and, while the router is at work, ROUTER_CANDIDATES) or endpoint; not sent for a window with no calls.',
  },
  componentScore: {
    name: 'llm.health.component_score',
    type: 'gauge',
    unit: 'score',
    tags: [HEALTH_TAG.window, HEALTH_TAG.component],
    description:
      'One component of the overall health score, 0-100: performance, reliability, cost, quality or security; not sent when it has no data.',
  },
} as const satisfies Record<string, MetricDefinition>;
