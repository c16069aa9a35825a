// The telemetry lib's public surface (the design card's "telemetry": metrics, logs, traces): its module, the
// ports other libs depend on, the interceptor's decorators, the metric catalogue and the readiness registry.
// The adapters (hot-shots, dd-trace) stay inside; the boot code reaches `dd-trace.init` by path.
export { TelemetryModule, type TelemetryOptions } from './telemetry.module';
export { MetricsPort, formatTags, tagValue, type MetricsHealth, type Tags } from './metrics/metrics.port';
export { InMemoryMetrics, type RecordedMetric } from './metrics/in-memory-metrics';
export * from './metrics/metric-catalog';
export { renderMetricsTable, withMetricsTable, METRICS_TABLE_START, METRICS_TABLE_END } from './metrics/metric-docs';
export * from './tracing/tracer.port';
export { LogSanitizer, REDACTION_MARGIN_CHARS } from './logging/log-sanitizer';
export { ReadinessRegistry, type DependencyStatus, type ReadinessCheckFn } from './health/readiness.registry';
export * from './interceptors/skip-telemetry.decorator';
export { RequestTelemetry, type HttpLogFields, type RequestOutcome } from './interceptors/request-telemetry.service';
export { TelemetryInterceptor } from './interceptors/telemetry.interceptor';
