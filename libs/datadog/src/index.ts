// The Datadog API lib's public surface: its module, the ports, their types and errors, and the factory that
// command-line tools use outside Nest.
export { DatadogModule, createDatadogApi } from './datadog.module';
export { DatadogApiPort, type MetricSeries, type MetricsQuery } from './datadog-api.port';
export { DatadogApiError, isRetryableStatus } from './datadog.errors';
export {
  DatadogIncidentsPort,
  INCIDENT_SEVERITIES,
  type DeliveredIncident,
  type IncidentLink,
  type IncidentRequest,
  type IncidentSeverity,
  type IncidentUpdate,
} from './incidents/datadog-incidents.port';
export {
  renderJsonTemplate,
  renderTemplate,
  placeholdersOf,
  TEMPLATE_PLACEHOLDER,
  UnresolvedPlaceholderError,
  type TemplateResolver,
} from './resource-template';
