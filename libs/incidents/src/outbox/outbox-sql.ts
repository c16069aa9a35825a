import { metaTableDdl, type SchemaVersion } from '@app/common';
import { INCIDENT_SEVERITIES, type IncidentSeverity } from '@app/datadog';
import type { AlertClock, OpenIncident } from './dedupe';
import type { IncidentOutboxKind } from './incident-outbox.port';
import {
  INCIDENT_STATES,
  type IncidentState,
  type ListFilter,
  OUTBOX_STATES,
  type OutboxEntry,
  type OutboxKind,
  type OutboxState,
} from './outbox.types';

type Value = string | number | null;
type Placeholder = (index: number) => string;

/**
 * The outbox's schema marks in `incident_meta` (libs/common schema-version.ts), written by every start since
 * 2026-12-07; an outbox without them is of an earlier version. Raise `version` with any change to the tables below, and
 * `usableFrom` to it with a change earlier builds would get wrong (their webhooks would answer 500 for good).
 */
export const INCIDENTS_SCHEMA: SchemaVersion = { name: 'incident outbox', version: 2, usableFrom: 1 };

/** Where the outbox keeps its schema marks. */
export const INCIDENT_META_TABLE = 'incident_meta';

/** The outbox and incident tables, created on start (`IF NOT EXISTS`); the same SQL on SQLite and PostgreSQL. */
export function incidentsSchema(kind: IncidentOutboxKind): string[] {
  const big = kind === 'postgres' ? 'BIGINT' : 'INTEGER';
  const seq = kind === 'postgres' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY';
  return [
    `CREATE TABLE IF NOT EXISTS incident_outbox (
      seq ${seq},
      id TEXT NOT NULL UNIQUE,
      kind TEXT NOT NULL,
      incident_ref TEXT NOT NULL,
      payload TEXT NOT NULL,
      title TEXT NOT NULL,
      severity TEXT NOT NULL,
      state TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at ${big} NOT NULL,
      claimed_by TEXT,
      lease_until ${big},
      last_error TEXT,
      datadog_id TEXT,
      datadog_url TEXT,
      created_at ${big} NOT NULL,
      updated_at ${big} NOT NULL,
      delivered_at ${big}
    )`,
    `CREATE INDEX IF NOT EXISTS incident_outbox_due ON incident_outbox (state, next_attempt_at)`,
    `CREATE INDEX IF NOT EXISTS incident_outbox_ref ON incident_outbox (incident_ref, seq)`,
    // SQLite keeps a row's columns in one record: `state` comes after `payload` (kilobytes, past a 4 KB page), so the
    // due query's look-ups of a create's and the earlier updates' states read each row's overflow pages. These cover
    // them from an index (`dueSeqsSql`'s `INDEXED BY`); PostgreSQL keeps a long payload out of line (TOAST).
    ...(kind === 'sqlite'
      ? [
          `CREATE INDEX IF NOT EXISTS incident_outbox_state_id ON incident_outbox (state, id)`,
          `CREATE INDEX IF NOT EXISTS incident_outbox_ref_kind ON incident_outbox (incident_ref, kind, seq, state)`,
        ]
      : []),
    `CREATE TABLE IF NOT EXISTS incidents (
      id TEXT PRIMARY KEY,
      dedupe_key TEXT NOT NULL,
      monitor TEXT NOT NULL,
      grp TEXT NOT NULL,
      title TEXT NOT NULL,
      severity TEXT NOT NULL,
      state TEXT NOT NULL,
      alert_count INTEGER NOT NULL,
      opened_at ${big} NOT NULL,
      last_alert_at ${big} NOT NULL,
      closed_at ${big}
    )`,
    // The latest resolved incident of a key, for a flapping monitor's next alert (reopened within the window).
    `CREATE INDEX IF NOT EXISTS incidents_key_closed ON incidents (dedupe_key, closed_at)`,
    // At most one open incident per dedupe key, whatever the replicas do (the dedupe lock makes it the rule; this
    // makes it a guarantee).
    `CREATE UNIQUE INDEX IF NOT EXISTS incidents_open_key ON incidents (dedupe_key) WHERE state = 'open'`,
    // Per dedupe key, the newest alert and recovery times ($DATE) and the last $ID of Datadog's notifications:
    // repeats and out-of-order deliveries are ignored (judgeEvent).
    `CREATE TABLE IF NOT EXISTS incident_alert_events (
      dedupe_key TEXT PRIMARY KEY,
      last_alert_at ${big},
      last_recovery_at ${big},
      last_event_id TEXT,
      updated_at ${big} NOT NULL
    )`,
    // The Idempotency-Key of each API request that wrote a row (schema 2): a retried POST /incidents/create answers
    // the first request's row instead of recording the alert again. `idem_key` and `fingerprint` are digests.
    `CREATE TABLE IF NOT EXISTS incident_requests (
      idem_key TEXT PRIMARY KEY,
      fingerprint TEXT NOT NULL,
      outbox_id TEXT NOT NULL,
      action TEXT NOT NULL,
      created_at ${big} NOT NULL
    )`,
    metaTableDdl(INCIDENT_META_TABLE),
  ];
}

/** The columns of an entry: the row, its incident, and its create row's Datadog id and link. */
const ENTRY_SELECT = `SELECT o.seq, o.id, o.kind, o.incident_ref, o.payload, o.title, o.severity, o.state, o.attempts,
  o.next_attempt_at, o.claimed_by, o.lease_until, o.last_error, o.created_at, o.updated_at, o.delivered_at,
  c.datadog_id AS incident_id, c.datadog_url AS incident_url,
  i.monitor, i.grp, i.state AS incident_state, i.alert_count
  FROM incident_outbox o
  LEFT JOIN incident_outbox c ON c.id = o.incident_ref
  LEFT JOIN incidents i ON i.id = o.incident_ref`;

export const selectEntrySql = (p: Placeholder): string => `${ENTRY_SELECT} WHERE o.id = ${p(1)}`;

export const selectEntriesBySeqSql = (seqs: readonly number[]): string =>
  `${ENTRY_SELECT} WHERE o.seq IN (${seqs.map((s) => String(Math.trunc(s))).join(', ')}) ORDER BY o.seq`;

/** Newest first (`seq` descending); `beforeSeq` pages back from a row (keyset: new rows do not shift the pages). */
export function listEntriesSql(filter: ListFilter, p: Placeholder): { sql: string; params: Value[] } {
  const params: Value[] = [];
  const conditions: string[] = [];
  if (filter.state !== undefined) {
    params.push(filter.state);
    conditions.push(`o.state = ${p(params.length)}`);
  }
  if (filter.beforeSeq !== undefined) {
    params.push(filter.beforeSeq);
    conditions.push(`o.seq < ${p(params.length)}`);
  }
  const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
  params.push(filter.limit);
  return { sql: `${ENTRY_SELECT}${where} ORDER BY o.seq DESC LIMIT ${p(params.length)}`, params };
}

export const lastErrorsSql = (p: Placeholder): string =>
  `${ENTRY_SELECT} WHERE o.state IN ('pending', 'delivering', 'failed') AND o.last_error IS NOT NULL
   ORDER BY o.updated_at DESC, o.seq DESC LIMIT ${p(1)}`;

/** The outbox's rows by state, and (as the `incident_open` row) the incidents open now and when the oldest opened. */
export const statsSql = `SELECT state, COUNT(*) AS n, MIN(created_at) AS oldest FROM incident_outbox GROUP BY state
  UNION ALL SELECT 'incident_open' AS state, COUNT(*) AS n, MIN(opened_at) AS oldest FROM incidents WHERE state = 'open'`;

/**
 * The due rows: pending and due, or claimed with an expired lease. An update waits until its create is delivered
 * and every earlier update of its incident is delivered or failed, so updates reach Datadog in order and after the
 * incident exists. Parameters: now (for next attempts), now (for leases: the database's on PostgreSQL), limit.
 *
 * `sqliteCovering`: the look-ups of each due update read the covering indexes of `incidentsSchema('sqlite')`, not
 * the rows. SQLite's planner takes the unique index on `id` otherwise, and reads each create's row up to its `state`
 * past the payload's overflow pages: with 1,400 due rows (a burst of webhooks while Datadog is unconfigured or
 * down) a claim took 9 ms instead of about 0.5 ms, once per row delivered, and the claims of a burst of 3,000 webhooks
 * held the event loop long enough to shed 97 % of the LLM calls sent meanwhile.
 */
export const dueSeqsSql = (p: Placeholder, lockClause = '', sqliteCovering = false): string =>
  `SELECT o.seq FROM incident_outbox o
   WHERE ((o.state = 'pending' AND o.next_attempt_at <= ${p(1)}) OR (o.state = 'delivering' AND o.lease_until <= ${p(2)}))
     AND (o.kind = 'create' OR (
       EXISTS (SELECT 1 FROM incident_outbox c${sqliteCovering ? ' INDEXED BY incident_outbox_state_id' : ''}
               WHERE c.id = o.incident_ref AND c.state = 'delivered')
       AND NOT EXISTS (SELECT 1 FROM incident_outbox e${sqliteCovering ? ' INDEXED BY incident_outbox_ref_kind' : ''}
                       WHERE e.incident_ref = o.incident_ref AND e.kind = 'update'
                       AND e.seq < o.seq AND e.state IN ('pending', 'delivering'))))
   ORDER BY o.seq LIMIT ${p(3)}${lockClause}`;

/** Parameters: worker, lease until, now; the seqs inline (integers from the due query). */
export const claimSql = (p: Placeholder, seqs: string): string =>
  `UPDATE incident_outbox SET state = 'delivering', claimed_by = ${p(1)}, lease_until = ${p(2)}, updated_at = ${p(3)}
   WHERE seq IN (${seqs})`;

/** Parameters: lease until, now, id, worker. */
export const renewLeaseSql = (p: Placeholder): string =>
  `UPDATE incident_outbox SET lease_until = ${p(1)}, updated_at = ${p(2)}
   WHERE id = ${p(3)} AND state = 'delivering' AND claimed_by = ${p(4)}`;

/**
 * PostgreSQL's clock in epoch ms, read when the statement runs (`clock_timestamp()`, not the transaction's start).
 * The PostgreSQL outbox times leases on it: replicas' wall clocks disagree, and one running ahead by more than the
 * lease would take over a row its holder is still delivering (an incident created twice).
 */
export const SERVER_NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::BIGINT';

/** `renewLeaseSql` on the database's clock. Parameters: lease length (ms), now, id, worker. */
export const renewLeaseOnServerClockSql = (p: Placeholder): string =>
  `UPDATE incident_outbox SET lease_until = ${SERVER_NOW_MS} + ${p(1)}, updated_at = ${p(2)}
   WHERE id = ${p(3)} AND state = 'delivering' AND claimed_by = ${p(4)}`;

/** Parameters: incident id, url, now, now, id, worker. */
export const markDeliveredSql = (p: Placeholder): string =>
  `UPDATE incident_outbox SET state = 'delivered', datadog_id = ${p(1)}, datadog_url = ${p(2)}, delivered_at = ${p(3)},
     updated_at = ${p(4)}, claimed_by = NULL, lease_until = NULL, last_error = NULL
   WHERE id = ${p(5)} AND state = 'delivering' AND claimed_by = ${p(6)}`;

/** Parameters: next attempt, reason, now, id, worker. */
export const markRetrySql = (p: Placeholder): string =>
  `UPDATE incident_outbox SET state = 'pending', attempts = attempts + 1, next_attempt_at = ${p(1)}, last_error = ${p(2)},
     updated_at = ${p(3)}, claimed_by = NULL, lease_until = NULL
   WHERE id = ${p(4)} AND state = 'delivering' AND claimed_by = ${p(5)}`;

/** Parameters: reason, now, id, worker. */
export const markFailedSql = (p: Placeholder): string =>
  `UPDATE incident_outbox SET state = 'failed', attempts = attempts + 1, last_error = ${p(1)}, updated_at = ${p(2)},
     claimed_by = NULL, lease_until = NULL
   WHERE id = ${p(3)} AND state = 'delivering' AND claimed_by = ${p(4)}`;

/** After a create failed for good. Parameters: reason, now, incident ref. */
export const failUpdatesSql = (p: Placeholder): string =>
  `UPDATE incident_outbox SET state = 'failed', last_error = ${p(1)}, updated_at = ${p(2)}
   WHERE incident_ref = ${p(3)} AND kind = 'update' AND state = 'pending'`;

/** Parameters: now, id. */
export const closeFailedIncidentSql = (p: Placeholder): string =>
  `UPDATE incidents SET state = 'failed', closed_at = ${p(1)} WHERE id = ${p(2)} AND state = 'open'`;

/** Parameters: now, id, worker. */
export const releaseSql = (p: Placeholder): string =>
  `UPDATE incident_outbox SET state = 'pending', claimed_by = NULL, lease_until = NULL, updated_at = ${p(1)}
   WHERE id = ${p(2)} AND state = 'delivering' AND claimed_by = ${p(3)}`;

export const selectOpenIncidentSql = (p: Placeholder): string =>
  `SELECT id, severity, alert_count, last_alert_at FROM incidents WHERE dedupe_key = ${p(1)} AND state = 'open'`;

/** The incident of a key resolved most recently, at or after a time. Parameters: dedupe key, since. */
export const selectRecentlyResolvedSql = (p: Placeholder): string =>
  `SELECT id, severity, alert_count, last_alert_at, closed_at FROM incidents
   WHERE dedupe_key = ${p(1)} AND state = 'resolved' AND closed_at >= ${p(2)}
   ORDER BY closed_at DESC LIMIT 1`;

/** Parameters: severity, alert count, last alert, id. */
export const reopenIncidentSql = (p: Placeholder): string =>
  `UPDATE incidents SET state = 'open', closed_at = NULL, severity = ${p(1)}, alert_count = ${p(2)},
     last_alert_at = ${p(3)} WHERE id = ${p(4)} AND state = 'resolved'`;

/** The reopenings of an incident so far (its `-reopens` update rows). Parameters: incident ref, the id pattern. */
export const countReopeningsSql = (p: Placeholder): string =>
  `SELECT COUNT(*) AS n FROM incident_outbox WHERE incident_ref = ${p(1)} AND kind = 'update' AND id LIKE ${p(2)}`;

export const insertIncidentSql = (p: Placeholder): string =>
  `INSERT INTO incidents (id, dedupe_key, monitor, grp, title, severity, state, alert_count, opened_at, last_alert_at)
   VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, 'open', 1, ${p(7)}, ${p(7)})`;

/** Parameters: severity, alert count, last alert, id. */
export const updateIncidentAlertSql = (p: Placeholder): string =>
  `UPDATE incidents SET severity = ${p(1)}, alert_count = ${p(2)}, last_alert_at = ${p(3)} WHERE id = ${p(4)}`;

/** Parameters: state, closed at, id. */
export const closeIncidentSql = (p: Placeholder): string =>
  `UPDATE incidents SET state = ${p(1)}, closed_at = ${p(2)} WHERE id = ${p(3)} AND state = 'open'`;

export const selectAlertClockSql = (p: Placeholder): string =>
  `SELECT last_alert_at, last_recovery_at, last_event_id FROM incident_alert_events WHERE dedupe_key = ${p(1)}`;

/** Parameters: dedupe key, last alert at, last recovery at, last event id, now. */
export const upsertAlertClockSql = (p: Placeholder): string =>
  `INSERT INTO incident_alert_events (dedupe_key, last_alert_at, last_recovery_at, last_event_id, updated_at)
   VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)})
   ON CONFLICT (dedupe_key) DO UPDATE SET last_alert_at = excluded.last_alert_at,
     last_recovery_at = excluded.last_recovery_at, last_event_id = excluded.last_event_id,
     updated_at = excluded.updated_at`;

export function toAlertClock(row: Record<string, unknown>): AlertClock {
  return {
    lastAlertAt: numOrNull(row.last_alert_at),
    lastRecoveryAt: numOrNull(row.last_recovery_at),
    lastEventId: strOrNull(row.last_event_id),
  };
}

export const selectIdempotencySql = (p: Placeholder): string =>
  `SELECT fingerprint, outbox_id, action FROM incident_requests WHERE idem_key = ${p(1)}`;

/** Parameters: key, fingerprint, outbox id, action, now. */
export const insertIdempotencySql = (p: Placeholder): string =>
  `INSERT INTO incident_requests (idem_key, fingerprint, outbox_id, action, created_at)
   VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)})`;

export const selectIncidentTitleSql = (p: Placeholder): string =>
  `SELECT title, severity FROM incidents WHERE id = ${p(1)}`;

export const insertOutboxSql = (p: Placeholder): string =>
  `INSERT INTO incident_outbox (id, kind, incident_ref, payload, title, severity, state, attempts, next_attempt_at,
     created_at, updated_at)
   VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, 'pending', 0, ${p(7)}, ${p(7)}, ${p(7)})`;

export function outboxValues(row: {
  id: string;
  kind: OutboxKind;
  incidentRef: string;
  payload: unknown;
  title: string;
  severity: IncidentSeverity;
  now: number;
}): Value[] {
  return [row.id, row.kind, row.incidentRef, JSON.stringify(row.payload), row.title, row.severity, row.now];
}

// PostgreSQL returns BIGINT as a string; SQLite returns numbers.
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
function strOrNull(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  return typeof v === 'number' || typeof v === 'bigint' ? String(v) : JSON.stringify(v);
}
const oneOf = <T extends string>(values: readonly T[], v: unknown, fallback: T): T =>
  values.includes(v as T) ? (v as T) : fallback;

export function toOpenIncident(row: Record<string, unknown>): OpenIncident {
  return {
    id: String(row.id),
    severity: oneOf(INCIDENT_SEVERITIES, row.severity, 'SEV-3'),
    alertCount: num(row.alert_count),
    lastAlertAt: num(row.last_alert_at),
  };
}

export function toEntry(row: Record<string, unknown>): OutboxEntry {
  return {
    id: String(row.id),
    seq: num(row.seq),
    kind: row.kind === 'update' ? 'update' : 'create',
    incidentRef: String(row.incident_ref),
    payload: JSON.parse(String(row.payload)) as OutboxEntry['payload'],
    title: String(row.title),
    severity: oneOf(INCIDENT_SEVERITIES, row.severity, 'SEV-3'),
    state: oneOf<OutboxState>(OUTBOX_STATES, row.state, 'pending'),
    attempts: num(row.attempts),
    nextAttemptAt: num(row.next_attempt_at),
    claimedBy: strOrNull(row.claimed_by),
    leaseUntil: numOrNull(row.lease_until),
    lastError: strOrNull(row.last_error),
    incidentId: strOrNull(row.incident_id),
    incidentUrl: strOrNull(row.incident_url),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
    deliveredAt: numOrNull(row.delivered_at),
    monitor: strOrNull(row.monitor),
    group: strOrNull(row.grp),
    incidentState:
      row.incident_state === null || row.incident_state === undefined
        ? null
        : oneOf<IncidentState>(INCIDENT_STATES, row.incident_state, 'open'),
    alertCount: numOrNull(row.alert_count),
  };
}

/**
 * Retention, a whole incident at a time: the rows of incidents no longer open locally (closed before `$1`) once every
 * one of their rows is finished (delivered or failed) and older than `$1`, then those incidents. An open incident,
 * or one with a row still waiting (a resolution not yet sent needs its create's Datadog id), keeps everything.
 */
export function purgeFinishedSql(p: Placeholder): [rows: string, incidents: string, events: string, requests: string] {
  return [
    `DELETE FROM incident_outbox
      WHERE incident_ref IN (SELECT id FROM incidents WHERE state <> 'open' AND COALESCE(closed_at, last_alert_at) < ${p(1)})
        AND incident_ref NOT IN (
          SELECT incident_ref FROM incident_outbox WHERE state NOT IN ('delivered', 'failed') OR updated_at >= ${p(1)}
        )`,
    `DELETE FROM incidents WHERE state <> 'open' AND COALESCE(closed_at, last_alert_at) < ${p(1)}
      AND id NOT IN (SELECT incident_ref FROM incident_outbox)`,
    `DELETE FROM incident_alert_events WHERE updated_at < ${p(1)}
      AND dedupe_key NOT IN (SELECT dedupe_key FROM incidents WHERE state = 'open')`,
    `DELETE FROM incident_requests WHERE created_at < ${p(1)}`,
  ];
}
