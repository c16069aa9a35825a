import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DomainError } from '@app/common';
import { AppConfig } from '@app/config';
import { DatadogIncidentsPort } from '@app/datadog';
import { formatTags, MetricsPort } from '@app/telemetry';
import { clip, dashboardName, type IncidentAlert, IncidentContentBuilder } from './content/incident-content';
import type { CreateIncidentDto, CreateIncidentFromInsightDto } from './dto/create-incident.dto';
import type { DatadogWebhookDto } from './dto/datadog-webhook.dto';
import { decodeIncidentCursor, encodeIncidentCursor } from './dto/incident-cursor';
import type {
  IncidentAnswerDto,
  IncidentsStatusDto,
  IncidentSummaryDto,
  ListIncidentsResponseDto,
  OutboxEntryDto,
  WebhookAnswerDto,
} from './dto/incident-response.dto';
import { IncidentDeliveryWorker } from './delivery/incident-delivery.worker';
import { INCIDENTS_ERRORS } from './incidents.errors';
import { INCIDENT_METRICS } from './incidents.metrics';
import { IncidentOutboxStore } from './outbox/incident-outbox.port';
import type {
  AlertEvent,
  AlertMode,
  IdempotencyRecord,
  OutboxEntry,
  OutboxState,
  RecordOutcome,
} from './outbox/outbox.types';
import { RunbookCatalog } from './runbooks/runbook-catalog';
import {
  eventTimeOf,
  groupOf,
  messageOf,
  monitorNameOf,
  parseTags,
  severityOf,
  tagValue,
  transitionOf,
} from './webhook/datadog-webhook';

/** Why a webhook was left out before any decision (`judgeEvent`). */
const SKIPPED: Readonly<Record<'duplicate' | 'stale', string>> = {
  duplicate: 'a repeat of the last notification taken for this monitor and group (same $ID)',
  stale:
    'older ($DATE) than a notification of the other kind already taken for this monitor and group: delivered out of order',
};

/** How long the backlog count read from the store is used before it is read again (ms, monotonic). */
const BACKLOG_FRESH_MS = 1000;
/** What a refusal for a full backlog asks the sender to wait (seconds). */
export const BACKLOG_RETRY_AFTER_S = 60;

/** How long `POST /incidents/create` waits for the first delivery attempt before answering 202. */
export const CREATE_WAIT_MS = 1500;
/** The latest errors `GET /incidents/status` shows. */
const LAST_ERRORS = 10;

/** The `Idempotency-Key` header of an API request, and the API key (its name) that sent it. */
export interface RequestIdempotency {
  key: string;
  principal: string | undefined;
}

/** JSON with every object's keys sorted: the same body gives the same text whatever the order its fields came in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * What the store keeps of a request's `Idempotency-Key`: the key scoped to the route and the API key that sent it
 * (two callers' keys never meet), and the body's digest. Both are digests: the header's value is stored nowhere.
 */
export function idempotencyRecord(route: string, request: RequestIdempotency, body: object): IdempotencyRecord {
  return {
    key: sha256(JSON.stringify([route, request.principal ?? null, request.key])),
    fingerprint: sha256(canonicalJson(body)),
  };
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * Where the incidents are sent, for people: the host (and port) of the API base URL the Datadog adapter calls
 * (DATADOG_API_URL, else https://api.<DD_SITE>), never its user, password, path or query.
 */
export function datadogDestination(apiUrl: string): string {
  try {
    return new URL(apiUrl).host;
  } catch {
    return 'the host of DATADOG_API_URL';
  }
}

/** The runbook of an insight: what failed, why, and the recommendations as numbered next steps. */
export function insightRunbook(dto: CreateIncidentFromInsightDto): string {
  const next =
    dto.recommendations.length > 0
      ? dto.recommendations.map((r, i) => `${i + 1}. ${r.replace(/\s+/g, ' ').trim()}`).join('\n')
      : '1. No recommendation came with the insight: open the dashboard, logs and traces linked on this incident.';
  return [
    `# ML Insight: ${dto.insight_type}`,
    '',
    '## What failed',
    '',
    dto.title,
    ...(dto.metric ? ['', `Metric: \`${dto.metric}\``] : []),
    '',
    '## Why',
    '',
    dto.description,
    '',
    '## Next',
    '',
    next,
  ].join('\n');
}

/**
 * The incident manager: turns alerts (the API, ML insights, Datadog monitor webhooks) into incident requests in the
 * outbox, deduplicated per monitor and group (`IncidentOutboxStore.recordAlert`), and tells the caller honestly
 * where each stands: delivered (Datadog's id and link), pending (in the outbox, not in Datadog) or failed.
 */
@Injectable()
export class IncidentsService {
  /**
   * The rows not delivered yet, as last read from the shared store (at `readAt`, `performance.now()`: a duration,
   * so a clock step never keeps a stale count) plus the rows this replica wrote since.
   */
  private backlog: { rows: number; readAt: number } | undefined;
  private backlogRead: Promise<number> | undefined;

  constructor(
    private readonly store: IncidentOutboxStore,
    private readonly worker: IncidentDeliveryWorker,
    private readonly content: IncidentContentBuilder,
    @Inject(RunbookCatalog) private readonly runbooks: RunbookCatalog,
    private readonly datadog: DatadogIncidentsPort,
    private readonly config: AppConfig,
    private readonly metrics: MetricsPort,
  ) {}

  /**
   * `POST /incidents/create`: records the alert, tries the delivery for up to CREATE_WAIT_MS. With an
   * `Idempotency-Key` already used by the same API key: the first request's incident (same body), else a 422.
   */
  async create(dto: CreateIncidentDto, idempotency?: RequestIdempotency): Promise<IncidentAnswerDto> {
    const alert: IncidentAlert = {
      source: 'api',
      monitorName: dto.monitor_name,
      monitorId: dto.monitor_id,
      group: '',
      message: dto.alert_message,
      runbookMarkdown: dto.runbook,
      severity: dto.severity ?? 'SEV-2',
      tags: dto.tags ?? [],
    };
    await this.admit('api');
    const idem = idempotency && idempotencyRecord('create', idempotency, dto);
    return this.answer(await this.record(alert, 'open', CREATE_WAIT_MS, undefined, idem));
  }

  /** `POST /incidents/create-from-insight`: the monitor `ML Insight: <type>`, the runbook "What failed / Why / Next". */
  async createFromInsight(
    dto: CreateIncidentFromInsightDto,
    idempotency?: RequestIdempotency,
  ): Promise<IncidentAnswerDto> {
    const alert: IncidentAlert = {
      source: 'insight',
      monitorName: `ML Insight: ${dto.insight_type}`,
      group: dto.metric ?? '',
      message: dto.title,
      runbookMarkdown: insightRunbook(dto),
      severity: dto.severity ?? 'SEV-3',
      tags: [`insight_type:${dto.insight_type}`, ...(dto.metric ? [`metric:${dto.metric}`] : [])],
    };
    await this.admit('insight');
    const idem = idempotency && idempotencyRecord('create-from-insight', idempotency, dto);
    return this.answer(await this.record(alert, 'open', CREATE_WAIT_MS, undefined, idem));
  }

  /** `POST /incidents/webhook`: a Datadog monitor notification (authenticated by the guard). */
  async webhook(dto: DatadogWebhookDto): Promise<WebhookAnswerDto> {
    const transition = transitionOf(dto.transition);
    this.metrics.increment(INCIDENT_METRICS.webhook.name, 1, formatTags({ transition: transition.tag }));
    if (transition.action === 'ignore') {
      return { action: 'ignored', reason: `the transition "${clip(dto.transition, 50)}" opens or closes nothing` };
    }
    await this.admit('webhook');
    const tags = parseTags(dto.tags);
    const monitorName = monitorNameOf(dto.title);
    const monitorId = dto.alert_id && Number(dto.alert_id) > 0 ? Number(dto.alert_id) : undefined;
    const group = groupOf(dto.scope);
    const event: AlertEvent = { id: dto.id, at: eventTimeOf(dto.date) };

    if (transition.action === 'resolve') {
      const { dedupeKey } = this.content.identity(monitorName, monitorId, group);
      const outcome = await this.store.recordRecovery({ now: Date.now(), dedupeKey, outboxId: randomUUID(), event });
      this.count('webhook', outcome);
      if (outcome.outboxId && !outcome.skipped) this.wrote();
      if (outcome.skipped) return { action: 'ignored', reason: SKIPPED[outcome.skipped] };
      if (outcome.action === 'ignored' || !outcome.outboxId) {
        return { action: 'ignored', reason: 'no open incident for this monitor and group' };
      }
      this.worker.kick();
      return { action: 'resolved', incident: await this.summary(outcome) };
    }

    const runbook = await this.runbooks.get(tagValue(tags, 'runbook'), monitorName);
    const alert: IncidentAlert = {
      source: 'webhook',
      monitorName,
      monitorId,
      group,
      message: messageOf(dto.message),
      runbookMarkdown: runbook.markdown,
      severity: severityOf(dto.priority, tags),
      tags,
    };
    const recorded = await this.record(alert, transition.action, 0, event);
    if (recorded.outcome.skipped) return { action: 'ignored', reason: SKIPPED[recorded.outcome.skipped] };
    if (recorded.outcome.action === 'ignored') {
      return { action: 'ignored', reason: 'a warning opens no incident, and none is open for this monitor and group' };
    }
    const action = recorded.outcome.action;
    return {
      action: action === 'updated' || action === 'reopened' ? action : 'opened',
      incident: recorded.summary,
      ...(recorded.outcome.firings !== undefined ? { firings: recorded.outcome.firings } : {}),
    };
  }

  /** `GET /incidents/status`: from the shared store, the same on every replica. */
  async status(): Promise<IncidentsStatusDto> {
    const now = Date.now();
    const [stats, errors] = await Promise.all([this.store.stats(now), this.store.lastErrors(LAST_ERRORS)]);
    const configured = this.datadog.name === 'datadog';
    const waiting = stats.pending + stats.delivering;
    const message = configured
      ? `Incidents go to Datadog (${datadogDestination(this.config.datadog.apiUrl)}) through the outbox: ${waiting} waiting, ${stats.failed} refused for good`
      : `Datadog API keys not configured (DD_API_KEY, DD_APP_KEY): incidents wait in the outbox (${waiting} waiting) and are delivered once the keys are set`;
    return {
      enabled: true,
      service_name: this.config.service.name,
      dashboard_name: dashboardName(this.config.service.name, this.config.service.env),
      api_configured: configured,
      message,
      outbox: {
        pending: stats.pending,
        delivering: stats.delivering,
        delivered: stats.delivered,
        failed: stats.failed,
        oldest_pending_age_ms: stats.oldestPendingAgeMs,
      },
      open_incidents: { count: stats.openIncidents, oldest_age_ms: stats.oldestOpenAgeMs },
      last_errors: errors.map((e) => ({
        outbox_id: e.id,
        reason: e.lastError ?? '',
        attempts: e.attempts,
        next_attempt_at: e.state === 'failed' ? null : iso(e.nextAttemptAt),
      })),
    };
  }

  /**
   * `GET /incidents`: outbox rows, newest first, a page at a time. One row more than asked says whether there is an
   * older page; its cursor is the last returned row's seq (keyset), so rows recorded meanwhile never shift the pages.
   */
  async list(limit: number, state: OutboxState | undefined, cursor?: string): Promise<ListIncidentsResponseDto> {
    const beforeSeq = cursor === undefined ? undefined : decodeIncidentCursor(cursor);
    const rows = await this.store.list({ limit: limit + 1, state, ...(beforeSeq === undefined ? {} : { beforeSeq }) });
    const entries = rows.slice(0, limit);
    const last = entries.at(-1);
    return {
      count: entries.length,
      entries: entries.map(toEntryDto),
      next_cursor: rows.length > limit && last ? encodeIncidentCursor(last.seq) : null,
    };
  }

  /**
   * Refuses a new alert (503 INCIDENTS_BACKLOG_FULL, `Retry-After`) while the outbox holds INCIDENTS_BACKLOG_MAX
   * rows not delivered yet; nothing already taken is touched. The count is read from the shared store at most once a
   * second (one read shared by the requests waiting for it), plus the rows this replica wrote since.
   */
  private async admit(source: IncidentAlert['source']): Promise<void> {
    const max = this.config.incidents.backlogMax;
    if (max === 0) return;
    const rows = await this.backlogRows();
    if (rows < max) return;
    this.metrics.increment(INCIDENT_METRICS.backlogRefused.name, 1, formatTags({ source }));
    throw new DomainError(
      INCIDENTS_ERRORS.INCIDENTS_BACKLOG_FULL,
      `The incident outbox holds ${rows} rows not delivered yet (INCIDENTS_BACKLOG_MAX ${max}): send the alert again later; nothing was recorded`,
      { backlog: rows, backlog_max: max },
      { 'retry-after': String(BACKLOG_RETRY_AFTER_S) },
    );
  }

  private async backlogRows(): Promise<number> {
    const now = performance.now();
    if (this.backlog && now - this.backlog.readAt < BACKLOG_FRESH_MS) return this.backlog.rows;
    this.backlogRead ??= this.store
      .stats(Date.now())
      .then((stats) => {
        this.backlog = { rows: stats.pending + stats.delivering, readAt: performance.now() };
        return this.backlog.rows;
      })
      .finally(() => (this.backlogRead = undefined));
    return this.backlogRead;
  }

  /** One more row not delivered yet, until the next read of the store. */
  private wrote(): void {
    if (this.backlog) this.backlog.rows += 1;
  }

  private async record(
    alert: IncidentAlert,
    mode: AlertMode,
    waitMs: number,
    event?: AlertEvent,
    idempotency?: IdempotencyRecord,
  ): Promise<{ outcome: RecordOutcome; summary?: IncidentSummaryDto }> {
    const outboxId = randomUUID();
    const built = this.content.build(alert, outboxId);
    const outcome = await this.store.recordAlert({
      now: Date.now(),
      dedupeWindowMs: this.config.incidents.dedupeWindowMs,
      reopenWindowMs: this.config.incidents.reopenWindowMs,
      mode,
      dedupeKey: built.dedupeKey,
      monitor: built.monitor,
      group: built.group,
      title: built.title,
      severity: alert.severity,
      outboxId,
      request: built.request,
      ...(event ? { event } : {}),
      ...(idempotency ? { idempotency } : {}),
    });
    if (outcome.idempotency === 'conflict') {
      throw new DomainError(
        INCIDENTS_ERRORS.IDEMPOTENCY_KEY_REUSED,
        'Idempotency-Key: already used by this API key with another request body (a retry must send the same body; a new alert needs a new key)',
        { errors: [{ field: 'Idempotency-Key', reason: 'already used with another request body' }] },
      );
    }
    if (outcome.idempotency !== 'replayed') this.count(alert.source, outcome);
    if (outcome.idempotency === undefined && outcome.outboxId) this.wrote();
    if (outcome.action === 'ignored' || !outcome.outboxId) return { outcome };
    if (waitMs > 0) await this.worker.settled(outcome.outboxId, waitMs);
    else this.worker.kick();
    return { outcome, summary: await this.summary(outcome) };
  }

  private count(source: IncidentAlert['source'], outcome: RecordOutcome): void {
    this.metrics.increment(INCIDENT_METRICS.requests.name, 1, formatTags({ source, action: outcome.action }));
  }

  /** Where the row written stands now, read back from the store. */
  private async summary(outcome: RecordOutcome): Promise<IncidentSummaryDto> {
    const entry = outcome.outboxId ? await this.store.get(outcome.outboxId) : undefined;
    // A reopened incident is the one already opened (and paged): the alert went into it, as a deduplicated one does.
    const deduplicated = outcome.action === 'updated' || outcome.action === 'reopened';
    if (!entry) {
      return {
        outbox_id: outcome.outboxId ?? '',
        status: 'pending',
        title: outcome.title ?? '',
        severity: outcome.severity ?? 'SEV-3',
        deduplicated,
      };
    }
    const status = entry.state === 'delivered' ? 'delivered' : entry.state === 'failed' ? 'failed' : 'pending';
    const waitsForCreate = entry.kind === 'update' && entry.incidentId === null;
    const reason =
      status === 'delivered'
        ? undefined
        : (entry.lastError ?? (waitsForCreate ? 'waiting for its incident to be created in Datadog' : undefined));
    return {
      outbox_id: entry.id,
      status,
      ...(entry.incidentId ? { incident_id: entry.incidentId } : {}),
      ...(entry.incidentUrl ? { url: entry.incidentUrl } : {}),
      title: entry.title,
      severity: outcome.severity ?? entry.severity,
      deduplicated,
      ...(reason ? { reason } : {}),
    };
  }

  private answer(recorded: { outcome: RecordOutcome; summary?: IncidentSummaryDto }): IncidentAnswerDto {
    const replayed = recorded.outcome.idempotency === 'replayed';
    const incident = recorded.summary ?? {
      outbox_id: '',
      status: 'pending',
      title: '',
      severity: 'SEV-3',
      deduplicated: false,
    };
    return {
      success: incident.status !== 'failed',
      incident,
      message: replayed
        ? `A repeat of an earlier request with the same Idempotency-Key: nothing recorded. ${answerMessage(incident)}`
        : answerMessage(incident),
      ...(replayed ? { replayed: true } : {}),
    };
  }
}

/** What the answer says, never claiming more than the store holds. */
export function answerMessage(incident: IncidentSummaryDto): string {
  const why = incident.reason ? ` (${incident.reason})` : '';
  switch (incident.status) {
    case 'delivered':
      return incident.deduplicated
        ? `Alert deduplicated into the open incident ${incident.incident_id ?? ''}: updated in Datadog`
        : `Incident created in Datadog: ${incident.url ?? incident.incident_id ?? ''}`;
    case 'failed':
      return `Datadog refused the incident; it will not be retried${why}`;
    case 'pending':
      return incident.deduplicated
        ? `Alert deduplicated into the open incident; the update waits in the outbox${why}`
        : `Incident queued in the outbox, not created in Datadog yet; it is delivered as soon as Datadog takes it${why}`;
  }
}

export function toEntryDto(e: OutboxEntry): OutboxEntryDto {
  return {
    outbox_id: e.id,
    kind: e.kind,
    incident_ref: e.incidentRef,
    state: e.state,
    attempts: e.attempts,
    next_attempt_at: e.state === 'pending' || e.state === 'delivering' ? iso(e.nextAttemptAt) : null,
    last_error: e.lastError,
    incident_id: e.incidentId,
    url: e.incidentUrl,
    title: e.title,
    severity: e.severity,
    monitor: e.monitor,
    group: e.group,
    incident_state: e.incidentState,
    alert_count: e.alertCount,
    created_at: new Date(e.createdAt).toISOString(),
    delivered_at: iso(e.deliveredAt),
  };
}
