/** What a call asks of the budget before it starts: room for its worst-case cost until it ends. */
export interface ReservationRequest {
  /** The call's prompt id. */
  id: string;
  /** The call's worst-case cost (USD). */
  amountUsd: number;
  /** How long the reservation counts unless settled or released first (the call deadline plus margins). */
  ttlMs: number;
  budgetUsd: number;
  /** Refuse a call that does not fit (BUDGET_POLICY=enforce); under `alert` it is reserved all the same. */
  enforce: boolean;
  /** Start of the UTC day whose spend counts (epoch ms). */
  dayStart: number;
  /** This process's figure for today's spend (`UsageLedger.spendToday`): what the per-process store counts. */
  spentTodayUsd: number;
  now: number;
}

/** The admission decision and the figures it was taken on. */
export interface Admission {
  admitted: boolean;
  spentTodayUsd: number;
  /** Live reservations of the other calls (USD): before this call's, or beside it when it asks again. */
  reservedUsd: number;
}

/**
 * The admission rule, for every store: a call is admitted when today's spend has not reached the budget and
 * the spend, the live reservations and the call's worst case fit within it. The PostgreSQL store evaluates
 * the same rule in SQL (`budget_reserve_<digest>`).
 */
export function admits(spentUsd: number, reservedUsd: number, amountUsd: number, budgetUsd: number): boolean {
  return spentUsd < budgetUsd && spentUsd + reservedUsd + amountUsd <= budgetUsd + 1e-12;
}

/**
 * Port: where budget reservations live. Per process in memory (`MemoryReservationStore`, with the embedded
 * ledger) or shared by every instance in PostgreSQL (`PostgresReservationStore`, with DATABASE_URL).
 *
 * A reservation is taken at admission (`reserve`, atomically with the check), stops counting once the call's
 * spend counts instead (`settle`: after the call's ledger record is visible to the admission check) or at
 * once when the call failed (`release`), and expires after `ttlMs` unless renewed (`renew`, while a stream goes
 * on past it), so the reservations of a crashed process never hold the budget for longer than a call deadline
 * after its last renewal.
 */
export abstract class ReservationStore {
  abstract readonly kind: 'memory' | 'postgres';
  /** Creates the schema when missing (idempotent). */
  abstract init(): Promise<void>;
  /** Synchronous for the in-memory store (no I/O on the request path), one round trip for PostgreSQL. */
  abstract reserve(request: ReservationRequest): Admission | Promise<Admission>;
  /** The call's ledger record has been made: the reservation stops counting once that spend is counted. */
  abstract settle(id: string, now: number): void;
  /** The call failed or was abandoned (it costs nothing): the reservation stops counting now. */
  abstract release(id: string, now: number): void;
  /**
   * The call goes on (a stream, which the call deadline bounds only until its first token): its reservation counts
   * for another `ttlMs` from now (on the store's clock: the process's, or the database's). Nothing for an id that
   * holds none (settled, released, never held).
   */
  abstract renew(id: string, ttlMs: number): void;
  /** Live reservations (USD): exact in memory; for PostgreSQL the figure of the last admission or refresh. */
  abstract reservedUsd(now: number): number;
  /** Reloads the shared figure (PostgreSQL; for the gauges). */
  abstract refresh(): Promise<void>;
  abstract close(): Promise<void>;
}
