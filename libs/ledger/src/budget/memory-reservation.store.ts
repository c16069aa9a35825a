import { type Admission, admits, type ReservationRequest, ReservationStore } from './reservation-store.port';

interface Held {
  amountUsd: number;
  expiresAt: number;
}

/**
 * Reservations of this process, in memory (the embedded ledger is per host and its spend per process):
 * admission is synchronous, with no I/O. Expired reservations are dropped from the front of the map (insertion
 * order is expiry order, the time to live being one setting); the running total is recomputed when it empties.
 * Settling deletes at once: the call's ledger record has just been added to `UsageLedger.spendToday`.
 */
export class MemoryReservationStore extends ReservationStore {
  readonly kind = 'memory' as const;
  private readonly held = new Map<string, Held>();
  private total = 0;

  init(): Promise<void> {
    return Promise.resolve();
  }

  reserve(request: ReservationRequest): Admission {
    // A call that asks again (`BudgetService.extend`) replaces its own reservation: the others' are what it must fit beside.
    const reservedUsd = Math.max(0, this.reservedUsd(request.now) - this.heldUsd(request.id));
    const admitted =
      !request.enforce || admits(request.spentTodayUsd, reservedUsd, request.amountUsd, request.budgetUsd);
    if (admitted) this.hold(request.id, request.amountUsd, request.now + request.ttlMs);
    return { admitted, spentTodayUsd: request.spentTodayUsd, reservedUsd };
  }

  /** Takes a reservation without a check (also the PostgreSQL store's local copy). */
  hold(id: string, amountUsd: number, expiresAt: number): void {
    this.delete(id);
    this.held.set(id, { amountUsd, expiresAt });
    this.total += amountUsd;
  }

  settle(id: string): void {
    this.delete(id);
  }

  release(id: string): void {
    this.delete(id);
  }

  reservedUsd(now: number): number {
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
