import type { IncidentRequest, IncidentSeverity, IncidentUpdate } from '@app/datadog';

/**
 * How an alert treats the open incident of its monitor and group:
 * - `open`: updates it while its last alert is within the dedupe window, else opens a new incident (a new alert);
 * - `continue`: updates it whatever its age, opens one when none is open (a Datadog re-notification of an alert
 *   still firing: Re-Triggered, Renotify, Re-No Data, which come every `renotify_interval`, often past the window);
 * - `update-only`: updates it whatever its age, never opens one (a warning).
 */
export type AlertMode = 'open' | 'continue' | 'update-only';

/** A Datadog notification's identity and time: `$ID` and `$DATE` (epoch ms), when the payload carries them. */
export interface AlertEvent {
  id?: string;
  at?: number;
}

/** What an outbox row asks Datadog for: open an incident, or change one (a re-alert, a recovery). */
export const OUTBOX_KINDS = ['create', 'update'] as const;
export type OutboxKind = (typeof OUTBOX_KINDS)[number];

/**
 * - `pending`: written, waiting for its next attempt (`next_attempt_at`), or for its incident's create (an update);
 * - `delivering`: claimed by one replica until `lease_until`; claimed again by any replica once the lease expires;
 * - `delivered`: Datadog holds it (`datadog_id` / `datadog_url`);
 * - `failed`: Datadog refused it for good (a 4xx the same request will always get), or its incident's create did.
 */
export const OUTBOX_STATES = ['pending', 'delivering', 'delivered', 'failed'] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

/** The local state of an incident (the thread of alerts of one monitor and group). */
export const INCIDENT_STATES = ['open', 'resolved', 'superseded', 'failed'] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];

/**
 * What an update row holds: the change, and for the resolution of an incident superseded by a newer one of its
 * monitor and group, that successor (its create row and title), so that the note sent with the resolution can link
 * to it once Datadog holds it (read when the row is delivered).
 */
export interface OutboxUpdatePayload extends IncidentUpdate {
  successor?: { outboxId: string; title: string };
}

/** One outbox row, with what the views need of its incident. */
export interface OutboxEntry {
  id: string;
  /** Insertion order: updates of one incident are delivered in this order. */
  seq: number;
  kind: OutboxKind;
  /** The id of the incident's create row (its own id for a create). */
  incidentRef: string;
  /** The create's request, or the update. */
  payload: IncidentRequest | OutboxUpdatePayload;
  title: string;
  severity: IncidentSeverity;
  state: OutboxState;
  attempts: number;
  nextAttemptAt: number;
  claimedBy: string | null;
  leaseUntil: number | null;
  /** Why the last attempt failed (bounded, redacted), or why it waits. */
  lastError: string | null;
  /** Datadog's id and link of the incident once its create is delivered (for an update too). */
  incidentId: string | null;
  incidentUrl: string | null;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
  monitor: string | null;
  group: string | null;
  incidentState: IncidentState | null;
  alertCount: number | null;
}

/** A new alert for a monitor and group. */
export interface AlertRecord {
  now: number;
  dedupeWindowMs: number;
  /**
   * With no incident open: one of this key resolved less than this long ago is reopened (a flapping monitor) instead
   * of a new one opened; 0 or absent: never (`INCIDENTS_REOPEN_WINDOW_MS`).
   */
  reopenWindowMs?: number;
  /** `open` (a new alert), `continue` (a re-notification), `update-only` (a warning): see `AlertMode`. */
  mode: AlertMode;
  dedupeKey: string;
  monitor: string;
  group: string;
  title: string;
  severity: IncidentSeverity;
  /** The id of the row this alert writes (create or update). */
  outboxId: string;
  /** The incident to open when none is open (its idempotency key is derived from `outboxId`). */
  request: IncidentRequest;
  /** A Datadog notification's `$ID` and `$DATE`: a repeat or an out-of-order one is ignored (`judgeEvent`). */
  event?: AlertEvent;
  /** An API request's `Idempotency-Key`: a repeat answers the first request's row instead of recording again. */
  idempotency?: IdempotencyRecord;
}

/**
 * An API request's idempotency key, as the store keeps it: `key` is a digest of the route, the caller (API key
 * name) and the header's value; `fingerprint` a digest of the request body. The same key with the same body is a
 * replay (the first request's row, nothing written); with another body, a conflict.
 */
export interface IdempotencyRecord {
  key: string;
  fingerprint: string;
}

/** A recovery of a monitor and group. */
export interface RecoveryRecord {
  now: number;
  dedupeKey: string;
  outboxId: string;
  /** A Datadog notification's `$ID` and `$DATE` (see `AlertRecord.event`). */
  event?: AlertEvent;
}

/** What recording an alert or a recovery did. */
export interface RecordOutcome {
  /** `reopened`: the incident of this monitor and group resolved within the reopen window is open again. */
  action: 'opened' | 'updated' | 'reopened' | 'resolved' | 'ignored';
  /**
   * The open incident this alert's new one superseded (its create row id), resolved in Datadog by the update row
   * `<outboxId>-supersedes`.
   */
  superseded?: string;
  /** Why a notification was ignored before any decision: a repeat of the last one, or older than a newer one. */
  skipped?: 'duplicate' | 'stale';
  /**
   * An `Idempotency-Key` seen before: `replayed` (same body: the outcome is the first request's, nothing was
   * written), or `conflict` (another body: nothing was written, `outboxId` is the first request's row).
   */
  idempotency?: 'replayed' | 'conflict';
  /** The row written (absent when ignored). */
  outboxId?: string;
  /** The incident's create row id. */
  incidentRef?: string;
  title?: string;
  severity?: IncidentSeverity;
  alertCount?: number;
  /** A reopened incident's firings: how many times it opened (the first time included). */
  firings?: number;
}

export interface OutboxStats {
  pending: number;
  delivering: number;
  delivered: number;
  failed: number;
  /** Age of the oldest row not delivered nor failed, ms; null when there is none. */
  oldestPendingAgeMs: number | null;
  /** Incidents open now (opened by an alert, not resolved by a recovery nor closed for good). */
  openIncidents: number;
  /** How long ago the oldest open incident was opened, ms; null when none is open. */
  oldestOpenAgeMs: number | null;
}

export interface ListFilter {
  limit: number;
  state?: OutboxState;
  /** Only rows older than this one (`seq` below it): keyset paging, stable while new rows arrive. */
  beforeSeq?: number;
}

/** What Datadog answered for a delivered row. */
export interface DeliveredRef {
  incidentId: string;
  url: string;
}
