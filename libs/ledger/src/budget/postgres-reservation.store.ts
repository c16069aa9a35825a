import { createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Pool } from 'pg';
import { watchPostgresPool } from '@app/common';
import type { UsageLedger } from '../usage-ledger';
import { MemoryReservationStore } from './memory-reservation.store';
import { type Admission, admits, type ReservationRequest, ReservationStore } from './reservation-store.port';

/** Serialises schema creation between instances starting together (the ledger store's is 7349001). */
const SCHEMA_LOCK = 7349003;

/**
 * After an admission the database failed (refused, timed out), the calls of the next this many ms are decided on this
 * process's figures without asking it; the first call after asks again.
 */
export const ADMISSION_RETRY_MS = 5000;
/** Serialises admissions across instances, for the length of one admission's transaction. */
const ADMISSION_LOCK = 7349002;

/**
 * `budget_reserve_<digest>` is the admission: one statement (`SELECT * FROM budget_reserve_…(...)`, one round trip, its
 * own transaction). It takes a transaction-scoped advisory lock first, so admissions run one at a time across
 * every instance; each statement after the lock takes a new snapshot (READ COMMITTED, a VOLATILE function), so
 * it sees every admission committed before it (the lock is released after the commit is visible) and every
 * ledger flush committed so far: no two admissions can both take the last room (no read-then-write race).
 * Spend is the sum of today's hourly rollups (all instances' flushed records); time is the server's clock, so
 * instances' clocks do not matter for expiry. A call that asks again with its id (a larger amount after billed failed
 * attempts, `BudgetService.extend`) is weighed beside the others' reservations, not its own, which it replaces if
 * admitted and keeps if not.
 */
const ADMISSION_DEFINITION = `(
  p_id TEXT, p_amount DOUBLE PRECISION, p_ttl_ms BIGINT, p_day_start BIGINT, p_budget DOUBLE PRECISION,
  p_enforce BOOLEAN
) RETURNS TABLE (admitted BOOLEAN, spent_usd DOUBLE PRECISION, reserved_usd DOUBLE PRECISION)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  now_ms BIGINT;
BEGIN
  PERFORM pg_advisory_xact_lock(${ADMISSION_LOCK});
  now_ms := (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT;
  DELETE FROM budget_reservations WHERE expires_at <= now_ms;
  SELECT COALESCE(SUM(h.cost_usd), 0) INTO spent_usd FROM usage_hourly h
    WHERE h.hour >= p_day_start AND h.hour < p_day_start + 86400000;
  SELECT COALESCE(SUM(r.amount_usd), 0) INTO reserved_usd FROM budget_reservations r WHERE r.id <> p_id;
  admitted := NOT p_enforce OR (spent_usd < p_budget AND spent_usd + reserved_usd + p_amount <= p_budget + 1e-12);
  IF admitted THEN
    INSERT INTO budget_reservations (id, amount_usd, expires_at) VALUES (p_id, p_amount, now_ms + p_ttl_ms)
      ON CONFLICT (id) DO UPDATE SET amount_usd = excluded.amount_usd, expires_at = excluded.expires_at;
  END IF;
  RETURN NEXT;
END
$$`;

/**
 * The admission function's name carries a digest of its definition (`budget_reserve_<10 hex>`): each build creates
 * and calls its own, and never replaces another's. With one name, every replica replaced it as it started, so during
 * a rolling deploy (or a rollback) the last replica started decided every replica's admissions, by its own rule.
 * A definition no build calls any more stays behind, unused (a few hundred bytes; `DROP FUNCTION` removes it).
 */
export const ADMISSION_FUNCTION = `budget_reserve_${createHash('sha256').update(ADMISSION_DEFINITION).digest('hex').slice(0, 10)}`;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS budget_reservations (
  id TEXT PRIMARY KEY,
  amount_usd DOUBLE PRECISION NOT NULL,
  expires_at BIGINT NOT NULL
)`,
  'CREATE INDEX IF NOT EXISTS budget_reservations_expires ON budget_reservations (expires_at)',
  `CREATE OR REPLACE FUNCTION ${ADMISSION_FUNCTION}${ADMISSION_DEFINITION}`,
];

interface AdmissionRow {
  admitted: boolean;
  spent_usd: number;
  reserved_usd: number;
}

/**
 * Reservations shared by every instance on one PostgreSQL (DATABASE_URL): the admission is one round trip
 * (`budget_reserve_<digest>`, above). Release is batched (one DELETE per tick for the calls that failed meanwhile).
 * Settle waits for the spend to be visible to other instances' admissions: the settled reservation keeps
 * counting (at its worst case) until a ledger flush that began after the call's record has committed, then
 * is deleted (one DELETE per flush for all calls settled before it), so there is no moment when neither the
 * reservation nor the spend counts, and at most one flush interval when both do (conservative).
 *
 * If the database fails an admission, the call is decided here, and the failure is logged: on this process's own
 * reservations (kept in a local copy) plus what the database's last answer said the other instances held and had
 * spent, for as long as those reservations could still be alive (their time to live); after that, on this process's
 * figures alone. Before, the fallback counted this process's figures only: in a burst of admissions queued behind the
 * admission lock, a replica whose queries timed out admitted a whole budget's worth beside the other replica's
 * calls in flight (9-10 calls for a budget of 5, in 2 of 7 loaded runs of budget-concurrency.e2e).
 */
export class PostgresReservationStore extends ReservationStore {
  readonly kind = 'postgres' as const;
  private readonly logger = new Logger('BudgetReservations');
  /** This process's reservations (the fallback's figures). */
  private readonly local = new MemoryReservationStore();
  private lastReservedUsd = 0;
  private releasing: string[] = [];
  private releaseScheduled = false;
  /** Reservations to renew on the next tick, and for how long (one setting: the same for every call). */
  private renewing = new Set<string>();
  private renewTtlMs = 0;
  private settled: string[] = [];
  private settleTimer: NodeJS.Timeout | undefined;
  private settling: Promise<void> | undefined;
  private lastError: string | null = null;
  /** Until when admissions are decided on this process's figures, after one the database failed. */
  private askAgainAt = 0;
  /**
   * The database's last answer, as the fallback counts it: the day's spend (every instance's flushed records), the
   * reservations of calls not this process's, and until when those may still be alive (request clock).
   */
  private lastSeen: { dayStart: number; spentUsd: number; othersUsd: number; until: number } | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly ledger: UsageLedger,
    private readonly settleEveryMs: number,
  ) {
    super();
    // A connection dropping (a database restart, a failover), idle or checked out, never ends the process.
    watchPostgresPool(pool, 'PostgresReservationStore');
  }

  async init(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query(`SELECT pg_advisory_lock(${SCHEMA_LOCK})`);
      for (const statement of SCHEMA) await client.query(statement);
    } finally {
      await client.query(`SELECT pg_advisory_unlock(${SCHEMA_LOCK})`).catch(() => undefined);
      client.release();
    }
  }

  async reserve(request: ReservationRequest): Promise<Admission> {
    // Right after a failed admission, the next calls are decided here without asking: a database that hangs made
    // each of them wait for the pool's timeouts (it made them wait for good before the pool had a query timeout).
    if (request.now < this.askAgainAt) return this.decideHere(request);
    let row: AdmissionRow | undefined;
    try {
      const result = await this.pool.query<AdmissionRow>(
        `SELECT * FROM ${ADMISSION_FUNCTION}($1, $2, $3, $4, $5, $6)`,
        [request.id, request.amountUsd, Math.ceil(request.ttlMs), request.dayStart, request.budgetUsd, request.enforce],
      );
      row = result.rows[0];
      this.lastError = null;
    } catch (error) {
      this.failed('admission', error);
      this.askAgainAt = request.now + ADMISSION_RETRY_MS;
      return this.decideHere(request);
    }
    if (!row) return this.decideHere(request);
    const reservedUsd = Number(row.reserved_usd);
    this.lastSeen = {
      dayStart: request.dayStart,
      spentUsd: Number(row.spent_usd),
      othersUsd: Math.max(0, reservedUsd - this.ownOthersUsd(request.id)),
      until: request.now + request.ttlMs,
    };
    if (row.admitted) this.local.hold(request.id, request.amountUsd, request.ttlMs);
    this.lastReservedUsd = reservedUsd + (row.admitted ? request.amountUsd : this.local.heldUsd(request.id));
    return { admitted: row.admitted, spentTodayUsd: Number(row.spent_usd), reservedUsd };
  }

  /** This process's live reservations beside the call's own (USD). */
  private ownOthersUsd(id: string): number {
    return Math.max(0, this.local.reservedUsd() - this.local.heldUsd(id));
  }

  /**
   * The admission without the database: this process's reservations, plus the other instances' as last seen while
   * they may still be alive, against the larger of this process's spend and the last seen day's spend.
   */
  private decideHere(request: ReservationRequest): Admission {
    const seen = this.lastSeen;
    if (seen === undefined || seen.dayStart !== request.dayStart || request.now >= seen.until) {
      return this.local.reserve(request);
    }
    const reservedUsd = this.ownOthersUsd(request.id) + seen.othersUsd;
    const spentTodayUsd = Math.max(request.spentTodayUsd, seen.spentUsd);
    const admitted = !request.enforce || admits(spentTodayUsd, reservedUsd, request.amountUsd, request.budgetUsd);
    if (admitted) this.local.hold(request.id, request.amountUsd, request.ttlMs);
    return { admitted, spentTodayUsd, reservedUsd };
  }

  settle(id: string): void {
    if (!this.local.has(id)) return;
    this.local.settle(id);
    this.settled.push(id);
    this.scheduleSettle();
  }

  private scheduleSettle(): void {
    this.settleTimer ??= setTimeout(() => {
      this.settling = this.settleFlushed();
    }, this.settleEveryMs);
    this.settleTimer.unref();
  }

  /** Nothing for an id already settled (or never held): its reservation is the settle's to delete. */
  release(id: string): void {
    if (!this.local.has(id)) return;
    this.local.release(id);
    this.releasing.push(id);
    if (this.releaseScheduled) return;
    this.releaseScheduled = true;
    setImmediate(() => void this.deleteReleased());
  }

  /**
   * Batched like release: one UPDATE per tick for the calls renewed meanwhile, the expiry on the server's clock as at
   * admission. A renewal that fails is not retried: the next one (a third of the time to live later) tries again.
   */
  renew(id: string, ttlMs: number): void {
    if (!this.local.has(id)) return;
    this.local.renew(id, ttlMs);
    this.renewTtlMs = ttlMs;
    const first = this.renewing.size === 0;
    this.renewing.add(id);
    if (first) setImmediate(() => void this.extendRenewed());
  }

  private async extendRenewed(): Promise<void> {
    const ids = [...this.renewing];
    this.renewing.clear();
    try {
      await this.pool.query(
        `UPDATE budget_reservations SET expires_at = (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT + $2
         WHERE id = ANY($1::text[])`,
        [ids, Math.ceil(this.renewTtlMs)],
      );
    } catch (error) {
      this.failed('renew', error);
    }
  }

  reservedUsd(): number {
    return this.lastReservedUsd;
  }

  async refresh(): Promise<void> {
    try {
      const result = await this.pool.query<{ reserved: number }>(
        `SELECT COALESCE(SUM(amount_usd), 0) AS reserved FROM budget_reservations
         WHERE expires_at > (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT`,
      );
      this.lastReservedUsd = Number(result.rows[0]?.reserved ?? 0);
    } catch (error) {
      this.failed('refresh', error);
    }
  }

  /** The last database failure, null once an admission succeeds again. */
  get error(): string | null {
    return this.lastError;
  }

  async close(): Promise<void> {
    clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    await this.settling;
    clearTimeout(this.settleTimer);
    // What is settled is flushed by the ledger's own stop; release everything this process still holds.
    await this.remove([...this.releasing, ...this.settled]);
    this.releasing = [];
    this.settled = [];
    await this.local.close();
    await this.pool.end().catch(() => undefined);
  }

  /**
   * Deletes the reservations settled before a ledger flush that then succeeded: `flush()` writes every record
   * made before it was called (it waits for a flush in progress, then writes the whole buffer); when it failed
   * (`lastError`), they are kept and tried again next time, still counting.
   */
  private async settleFlushed(): Promise<void> {
    const ids = this.settled;
    this.settled = [];
    await this.ledger.flush();
    const done = this.ledger.status().lastError === null && (await this.remove(ids));
    if (!done) this.settled = ids.concat(this.settled);
    this.settleTimer = undefined;
    if (this.settled.length > 0) this.scheduleSettle();
  }

  private async deleteReleased(): Promise<void> {
    this.releaseScheduled = false;
    const ids = this.releasing;
    this.releasing = [];
    await this.remove(ids);
  }

  private async remove(ids: string[]): Promise<boolean> {
    if (ids.length === 0) return true;
    try {
      await this.pool.query('DELETE FROM budget_reservations WHERE id = ANY($1::text[])', [ids]);
      return true;
    } catch (error) {
      // Not retried for releases: they expire by themselves within the call deadline.
      this.failed('delete', error);
      return false;
    }
  }

  private failed(what: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (this.lastError === null) {
      this.logger.warn(`budget reservations (${what}) failed, deciding on this process's figures: ${message}`);
    }
    this.lastError = message;
  }
}
