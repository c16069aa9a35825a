import { monotonicNow } from '@app/common';
import { type Admission, admits, type ReservationRequest, ReservationStore } from './reservation-store.port';

interface Held {
  amountUsd: number;
  /** On the store's clock. */
  expiresAt: number;
}

/**
 * Reservations of this process, in memory (the embedded ledger is per host and its spend per process):
 * admission is synchronous, with no I/O. Expired reservations are dropped from the front of the map (insertion
 * order is expiry order, the time to live being one setting); the running total is recomputed when it empties.
 * Settling deletes at once: the call's ledger record has just been added to `UsageLedger.spendToday`.
 *
 * The time to live runs on the monotonic clock (a test's clock when it brings one), not on the requests' `now`:
 * reservations live in this process only, and a wall clock stepped forward past the time to live (NTP, a VM resumed)
 * dropped every reservation of the calls in flight at once, so an enforced budget admitted a new wave on top of them.
 */
export class MemoryReservationStore extends ReservationStore {
  readonly kind = 'memory' as const;
  private readonly held = new Map<string, Held>();
  private total = 0;

  constructor(private readonly clock: () => number = monotonicNow) {
    super();
  }

  init(): Promise<void> {
    return Promise.resolve();
  }

  reserve(request: ReservationRequest): Admission {
    // A call that asks again (`BudgetService.extend`) replaces its own reservation: the others' are what it must fit beside.
    const reservedUsd = Math.max(0, this.reservedUsd() - this.heldUsd(request.id));
    const admitted =
      !request.enforce || admits(request.spentTodayUsd, reservedUsd, request.amountUsd, request.budgetUsd);
    if (admitted) this.hold(request.id, request.amountUsd, request.ttlMs);
    return { admitted, spentTodayUsd: request.spentTodayUsd, reservedUsd };
  }

  /** Takes a reservation for `ttlMs` without a check (also the PostgreSQL store's local copy). */
  hold(id: string, amountUsd: number, ttlMs: number): void {
    this.delete(id);
    this.held.set(id, { amountUsd, expiresAt: this.clock() + ttlMs });
    this.total += amountUsd;
  }

  settle(id: string): void {
    this.delete(id);
  }

  release(id: string): void {
    this.delete(id);
  }

  /** Taken again at the end of the map, for `ttlMs` from now on the store's clock: insertion order stays expiry order. */
  renew(id: string, ttlMs: number): void {
    const held = this.held.get(id);
    if (held) this.hold(id, held.amountUsd, ttlMs);
  }

  /** What the unexpired reservations hold (USD); the store's clock decides, not a caller's `now`. */
  reservedUsd(): number {
    const now = this.clock();
    for (const [id, held] of this.held) {
      if (held.expiresAt > now) break;
      this.delete(id);
    }
    return this.total;
  }

  /** What this id holds (USD), 0 when nothing. */
  heldUsd(id: string): number {
    return this.held.get(id)?.amountUsd ?? 0;
  }

  /** This id holds a reservation (unexpired or not yet dropped). */
  has(id: string): boolean {
    return this.held.has(id);
  }

  /** Live reservations held (tests, status). */
  get size(): number {
    return this.held.size;
  }

  refresh(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.held.clear();
    this.total = 0;
    return Promise.resolve();
  }

  private delete(id: string): void {
    const held = this.held.get(id);
    if (!held) return;
    this.held.delete(id);
    this.total = this.held.size === 0 ? 0 : Math.max(0, this.total - held.amountUsd);
  }
}
