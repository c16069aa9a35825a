// The Datadog API lib's public surface: its module, the ports, their types and errors, and the factory that
// command-line tools use outside Nest.
export { DatadogModule, createDatadogApi } from './datadog.module';
export { DatadogApiPort, type MetricSeries, type MetricsQuery } from './datadog-api.port';
export { DatadogApiError, isRetryableStatus } from './datadog.errors';
export {
  DatadogIncidentsPort,
  INCIDENT_CONTEXT_FIELDS,
  INCIDENT_SEVERITIES,
  type IncidentCallOptions,
  type IncidentContext,
  type IncidentContextField,
  type DeliveredIncident,
  type IncidentLink,
  type IncidentRequest,
  type IncidentSeverity,
  type IncidentUpdate,
  type IncidentUpdateResult,
} from './incidents/datadog-incidents.port';
export {
  renderJsonTemplate,
  renderTemplate,
  placeholdersOf,
  TEMPLATE_PLACEHOLDER,
  UnresolvedPlaceholderError,
  type TemplateResolver,
} from './resource-template';
export {
  DatadogIntegrationsPort,
  type CreatedNotebook,
  type CreatedSyntheticTest,
  type DatadogPayload,
  type StartedWorkflowInstance,
  type ApiKeyValidation,
} from './integrations/datadog-integrations.port';
export {
  DATADOG_INTEGRATION_ERRORS,
  DatadogRequestError,
  type DatadogFailureKind,
} from './integrations/datadog-integrations.errors';
export {
  CreateNotebookDto,
  CreateSyntheticTestDto,
  DatadogProductDto,
  DatadogProductsDto,
  NotebookCreatedDto,
  SyntheticTestCreatedDto,
  TriggerWorkflowDto,
  WorkflowTriggeredDto,
} from './integrations/dto/datadog-integrations.dto';
export {
  DatadogResourcesPort,
  ResourcePayloadChecker,
  type ExistingResource,
} from './resources/datadog-resources.port';
export {
  MANAGED_TAG,
  REFERENCE_KINDS,
  RESOURCE_DIRECTORIES,
  RESOURCE_KINDS,
  kindOf,
  nameOf,
  type ResourceKind,
} from './resources/resource-kinds';
export {
  loadResourceFiles,
  referenceOf,
  resourceId,
  type ResourceFile,
  type UnreadableResourceFile,
} from './resources/resource-files';
export { differences } from './resources/resource-diff';
export {
  applyOrder,
  applyResources,
  resourceContextOf,
  type ApplyOptions,
  type PlanAction,
  type PlanEntry,
  type ResourceContext,
} from './resources/resource-apply';
export { createDatadogResources, createResourcePayloadChecker } from './resources/resources.factory';
