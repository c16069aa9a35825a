import { DAY_MS, DomainError, utcDayStart } from '@app/common';
import { formatTags, type MetricsPort } from '@app/telemetry';
import { LEDGER_METRICS } from '../ledger.metrics';
import type { UsageLedger } from '../usage-ledger';
import { LEDGER_ERRORS } from '../ledger.errors';
import { MemoryReservationStore } from './memory-reservation.store';
import type { Admission, ReservationRequest, ReservationStore } from './reservation-store.port';

export type BudgetPolicy = 'alert' | 'enforce';
/** Retry-After of a call refused only for the reservations of calls in flight: they settle as those calls end. */
export const RESERVED_RETRY_S = 5;

/** Dollars as a person reads them: cents from $1 on, else three significant digits ($0.0075, not $0.00). */
const usd = (x: number): string => (x >= 1 ? x.toFixed(2) : String(Number(x.toPrecision(3))));

export type BudgetRisk = 'none' | 'low' | 'medium' | 'high' | 'critical' | 'exceeded';

/**
 * Today's spend against the daily budget. Spend only: what the forecast adds (the 24 h forecast, the predicted
 * breach) is `BudgetOutlook`'s, in the forecast lib, which reads this.
 */
export interface BudgetStatus {
  policy: BudgetPolicy;
  /** Null when no DAILY_BUDGET_USD is set (budgets off). */
  dailyBudgetUsd: number | null;
  spentTodayUsd: number;
  /** Held by calls in flight (their worst-case cost) and not yet spent; 0 without a budget. */
  reservedUsd: number;
  /** Percent of the daily budget spent or reserved today; null without a budget. */
  utilizationPct: number | null;
  /** From today's spend and reservations. */
  risk: BudgetRisk;
  exceeded: boolean;
  /** Next UTC midnight, when today's spend resets (ISO 8601). */
  resetAt: string;
}

export interface BudgetOptions {
  dailyUsd?: number;
  policy: BudgetPolicy;
  /** How often the spend gauges are emitted. */
  reportEveryMs?: number;
  /**
   * How long a reservation counts unless settled or released first: the call deadline plus the ledger's flush
   * interval plus a margin (default 2 min + 2 s).
   */
  reservationTtlMs?: number;
  now?: () => number;
}

/** Risk bands on utilisation (percent of the daily budget, spent or projected). */
export function budgetRisk(pct: number | null): BudgetRisk {
  if (pct === null) return 'none';
  if (pct >= 100) return 'critical';
  if (pct >= 90) return 'high';
  if (pct >= 70) return 'medium';
  return 'low';
}

/** The figures of a BUDGET_EXCEEDED refusal (the 429's extension members). */
interface Refusal {
  spentUsd: number;
  reservedUsd: number;
  /** Null when refused before the call's worst case was computed (spend alone reached the budget). */
  worstCaseUsd: number | null;
  /** What sets the call's max output tokens, named when a lower one may fit (`max_tokens`, `LLM_MAX_OUTPUT_TOKENS`). */
  outputLimit?: string;
}

/**
 * Daily budget (UTC day) over the usage ledger: spend, reservations and enforcement. Each LLM call reserves
 * its worst-case cost before it starts (`reserve`) and the reservation stops counting when the call's spend
 * counts (`settle`) or when the call failed (`release`), or expires after the call deadline (renewed while a stream
 * goes on past it, `keepAlive`). With
 * BUDGET_POLICY=enforce a call that does not fit (spend + live reservations + its worst case > DAILY_BUDGET_USD)
 * is refused with 429 BUDGET_EXCEEDED; under `alert` it is reserved all the same and the gauges count it.
 * Reservations are per process in memory (embedded ledger: no I/O on the request path) or shared by every
 * instance in PostgreSQL (one round trip per call). Without a budget nothing runs per call.
 * It knows nothing of forecasts: the forecast lib's `BudgetOutlook` reads `status()` and adds them.
 */
export class BudgetService {
  private readonly now: () => number;
  private readonly reservations: ReservationStore;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ledger: UsageLedger,
    private readonly metrics: MetricsPort,
    private readonly options: BudgetOptions,
    reservations?: ReservationStore,
  ) {
    this.now = options.now ?? Date.now;
    this.reservations = reservations ?? new MemoryReservationStore();
  }

  /** Creates the reservations' schema (PostgreSQL) and starts the gauges. */
  async init(): Promise<void> {
    if (this.reserving) await this.reservations.init();
    this.start();
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.reserving) void this.reservations.refresh().finally(() => this.report());
      else this.report();
    }, this.options.reportEveryMs ?? 60_000);
    this.timer.unref();
  }

  /** Closes the reservations' store, releasing what this process holds. */
  async close(): Promise<void> {
    this.stop();
    await this.reservations.close();
  }

  /** A daily budget is set: calls reserve their worst case (`reserve`, `settle`, `release`). */
  get reserving(): boolean {
    return this.options.dailyUsd !== undefined;
  }

  /** Where reservations live: `memory` (per process) or `postgres` (shared). */
  get reservationStore(): 'memory' | 'postgres' {
    return this.reservations.kind;
  }

  /**
   * Reserves a call's worst-case cost (`id`: its prompt id) before it starts. Under enforce, throws
   * BUDGET_EXCEEDED (429) when it does not fit. Synchronous (returns nothing) with the in-memory store; a promise
   * (one round trip) with PostgreSQL. Does nothing without a budget. `outputLimit` names what sets the call's max
   * output tokens (the request's `max_tokens`, or the service's setting on routes that take none): a refusal whose
   * worst case never fits says a lower one may.
   */
  reserve(id: string, amountUsd: number, now = this.now(), outputLimit = 'max_tokens'): void | Promise<void> {
    const budget = this.options.dailyUsd;
    if (budget === undefined) return;
    const amount = Number.isFinite(amountUsd) && amountUsd > 0 ? amountUsd : 0;
    const admission = this.reservations.reserve(this.reservation(id, amount, budget, now));
    if (admission instanceof Promise) return admission.then((a) => this.decide(a, amount, now, outputLimit));
    this.decide(admission, amount, now, outputLimit);
  }

  /**
   * A call in flight asks to hold more (`id`: its prompt id): `amountUsd` is all it may now cost, what its failed
   * attempts were billed plus another attempt's worst case. Weighed beside the other calls' reservations (its own is
   * what it replaces); true when admitted (always under `alert`). When refused, the call keeps what it held and must not
   * make another attempt: its retries could otherwise spend several times its reservation, and calls in flight together
   * overrun the budget. Never throws (the call's failure says why it stopped).
   */
  extend(id: string, amountUsd: number, now = this.now()): boolean | Promise<boolean> {
    const budget = this.options.dailyUsd;
    if (budget === undefined) return true;
    const amount = Number.isFinite(amountUsd) && amountUsd > 0 ? amountUsd : 0;
    const admission = this.reservations.reserve(this.reservation(id, amount, budget, now));
    return admission instanceof Promise ? admission.then((a) => a.admitted) : admission.admitted;
  }

  /** What `reserve` and `extend` ask the store: `amountUsd` held for `id`, weighed against today's spend and budget. */
  private reservation(id: string, amountUsd: number, budgetUsd: number, now: number): ReservationRequest {
    return {
      id,
      amountUsd,
      ttlMs: this.ttlMs,
      budgetUsd,
      enforce: this.options.policy === 'enforce',
      dayStart: utcDayStart(now),
      spentTodayUsd: this.ledger.spendToday(now),
      now,
    };
  }

  /** The call's ledger record has been made: its reservation stops counting once its spend does. */
  settle(id: string, now = this.now()): void {
    if (this.reserving) this.reservations.settle(id, now);
  }

  /** The call failed or was abandoned: its reservation stops counting. */
  release(id: string, now = this.now()): void {
    if (this.reserving) this.reservations.release(id, now);
  }

  /**
   * Keeps a call's reservation counting while it goes on past its time to live, which the call deadline sets: a
   * stream is bounded by the deadline only until its first token, then by its pauses, so a long one (a slow model, a
   * long answer) outlived its reservation, and an enforced budget admitted other calls into the room it still spent.
   * Renews it every third of the time to live until the returned function is called (at the call's end, where it
   * settles or releases); a process that dies stops renewing, and its reservations expire as before.
   */
  keepAlive(id: string): () => void {
    if (!this.reserving) return () => undefined;
    const ttlMs = this.ttlMs;
    const timer = setInterval(() => this.reservations.renew(id, ttlMs), Math.max(1, Math.floor(ttlMs / 3)));
    timer.unref();
    return () => clearInterval(timer);
  }

  private get ttlMs(): number {
    return this.options.reservationTtlMs ?? 122_000;
  }

  private decide(admission: Admission, amountUsd: number, now: number, outputLimit: string): void {
    if (admission.admitted) return;
    this.refuse(now, {
      spentUsd: admission.spentTodayUsd,
      reservedUsd: admission.reservedUsd,
      worstCaseUsd: amountUsd,
      outputLimit,
    });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Throws DomainError BUDGET_EXCEEDED (429, with resetAt and a Retry-After header) when the policy is
   * enforce and today's spend has reached the budget; otherwise does nothing.
   */
  assertCanSpend(now = this.now()): void {
    const budget = this.options.dailyUsd;
    if (this.options.policy !== 'enforce' || budget === undefined) return;
    const spent = this.ledger.spendToday(now);
    if (spent < budget) return;
    this.refuse(now, { spentUsd: spent, reservedUsd: this.reservations.reservedUsd(now), worstCaseUsd: null });
  }

  private refuse(now: number, refusal: Refusal): never {
    const budget = this.options.dailyUsd ?? 0;
    const { spentUsd, reservedUsd, worstCaseUsd, outputLimit = 'max_tokens' } = refusal;
    const reset = utcDayStart(now) + DAY_MS;
    this.metrics.increment(LEDGER_METRICS.budgetRejected.name, 1);
    const worst = worstCaseUsd ?? 0;
    // Three cases, and when to come back: the budget is spent (at the reset); this call's worst case is more than is
    // left even with nothing in flight (at the reset, or with a lower max output tokens); it would fit once the
    // calls in flight settle their reservations (in seconds: they settle as they end).
    const spent = spentUsd >= budget;
    const neverFits = !spent && spentUsd + worst > budget;
    const retryAfter = spent || neverFits ? Math.max(1, Math.ceil((reset - now) / 1000)) : RESERVED_RETRY_S;
    const left = `$${usd(Math.max(0, budget - spentUsd))} left of the daily budget of $${usd(budget)}`;
    const why = spent
      ? `Today's LLM spend ($${usd(spentUsd)}) has reached the daily budget of $${usd(budget)}`
      : neverFits
        ? `This call could cost up to $${usd(worst)} (its max output tokens at the model's price), more than the ` +
          `${left} ($${usd(spentUsd)} spent); a lower ${outputLimit} may fit`
        : `This call could cost up to $${usd(worst)}: it fits the ${left} ($${usd(spentUsd)} spent), but not ` +
          `beside the $${usd(reservedUsd)} reserved by calls in flight; retry in ${RESERVED_RETRY_S} s, as they end`;
    throw new DomainError(
      LEDGER_ERRORS.BUDGET_EXCEEDED,
      `${why}; the budget resets at ${new Date(reset).toISOString()}.`,
      {
        resetAt: new Date(reset).toISOString(),
        dailyBudgetUsd: budget,
        spentTodayUsd: round(spentUsd),
        reservedUsd: round(reservedUsd),
        callWorstCaseUsd: worstCaseUsd === null ? null : round(worstCaseUsd),
      },
      { 'retry-after': String(retryAfter) },
    );
  }

  status(now = this.now()): BudgetStatus {
    const budget = this.options.dailyUsd ?? null;
    const spent = this.ledger.spendToday(now);
    const reserved = budget === null ? 0 : this.reservations.reservedUsd(now);
    const used = spent + reserved;
    const pct = budget === null ? null : budget === 0 ? (used > 0 ? Infinity : 0) : (100 * used) / budget;
    const exceeded = budget !== null && spent >= budget;
    return {
      policy: this.options.policy,
      dailyBudgetUsd: budget,
      spentTodayUsd: round(spent),
      reservedUsd: round(reserved),
      utilizationPct: pct === null ? null : round(Math.min(pct, 1e6)),
      risk: exceeded ? 'exceeded' : budgetRisk(pct),
      exceeded,
      resetAt: new Date(utcDayStart(now) + DAY_MS).toISOString(),
    };
  }

  /** Emits the spend gauges (periodically; also callable from tests). */
  report(now = this.now()): BudgetStatus {
    const status = this.status(now);
    this.metrics.gauge(LEDGER_METRICS.budgetSpendToday.name, status.spentTodayUsd);
    if (status.utilizationPct !== null) {
      const state = status.exceeded ? 'exceeded' : status.utilizationPct >= 90 ? 'warning' : 'ok';
      this.metrics.gauge(LEDGER_METRICS.budgetUtilization.name, status.utilizationPct, formatTags({ state }));
    }
    return status;
  }
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
