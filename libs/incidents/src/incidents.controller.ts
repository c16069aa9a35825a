import { Body, Controller, Get, HttpCode, Post, Query, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, OwnAuth, RequireScope, STORAGE_ERRORS, WEBHOOK_SECRET_SCHEME } from '@app/common';
import { CreateIncidentDto, CreateIncidentFromInsightDto } from './dto/create-incident.dto';
import { DatadogWebhookDto } from './dto/datadog-webhook.dto';
import {
  IncidentAnswerDto,
  IncidentsStatusDto,
  ListIncidentsQueryDto,
  ListIncidentsResponseDto,
  WebhookAnswerDto,
} from './dto/incident-response.dto';
import { IncidentAnswerStatusInterceptor } from './incident-answer-status.interceptor';
import { INCIDENTS_ERRORS } from './incidents.errors';
import { IncidentsService } from './incidents.service';
import { WebhookSecretGuard } from './webhook/webhook-secret.guard';

/** Incidents in Datadog, through a durable outbox (docs/incidents.md). */
@ApiTags('incidents')
@Controller('incidents')
export class IncidentsController {
  constructor(private readonly incidents: IncidentsService) {}

  /**
   * Opens an incident for a monitor alert, or updates the open incident of the same monitor within the dedupe
   * window. The request is written to the outbox first, then delivery is tried for up to 1.5 s: 201 when Datadog
   * created it (its id and link), 200 when the open incident was updated, 202 while it waits in the outbox (no id:
   * it is not in Datadog yet), or when Datadog refused it for good (`success: false`, `status: failed`).
   */
  @Post('create')
  @RequireScope('admin')
  @UseInterceptors(IncidentAnswerStatusInterceptor)
  @ApiOperation({ summary: 'Open (or deduplicate) an incident for a monitor alert' })
  @ApiCreatedResponse({ type: IncidentAnswerDto, description: 'Created in Datadog.' })
  @ApiOkResponse({ type: IncidentAnswerDto, description: 'Deduplicated: the open incident was updated in Datadog.' })
  @ApiAcceptedResponse({ type: IncidentAnswerDto, description: 'In the outbox, not in Datadog yet (or refused).' })
  @ApiProblems('VALIDATION_FAILED', STORAGE_ERRORS.DATABASE_UNAVAILABLE)
  createIncident(@Body() body: CreateIncidentDto): Promise<IncidentAnswerDto> {
    return this.incidents.create(body);
  }

  /**
   * Opens an incident for an ML insight: monitor `ML Insight: <insight_type>`, runbook "What failed / Why / Next"
   * (the recommendations, numbered). Same answers as `POST /incidents/create`.
   */
  @Post('create-from-insight')
  @RequireScope('admin')
  @UseInterceptors(IncidentAnswerStatusInterceptor)
  @ApiOperation({ summary: 'Open (or deduplicate) an incident for an ML insight' })
  @ApiCreatedResponse({ type: IncidentAnswerDto, description: 'Created in Datadog.' })
  @ApiOkResponse({ type: IncidentAnswerDto, description: 'Deduplicated: the open incident was updated in Datadog.' })
  @ApiAcceptedResponse({ type: IncidentAnswerDto, description: 'In the outbox, not in Datadog yet (or refused).' })
  @ApiProblems('VALIDATION_FAILED', STORAGE_ERRORS.DATABASE_UNAVAILABLE)
  createIncidentFromInsight(@Body() body: CreateIncidentFromInsightDto): Promise<IncidentAnswerDto> {
    return this.incidents.createFromInsight(body);
  }

  /** The incident manager's state and the shared outbox's counts and latest errors (the same on every replica). */
  @Get('status')
  @RequireScope('read')
  @ApiOperation({ summary: 'Incident manager status and outbox counts' })
  @ApiOkResponse({ type: IncidentsStatusDto })
  @ApiProblems(STORAGE_ERRORS.DATABASE_UNAVAILABLE)
  incidentsStatus(): Promise<IncidentsStatusDto> {
    return this.incidents.status();
  }

  /**
   * Outbox rows (creates and updates) with their Datadog incident when delivered, newest first, a page at a time:
   * pass `next_cursor` back as `cursor` for the next (older) page.
   */
  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: 'List outbox rows and delivered incidents, newest first' })
  @ApiOkResponse({ type: ListIncidentsResponseDto })
  @ApiProblems('VALIDATION_FAILED', STORAGE_ERRORS.DATABASE_UNAVAILABLE)
  listIncidents(@Query() query: ListIncidentsQueryDto): Promise<ListIncidentsResponseDto> {
    return this.incidents.list(query.limit ?? 50, query.state, query.cursor);
  }

  /**
   * Datadog's monitor webhook (Webhooks integration, custom payload in docs/incidents.md), authenticated by the
   * `X-Webhook-Secret` header (the `webhook-secret` security scheme of the OpenAPI document; not an API key). Triggered / Re-Triggered / No Data / Renotify open an incident (or update the open
   * one of the same monitor and group); Warn updates an open one only; Recovered resolves it.
   */
  @Post('webhook')
  @HttpCode(200)
  @UseGuards(WebhookSecretGuard)
  @OwnAuth(WEBHOOK_SECRET_SCHEME)
  @ApiOperation({ summary: 'Datadog monitor webhook: open, update or resolve the incident' })
  @ApiOkResponse({ type: WebhookAnswerDto })
  @ApiProblems(
    'VALIDATION_FAILED',
    INCIDENTS_ERRORS.WEBHOOK_UNAUTHORIZED,
    INCIDENTS_ERRORS.WEBHOOK_NOT_CONFIGURED,
    STORAGE_ERRORS.DATABASE_UNAVAILABLE,
  )
  incidentWebhook(@Body() body: DatadogWebhookDto): Promise<WebhookAnswerDto> {
    return this.incidents.webhook(body);
  }
}
