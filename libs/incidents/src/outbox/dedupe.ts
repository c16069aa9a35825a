import { INCIDENT_SEVERITIES, type IncidentSeverity, type IncidentUpdate } from '@app/datadog';
import type { AlertEvent, AlertMode, OutboxUpdatePayload } from './outbox.types';

/** The open incident of a dedupe key, as the store holds it. */
export interface OpenIncident {
  id: string;
  severity: IncidentSeverity;
  alertCount: number;
  lastAlertAt: number;
}

export type AlertDecision =
  /**
   * Open a new incident; `supersede`: the open incident whose window elapsed (closed locally, and resolved in Datadog
   * by an update row that names the new one: `supersedeUpdate`).
   */
  | { action: 'open'; supersede?: string }
  /** Update the open incident: one more alert, its severity raised when this alert is more severe. */
  | { action: 'update'; incidentId: string; severity: IncidentSeverity; alertCount: number; update: IncidentUpdate }
  | { action: 'ignore' };

/** The more severe of two severities (SEV-1 is the most severe). */
export function moreSevere(a: IncidentSeverity, b: IncidentSeverity): IncidentSeverity {
  return INCIDENT_SEVERITIES.indexOf(a) <= INCIDENT_SEVERITIES.indexOf(b) ? a : b;
}

/**
 * The dedupe rule: an alert of the same monitor and group whose open incident's last alert is less than
 * `dedupeWindowMs` ago updates that incident (alert count, last alert, severity raised, never lowered) instead of
 * opening another; past the window a new incident opens (the old one is superseded locally). A `continue` alert (a
 * re-notification of an alert still firing) and an `update-only` one (a warning) update the open incident whatever
 * its age: a re-notification past the window opened a second incident for the same firing alert and left the first
 * active in Datadog. The incident a new one supersedes is resolved in Datadog (`supersedeUpdate`): nothing would
 * ever resolve it otherwise (every later alert and recovery of the key reaches the new one). An `update-only` alert never opens one. A window of 0 turns dedupe off for `open` alerts. Pure:
 * both stores run it inside their transaction, with the open incident read under the dedupe key's lock.
 */
export function decideAlert(
  open: OpenIncident | undefined,
  alert: { now: number; severity: IncidentSeverity; dedupeWindowMs: number; mode: AlertMode },
): AlertDecision {
  if (open && (alert.mode !== 'open' || alert.now - open.lastAlertAt < alert.dedupeWindowMs)) {
    const severity = moreSevere(open.severity, alert.severity);
    const alertCount = open.alertCount + 1;
    const update: IncidentUpdate = {
      ...(severity !== open.severity ? { severity } : {}),
      fields: { alert_count: String(alertCount), last_alert: new Date(alert.now).toISOString() },
    };
    return { action: 'update', incidentId: open.id, severity, alertCount, update };
  }
  if (alert.mode === 'update-only') return { action: 'ignore' };
  return open ? { action: 'open', supersede: open.id } : { action: 'open' };
}

/** The update that resolves an incident. */
export function resolutionUpdate(now: number): IncidentUpdate {
  return { state: 'resolved', fields: { resolved_at: new Date(now).toISOString() } };
}

/**
 * The update that resolves an incident superseded by a newer one of its monitor and group, with a note saying why.
 * For a Datadog monitor this is mostly a lost recovery: Datadog sends Triggered again only after the monitor left the
 * alert state, so an incident still open when a Triggered comes past the dedupe window missed its Recovered (a
 * webhook dropped or refused), or its monitor sat in Warn or No Data for longer than the window; either way nothing
 * would reach it any more, and it stayed active in Datadog for good. The note says why; where the alerts went (a link to the successor
 * once Datadog holds it) is put before it when the row is delivered (`successor`).
 */
export function supersedeUpdate(
  now: number,
  superseded: OpenIncident,
  successor: { outboxId: string; title: string },
): OutboxUpdatePayload {
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    state: 'resolved',
    fields: { resolved_at: iso(now) },
    note:
      `A new alert of this monitor and group at ${iso(now)}, more than INCIDENTS_DEDUPE_WINDOW_MS after this ` +
      `incident's last one (${iso(superseded.lastAlertAt)}), opened it; its alerts and recovery go there now. ` +
      `Datadog alerts again only after the monitor left the alert state: this incident's Recovered was lost (or ` +
      `the monitor was in Warn or No Data for that long).`,
    successor,
  };
}

/** An incident resolved recently, as the store holds it: a flapping monitor's next alert reopens it. */
export interface ResolvedIncident extends OpenIncident {
  closedAt: number;
}

/**
 * The update that reopens an incident resolved less than INCIDENTS_REOPEN_WINDOW_MS ago, its monitor and group firing
 * again (a flapping monitor): active again, one more alert, severity raised (never lowered), and a note (a change of
 * `cp_note`, which Datadog records in the incident's timeline) saying when it fired again and how many times it
 * has fired. Opening a new incident per firing paged the on-call once per flap.
 */
export function reopenUpdate(
  now: number,
  resolved: ResolvedIncident,
  alert: { severity: IncidentSeverity; firings: number },
): { severity: IncidentSeverity; alertCount: number; update: IncidentUpdate } {
  const iso = (ms: number): string => new Date(ms).toISOString();
  const severity = moreSevere(resolved.severity, alert.severity);
  const alertCount = resolved.alertCount + 1;
  const minutes = Math.max(0, Math.round((now - resolved.closedAt) / 60_000));
  return {
    severity,
    alertCount,
    update: {
      state: 'active',
      ...(severity !== resolved.severity ? { severity } : {}),
      fields: { alert_count: String(alertCount), last_alert: iso(now) },
      note:
        `Reopened by the control plane: the monitor fired again at ${iso(now)}, ${minutes} min after this incident ` +
        `was resolved (${iso(resolved.closedAt)}), within INCIDENTS_REOPEN_WINDOW_MS: a flapping monitor keeps one ` +
        `incident. Firing ${alert.firings} of this incident, ${alertCount} alerts in all.`,
    },
  };
}

/** What the store remembers of the notifications of one dedupe key: the newest alert and recovery, the last `$ID`. */
export interface AlertClock {
  lastAlertAt: number | null;
  lastRecoveryAt: number | null;
  lastEventId: string | null;
}

/**
 * Whether a notification is to be left out: `duplicate` (the same `$ID` as the last one taken: Datadog sent it again),
 * or `stale` (older than the newest notification of the other kind: a Triggered that happened before a Recovered
 * already taken, or a Recovered that happened before a newer alert). Datadog does not promise the order of its
 * webhooks (a retried one comes late): without this a Recovered delivered before its Triggered left an incident open
 * for good. Notifications without `$DATE` are never stale.
 */
export function judgeEvent(
  clock: AlertClock | undefined,
  event: AlertEvent | undefined,
  kind: 'alert' | 'recovery',
): 'duplicate' | 'stale' | undefined {
  if (!clock || !event) return undefined;
  if (event.id !== undefined && event.id === clock.lastEventId) return 'duplicate';
  if (event.at === undefined) return undefined;
  const newer = kind === 'alert' ? clock.lastRecoveryAt : clock.lastAlertAt;
  return newer !== null && event.at < newer ? 'stale' : undefined;
}

/** The clock once `event` is taken. */
export function advanceClock(clock: AlertClock | undefined, event: AlertEvent, kind: 'alert' | 'recovery'): AlertClock {
  const latest = (a: number | null | undefined, b: number | undefined): number | null =>
    b === undefined ? (a ?? null) : a === null || a === undefined ? b : Math.max(a, b);
  return {
    lastAlertAt: kind === 'alert' ? latest(clock?.lastAlertAt, event.at) : (clock?.lastAlertAt ?? null),
    lastRecoveryAt: kind === 'recovery' ? latest(clock?.lastRecoveryAt, event.at) : (clock?.lastRecoveryAt ?? null),
    lastEventId: event.id ?? clock?.lastEventId ?? null,
  };
}
