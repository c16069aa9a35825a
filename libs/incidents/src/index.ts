// The incidents lib's public surface: its module, the service, the store port, DTOs, errors and metrics.
export { IncidentsModule } from './incidents.module';
export { IncidentsService } from './incidents.service';
export { IncidentOutboxStore, type IncidentOutboxKind } from './outbox/incident-outbox.port';
export {
  OUTBOX_STATES,
  OUTBOX_KINDS,
  type OutboxEntry,
  type OutboxKind,
  type OutboxState,
  type OutboxStats,
} from './outbox/outbox.types';
export { RunbookCatalog, type Runbook } from './runbooks/runbook-catalog';
export { INCIDENTS_ERRORS } from './incidents.errors';
export { INCIDENT_METRICS } from './incidents.metrics';
export { CreateIncidentDto, CreateIncidentFromInsightDto } from './dto/create-incident.dto';
export { DatadogWebhookDto } from './dto/datadog-webhook.dto';
export {
  IncidentAnswerDto,
  IncidentSummaryDto,
  IncidentsStatusDto,
  ListIncidentsQueryDto,
  ListIncidentsResponseDto,
  OutboxEntryDto,
  WebhookAnswerDto,
} from './dto/incident-response.dto';
