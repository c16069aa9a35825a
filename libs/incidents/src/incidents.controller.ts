import { Body, Controller, Get, HttpCode, Post, Query, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import {
  ApiProblems,
  OwnAuth,
  RequestValidationError,
  RequireScope,
  requestPrincipal,
  STORAGE_ERRORS,
  WEBHOOK_SECRET_SCHEME,
} from '@app/common';
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
import { IncidentsService, type RequestIdempotency } from './incidents.service';
import { WebhookSecretGuard } from './webhook/webhook-secret.guard';

/** The longest `Idempotency-Key` taken. */
export const MAX_IDEMPOTENCY_KEY_CHARS = 255;

/** What an `Idempotency-Key` may hold: printable ASCII, no spaces (the OpenAPI document declares the same pattern). */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]+$/;

const IDEMPOTENCY_HEADER = {
  name: 'Idempotency-Key',
  required: false,
  description:
    "Makes a retry safe: a repeat with the same key and body (from the same API key) records nothing and answers the first request's incident, with `replayed: true` and the `Idempotent-Replayed: true` header; the same key with another body is a 422 `IDEMPOTENCY_KEY_REUSED`. 1 to 255 printable ASCII characters, no spaces (a UUID).",
  schema: { type: 'string', minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY_CHARS, pattern: IDEMPOTENCY_KEY.source },
};

type HeaderRequest = { headers: Record<string, string | string[] | undefined> };

/** The request's `Idempotency-Key`, checked (a 400 naming the header), with the API key that sent it; none: undefined. */
export function idempotencyOf(request: HeaderRequest): RequestIdempotency | undefined {
  const value = request.headers['idempotency-key'];
  if (value === undefined) return undefined;
  const bad = (reason: string): RequestValidationError =>
    new RequestValidationError([{ field: 'Idempotency-Key', reason }]);
  if (Array.isArray(value)) throw bad('sent more than once');
  if (value.length === 0 || value.length > MAX_IDEMPOTENCY_KEY_CHARS) {
    throw bad(`must be 1 to ${MAX_IDEMPOTENCY_KEY_CHARS} characters (got ${value.length})`);
  }
  if (!IDEMPOTENCY_KEY.test(value)) throw bad('must be printable ASCII without spaces (a UUID, for instance)');
  return { key: value, principal: requestPrincipal(request) };
}

/** Incidents in Datadog, through a durable outbox (docs/incidents.md). */
@ApiTags('incidents')
@Controller('incidents')
export class IncidentsController {
  constructor(private readonly incidents: IncidentsService) {}

  /**
   * Opens an incident for a monitor alert, or updates the open incident of the same monitor within the dedupe
   * window. The request is written to the outbox first, then delivery is tried for up to 1.5 s: 201 when Datadog
   * created it (its id and link), 200 when the open incident was updated, 202 while it waits in the outbox (no id:
   * it is not in Datadog yet), or when Datadog refused it for good (`success: false`, `status: failed`). With an
   * `Idempotency-Key`, a retry answers the first request's incident instead of recording the alert again.
   */
  @Post('create')
  @RequireScope('admin')
  @UseInterceptors(IncidentAnswerStatusInterceptor)
  @ApiOperation({ summary: 'Open (or deduplicate) an incident for a monitor alert' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiCreatedResponse({ type: IncidentAnswerDto, description: 'Created in Datadog.' })
  @ApiOkResponse({ type: IncidentAnswerDto, description: 'Deduplicated: the open incident was updated in Datadog.' })
  @ApiAcceptedResponse({ type: IncidentAnswerDto, description: 'In the outbox, not in Datadog yet (or refused).' })
  @ApiProblems(
    'VALIDATION_FAILED',
    INCIDENTS_ERRORS.IDEMPOTENCY_KEY_REUSED,
    INCIDENTS_ERRORS.INCIDENTS_BACKLOG_FULL,
    STORAGE_ERRORS.DATABASE_UNAVAILABLE,
  )
  createIncident(@Body() body: CreateIncidentDto, @Req() request: HeaderRequest): Promise<IncidentAnswerDto> {
    return this.incidents.create(body, idempotencyOf(request));
  }

  /**
   * Opens an incident for an ML insight: monitor `ML Insight: <insight_type>`, runbook "What failed / Why / Next"
   * (the recommendations, numbered). Same answers as `POST /incidents/create`.
   */
  @Post('create-from-insight')
  @RequireScope('admin')
  @UseInterceptors(IncidentAnswerStatusInterceptor)
  @ApiOperation({ summary: 'Open (or deduplicate) an incident for an ML insight' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiCreatedResponse({ type: IncidentAnswerDto, description: 'Created in Datadog.' })
  @ApiOkResponse({ type: IncidentAnswerDto, description: 'Deduplicated: the open incident was updated in Datadog.' })
  @ApiAcceptedResponse({ type: IncidentAnswerDto, description: 'In the outbox, not in Datadog yet (or refused).' })
  @ApiProblems(
    'VALIDATION_FAILED',
    INCIDENTS_ERRORS.IDEMPOTENCY_KEY_REUSED,
    INCIDENTS_ERRORS.INCIDENTS_BACKLOG_FULL,
    STORAGE_ERRORS.DATABASE_UNAVAILABLE,
  )
  createIncidentFromInsight(
    @Body() body: CreateIncidentFromInsightDto,
    @Req() request: HeaderRequest,
  ): Promise<IncidentAnswerDto> {
    return this.incidents.createFromInsight(body, idempotencyOf(request));
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
    INCIDENTS_ERRORS.INCIDENTS_BACKLOG_FULL,
    STORAGE_ERRORS.DATABASE_UNAVAILABLE,
  )
  incidentWebhook(@Body() body: DatadogWebhookDto): Promise<WebhookAnswerDto> {
    return this.incidents.webhook(body);
  }
}
