import type {
  AlertRecord,
  DeliveredRef,
  ListFilter,
  OutboxEntry,
  OutboxStats,
  RecordOutcome,
  RecoveryRecord,
} from './outbox.types';

export type IncidentOutboxKind = 'sqlite' | 'postgres';

/**
 * The durable outbox of incident requests and the local state of each incident (for dedupe), shared by every
 * replica on one database: SQLite under DATA_DIR (`incidents.sqlite`), or PostgreSQL with DATABASE_URL. Every
 * request is written here before anything is sent to Datadog; the delivery worker claims due rows with a lease.
 * Each decision that two replicas could race on (dedupe, claim) is one transaction.
 */
export abstract class IncidentOutboxStore {
  abstract readonly kind: IncidentOutboxKind;
  /** Opens the database and creates the schema if missing (idempotent). */
  abstract init(): Promise<void>;
  /**
   * In one transaction, serialised per dedupe key: updates the open incident of `dedupeKey` when its last alert is
   * within the dedupe window (an update row), else opens a new one (a create row), or ignores an `update-only`
   * alert with no open incident (see `decideAlert`).
   */
  abstract recordAlert(alert: AlertRecord): Promise<RecordOutcome>;
  /** In one transaction: resolves the open incident of `dedupeKey` (an update row), or ignores the recovery. */
  abstract recordRecovery(recovery: RecoveryRecord): Promise<RecordOutcome>;
  /**
   * Claims up to `limit` due rows for `worker` until `now + leaseMs`: pending rows whose next attempt is due and
   * rows whose lease expired; an update only once its create is delivered and every earlier update of its incident
   * is delivered or failed. Oldest first. Two workers never hold the same row. PostgreSQL times the lease (its end,
   * its expiry) on the database's clock, not on `now`: replicas' clocks disagree.
   */
  abstract claimDue(worker: string, now: number, leaseMs: number, limit: number): Promise<OutboxEntry[]>;
  /**
   * Extends the lease of a row `worker` holds (its heartbeat while a delivery is under way); false when it no longer
   * holds it. PostgreSQL renews for `leaseUntil - now` from the database's clock.
   */
  abstract renewLease(id: string, worker: string, leaseUntil: number, now: number): Promise<boolean>;
  /** Delivered (false when `worker` no longer holds the row: another replica took it over). */
  abstract markDelivered(id: string, worker: string, ref: DeliveredRef, now: number): Promise<boolean>;
  /** Back to pending, attempts + 1, next attempt at `nextAttemptAt`, the reason kept. */
  abstract markRetry(id: string, worker: string, reason: string, nextAttemptAt: number, now: number): Promise<boolean>;
  /**
   * Failed for good; a failed create also fails its pending updates and closes its incident locally, and so does
   * an update with `incidentGone` (Datadog no longer holds the incident: 404), so that the next alert opens anew.
   */
  abstract markFailed(
    id: string,
    worker: string,
    reason: string,
    now: number,
    incidentGone?: boolean,
  ): Promise<boolean>;
  /** Gives a claimed row back (pending, same attempts and due time), e.g. at shutdown before it was tried. */
  abstract release(id: string, worker: string, now: number): Promise<boolean>;
  abstract get(id: string): Promise<OutboxEntry | undefined>;
  /** Rows newest first. */
  abstract list(filter: ListFilter): Promise<OutboxEntry[]>;
  abstract stats(now: number): Promise<OutboxStats>;
  /** Rows not delivered that carry a reason (the last attempt's error, or why they wait), latest first. */
  abstract lastErrors(limit: number): Promise<OutboxEntry[]>;
  /**
   * Deletes what is finished and older than `before`: delivered or failed rows of incidents no longer open, then
   * those incidents. Returns how many rows and incidents went.
   */
  abstract purgeFinished(before: number): Promise<{ rows: number; incidents: number }>;
  abstract close(): Promise<void>;
}
