import { advanceClock, decideAlert, judgeEvent, reopenUpdate, resolutionUpdate, supersedeUpdate } from './dedupe';
import {
  closeFailedIncidentSql,
  closeIncidentSql,
  countReopeningsSql,
  failUpdatesSql,
  insertIdempotencySql,
  insertIncidentSql,
  insertOutboxSql,
  markFailedSql,
  outboxValues,
  reopenIncidentSql,
  selectAlertClockSql,
  selectIdempotencySql,
  selectIncidentTitleSql,
  selectOpenIncidentSql,
  selectRecentlyResolvedSql,
  toAlertClock,
  toOpenIncident,
  updateIncidentAlertSql,
  upsertAlertClockSql,
} from './outbox-sql';
import type { AlertEvent, AlertRecord, RecordOutcome, RecoveryRecord } from './outbox.types';
import { storableText } from '@app/common';
import { INCIDENT_SEVERITIES, type IncidentSeverity } from '@app/datadog';

type Value = string | number | null;
type Placeholder = (index: number) => string;
type Row = Record<string, unknown>;

/** One statement of a transaction: `one` reads the first row (or undefined), `run` the number of rows changed. */
export type Statement = { sql: string; params: Value[]; want: 'one' } | { sql: string; params: Value[]; want: 'run' };

/**
 * A transaction's steps as a generator of statements, so that one sequence of decisions serves both stores: the
 * SQLite store runs it synchronously inside BEGIN IMMEDIATE (nothing else can use the connection in between), the
 * PostgreSQL store awaits each statement on one client inside BEGIN ... COMMIT, after the dedupe key's lock.
 */
export type Program<T> = Generator<Statement, T, Row | number | undefined>;

function* one(sql: string, params: Value[]): Generator<Statement, Row | undefined, Row | number | undefined> {
  const row = yield { sql, params, want: 'one' };
  return typeof row === 'object' ? row : undefined;
}

function* run(sql: string, params: Value[]): Generator<Statement, number, Row | number | undefined> {
  const changes = yield { sql, params, want: 'run' };
  return typeof changes === 'number' ? changes : 0;
}

/**
 * For a Datadog notification (`event`): whether it is a repeat or out of order (`judgeEvent`), else records it as the
 * newest of its kind. Runs under the dedupe key's lock, before the decision.
 */
function* takeEvent(
  dedupeKey: string,
  event: AlertEvent | undefined,
  kind: 'alert' | 'recovery',
  now: number,
  p: Placeholder,
): Generator<Statement, 'duplicate' | 'stale' | undefined, Row | number | undefined> {
  if (!event) return undefined;
  // Compared with the id the stores hold (`storableText`: NUL as U+FFFD), so that a repeat of an id holding NUL is one.
  if (event.id !== undefined) event = { ...event, id: storableText(event.id) };
  const row = yield* one(selectAlertClockSql(p), [dedupeKey]);
  const clock = row ? toAlertClock(row) : undefined;
  const skipped = judgeEvent(clock, event, kind);
  if (skipped) return skipped;
  const next = advanceClock(clock, event, kind);
  yield* run(upsertAlertClockSql(p), [dedupeKey, next.lastAlertAt, next.lastRecoveryAt, next.lastEventId, now]);
  return undefined;
}

/**
 * The dedupe decision and its writes (see `decideAlert`). Runs under the dedupe key's lock (and the idempotency key's:
 * the PostgreSQL store takes both). A request whose `Idempotency-Key` was seen writes nothing: the first request's
 * outcome (same body) or a conflict (another body).
 */
export function* recordAlertProgram(alert: AlertRecord, p: Placeholder): Program<RecordOutcome> {
  if (alert.idempotency) {
    const seen = yield* one(selectIdempotencySql(p), [alert.idempotency.key]);
    if (seen) {
      const outboxId = String(seen.outbox_id);
      if (String(seen.fingerprint) !== alert.idempotency.fingerprint) {
        return { action: 'ignored', idempotency: 'conflict', outboxId };
      }
      const action = seen.action === 'updated' || seen.action === 'reopened' ? seen.action : 'opened';
      return { action, idempotency: 'replayed', outboxId };
    }
  }
  const outcome = yield* decideAndWrite(alert, p);
  if (alert.idempotency && outcome.outboxId) {
    yield* run(insertIdempotencySql(p), [
      alert.idempotency.key,
      alert.idempotency.fingerprint,
      outcome.outboxId,
      outcome.action,
      alert.now,
    ]);
  }
  return outcome;
}

function* decideAndWrite(alert: AlertRecord, p: Placeholder): Program<RecordOutcome> {
  const skipped = yield* takeEvent(alert.dedupeKey, alert.event, 'alert', alert.now, p);
  if (skipped) return { action: 'ignored', skipped };
  const openRow = yield* one(selectOpenIncidentSql(p), [alert.dedupeKey]);
  const open = openRow ? toOpenIncident(openRow) : undefined;
  const decision = decideAlert(open, alert);
  switch (decision.action) {
    case 'ignore':
      return { action: 'ignored' };
    case 'update': {
      yield* run(updateIncidentAlertSql(p), [decision.severity, decision.alertCount, alert.now, decision.incidentId]);
      const incident = yield* one(selectIncidentTitleSql(p), [decision.incidentId]);
      const title = incident ? String(incident.title) : alert.title;
      yield* run(
        insertOutboxSql(p),
        outboxValues({
          id: alert.outboxId,
          kind: 'update',
          incidentRef: decision.incidentId,
          payload: decision.update,
          title,
          severity: decision.severity,
          now: alert.now,
        }),
      );
      return {
        action: 'updated',
        outboxId: alert.outboxId,
        incidentRef: decision.incidentId,
        title,
        severity: decision.severity,
        alertCount: decision.alertCount,
      };
    }
    case 'open': {
      if (!open && (alert.reopenWindowMs ?? 0) > 0) {
        const reopened = yield* reopen(alert, p);
        if (reopened) return reopened;
      }
      const superseded = decision.supersede !== undefined ? open : undefined;
      if (superseded) yield* run(closeIncidentSql(p), ['superseded', alert.now, superseded.id]);
      yield* run(insertIncidentSql(p), [
        alert.outboxId,
        alert.dedupeKey,
        alert.monitor,
        alert.group,
        alert.title,
        alert.severity,
        alert.now,
      ]);
      yield* run(
        insertOutboxSql(p),
        outboxValues({
          id: alert.outboxId,
          kind: 'create',
          incidentRef: alert.outboxId,
          payload: alert.request,
          title: alert.title,
          severity: alert.severity,
          now: alert.now,
        }),
      );
      if (superseded) {
        // After the new create (a later seq): the worker, oldest first, sends the new incident first, so that the
        // note on the old one can link to it.
        const old = yield* one(selectIncidentTitleSql(p), [superseded.id]);
        yield* run(
          insertOutboxSql(p),
          outboxValues({
            id: supersedingRowId(alert.outboxId),
            kind: 'update',
            incidentRef: superseded.id,
            payload: supersedeUpdate(alert.now, superseded, { outboxId: alert.outboxId, title: alert.title }),
            title: old ? String(old.title) : alert.title,
            severity: severityOf(old?.severity, superseded.severity),
            now: alert.now,
          }),
        );
      }
      return {
        action: 'opened',
        outboxId: alert.outboxId,
        incidentRef: alert.outboxId,
        title: alert.title,
        severity: alert.severity,
        alertCount: 1,
        ...(superseded ? { superseded: superseded.id } : {}),
      };
    }
  }
}

/** The id of the update row that reopens a resolved incident. */
export const reopeningRowId = (outboxId: string): string => `${outboxId}-reopens`;

/**
 * With no incident open for the key: reopens the one resolved most recently, if less than `reopenWindowMs` ago (a
 * flapping monitor), with an update row (active again, the note naming the firing); none: undefined (open a new one).
 */
function* reopen(
  alert: AlertRecord,
  p: Placeholder,
): Generator<Statement, RecordOutcome | undefined, Row | number | undefined> {
  const row = yield* one(selectRecentlyResolvedSql(p), [alert.dedupeKey, alert.now - (alert.reopenWindowMs ?? 0)]);
  if (!row) return undefined;
  const resolved = { ...toOpenIncident(row), closedAt: Number(row.closed_at) };
  const counted = yield* one(countReopeningsSql(p), [resolved.id, '%-reopens']);
  const firings = Number(counted?.n ?? 0) + 2;
  const { severity, alertCount, update } = reopenUpdate(alert.now, resolved, { severity: alert.severity, firings });
  const changed = yield* run(reopenIncidentSql(p), [severity, alertCount, alert.now, resolved.id]);
  if (changed !== 1) return undefined;
  const incident = yield* one(selectIncidentTitleSql(p), [resolved.id]);
  const title = incident ? String(incident.title) : alert.title;
  const id = reopeningRowId(alert.outboxId);
  yield* run(
    insertOutboxSql(p),
    outboxValues({ id, kind: 'update', incidentRef: resolved.id, payload: update, title, severity, now: alert.now }),
  );
  return { action: 'reopened', outboxId: id, incidentRef: resolved.id, title, severity, alertCount, firings };
}

/** The id of the update row that resolves the incident an alert's new one supersedes. */
export const supersedingRowId = (outboxId: string): string => `${outboxId}-supersedes`;

/** A stored severity, else `fallback`. */
function severityOf(stored: unknown, fallback: IncidentSeverity): IncidentSeverity {
  return INCIDENT_SEVERITIES.includes(stored as IncidentSeverity) ? (stored as IncidentSeverity) : fallback;
}

/** Resolves the open incident of the key (an update row) or ignores the recovery. */
export function* recordRecoveryProgram(recovery: RecoveryRecord, p: Placeholder): Program<RecordOutcome> {
  const skipped = yield* takeEvent(recovery.dedupeKey, recovery.event, 'recovery', recovery.now, p);
  if (skipped) return { action: 'ignored', skipped };
  const openRow = yield* one(selectOpenIncidentSql(p), [recovery.dedupeKey]);
  if (!openRow) return { action: 'ignored' };
  const open = toOpenIncident(openRow);
  yield* run(closeIncidentSql(p), ['resolved', recovery.now, open.id]);
  const incident = yield* one(selectIncidentTitleSql(p), [open.id]);
  const title = incident ? String(incident.title) : '';
  const severity = severityOf(incident?.severity, open.severity);
  yield* run(
    insertOutboxSql(p),
    outboxValues({
      id: recovery.outboxId,
      kind: 'update',
      incidentRef: open.id,
      payload: resolutionUpdate(recovery.now),
      title,
      severity,
      now: recovery.now,
    }),
  );
  return { action: 'resolved', outboxId: recovery.outboxId, incidentRef: open.id, title, severity };
}

/**
 * A row failed for good; a create also takes its pending updates and its local incident with it, and so does an
 * update whose incident Datadog no longer holds (`incidentGone`: deleted there), else every later alert of its
 * monitor and group would update it, fail the same way, and never open an incident again.
 */
export function* markFailedProgram(
  id: string,
  worker: string,
  reason: string,
  now: number,
  p: Placeholder,
  incidentGone = false,
): Program<boolean> {
  const row = yield* one(`SELECT kind, incident_ref FROM incident_outbox WHERE id = ${p(1)}`, [id]);
  const changed = yield* run(markFailedSql(p), [reason, now, id, worker]);
  if (changed !== 1) return false;
  if (row && (row.kind === 'create' || incidentGone)) {
    const ref = String(row.incident_ref);
    const why = row.kind === 'create' ? 'its incident could not be created' : 'its incident is gone from Datadog';
    yield* run(failUpdatesSql(p), [`${why}: ${reason}`.slice(0, 500), now, ref]);
    yield* run(closeFailedIncidentSql(p), [now, ref]);
  }
  return true;
}
