// The Datadog API lib's public surface: its module, the port, its types and errors, and the factory that
// command-line tools use outside Nest.
export { DatadogModule, createDatadogApi } from './datadog.module';
export { DatadogApiPort, type MetricSeries, type MetricsQuery } from './datadog-api.port';
export { DatadogApiError } from './datadog.errors';
