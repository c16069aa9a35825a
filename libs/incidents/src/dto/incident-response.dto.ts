import { IsIn, IsOptional, Max, Min } from 'class-validator';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { ApiDateTime, ApiInteger, IsInteger, NumberFromText } from '@app/common';
import type { IncidentSeverity } from '@app/datadog';
import { IsIncidentCursor } from './incident-cursor';
import { OUTBOX_STATES, type IncidentState, type OutboxKind, type OutboxState } from '../outbox/outbox.types';

/** What a caller is told about the incident of a request. */
export type IncidentDeliveryStatus = 'pending' | 'delivered' | 'failed';

export class IncidentSummaryDto {
  /** The outbox row this request wrote (a create, or an update of the open incident when deduplicated). */
  outbox_id!: string;
  /** delivered: Datadog holds it; pending: in the outbox, not in Datadog yet; failed: Datadog refused it for good. */
  status!: IncidentDeliveryStatus;
  /** Datadog's incident id, once Datadog holds the incident. */
  incident_id?: string;
  /** Link to the incident in Datadog, once it holds it. */
  url?: string;
  title!: string;
  severity!: IncidentSeverity;
  /** True: the alert updated the open incident of the same monitor and group instead of opening one. */
  deduplicated!: boolean;
  /** Why it is not delivered yet (the last attempt's error), when it is not. */
  reason?: string;
}

/** 201 when Datadog created the incident, 200 when the open incident was updated, 202 while it waits in the outbox. */
export class IncidentAnswerDto {
  /** False only when Datadog refused the incident for good. */
  success!: boolean;
  incident!: IncidentSummaryDto;
  message!: string;
  /**
   * True: a repeat of an earlier request with the same `Idempotency-Key` and body; nothing was recorded, `incident`
   * is the first request's as it stands now (also said by the `Idempotent-Replayed: true` header).
   */
  replayed?: boolean;
}

export class WebhookAnswerDto {
  /**
   * opened, updated (deduplicated into the open incident), reopened (the incident of this monitor and group resolved
   * within INCIDENTS_REOPEN_WINDOW_MS is active again: a flapping monitor), resolved, or ignored (nothing to do).
   */
  action!: 'opened' | 'updated' | 'reopened' | 'resolved' | 'ignored';
  /** When reopened: how many times this incident has fired (the first time included). */
  firings?: number;
  /** Why nothing was done, when ignored. */
  reason?: string;
  incident?: IncidentSummaryDto;
}

export class ListIncidentsQueryDto {
  /** Rows returned, newest first (1..200, default 50). */
  @IsOptional()
  @NumberFromText()
  @IsInteger()
  @Min(1)
  @Max(200)
  limit?: number = 50;
  /** Only rows in this state. */
  @IsOptional()
  @IsIn(OUTBOX_STATES)
  state?: OutboxState;
  /**
   * The `next_cursor` of the previous page: the rows older than that page's last one (keyset paging, stable while
   * new incidents arrive). Pass the same `state` (and any `limit`). Opaque: never build one.
   */
  @ApiPropertyOptional({ type: 'string', maxLength: 64 })
  @IsOptional()
  @IsIncidentCursor()
  cursor?: string;
}

export class OutboxEntryDto {
  outbox_id!: string;
  /** create: opens the incident; update: a re-alert or a recovery of it. */
  kind!: OutboxKind;
  /** The outbox id of the incident's create row. */
  incident_ref!: string;
  state!: OutboxState;
  @ApiInteger()
  attempts!: number;
  /** ISO 8601: when the next attempt is due (pending rows). */
  @ApiDateTime()
  next_attempt_at!: string | null;
  /** The last attempt's error, or why it waits (redacted, bounded). */
  last_error!: string | null;
  /** Datadog's incident id, once its create is delivered. */
  incident_id!: string | null;
  url!: string | null;
  title!: string;
  severity!: IncidentSeverity;
  monitor!: string | null;
  group!: string | null;
  /** The incident locally: open, resolved, superseded (a later alert opened a new one past the window), failed. */
  incident_state!: IncidentState | null;
  @ApiInteger()
  alert_count!: number | null;
  /** ISO 8601. */
  @ApiDateTime()
  created_at!: string;
  @ApiDateTime()
  delivered_at!: string | null;
}

export class ListIncidentsResponseDto {
  /** Entries on this page. */
  @ApiInteger()
  count!: number;
  entries!: OutboxEntryDto[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next_cursor!: string | null;
}

export class OutboxCountsDto {
  @ApiInteger()
  pending!: number;
  @ApiInteger()
  delivering!: number;
  @ApiInteger()
  delivered!: number;
  @ApiInteger()
  failed!: number;
  /** Age of the oldest row not delivered yet, ms; null when there is none. */
  @ApiInteger()
  oldest_pending_age_ms!: number | null;
}

export class OpenIncidentsDto {
  /** Incidents open now: opened by an alert, not resolved by a recovery yet (the same on every replica). */
  @ApiInteger()
  count!: number;
  /** How long ago the oldest open incident was opened, ms; null when none is open. */
  @ApiInteger()
  oldest_age_ms!: number | null;
}

export class OutboxErrorDto {
  outbox_id!: string;
  reason!: string;
  @ApiInteger()
  attempts!: number;
  /** ISO 8601; null for a failed row (not retried). */
  @ApiDateTime()
  next_attempt_at!: string | null;
}

export class IncidentsStatusDto {
  /** The incident manager runs (requests are always taken into the outbox). */
  enabled!: boolean;
  service_name!: string;
  /** The dashboard the incidents link to. */
  dashboard_name!: string;
  /** Whether DD_API_KEY and DD_APP_KEY are set (without them incidents wait in the outbox). */
  api_configured!: boolean;
  message!: string;
  /** The shared outbox (the same on every replica). */
  outbox!: OutboxCountsDto;
  /** The incidents open now (the same on every replica). */
  open_incidents!: OpenIncidentsDto;
  /** The latest rows not delivered that carry a reason. */
  last_errors!: OutboxErrorDto[];
}
