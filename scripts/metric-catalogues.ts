/**
 * Every library's metric catalogue, listed by name: the docs generator (npm run docs:telemetry) and the catalogue
 * test (test/telemetry-catalog.spec.ts) read them here. A library that defines metrics adds its catalogue to this
 * list; the test fails when a `*_METRICS` catalogue under libs/ is missing from it.
 */
import { FORECAST_METRICS } from '../libs/forecast/src/forecast.metrics';
import { HEALTH_METRICS } from '../libs/health-score/src/health-score.metrics';
import { INCIDENT_METRICS } from '../libs/incidents/src/incidents.metrics';
import { LEDGER_METRICS } from '../libs/ledger/src/ledger.metrics';
import { LLM_METRICS } from '../libs/llm/src/instrumentation/llm-metrics';
import { ML_METRICS } from '../libs/ml/src/ml.metrics';
import { SECURITY_METRICS } from '../libs/security/src/security.metrics';
import { type MetricDefinition, METRICS, metricsOf } from '../libs/telemetry/src/metrics/metric-catalog';

export const METRIC_CATALOGUES = {
  METRICS,
  LLM_METRICS,
  ML_METRICS,
  LEDGER_METRICS,
  FORECAST_METRICS,
  HEALTH_METRICS,
  INCIDENT_METRICS,
  SECURITY_METRICS,
} as const satisfies Record<string, Record<string, MetricDefinition>>;

/** Every metric the service emits, sorted by name. */
export function allMetrics(): MetricDefinition[] {
  return metricsOf(Object.values(METRIC_CATALOGUES));
}
