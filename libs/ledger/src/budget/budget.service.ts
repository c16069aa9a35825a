import { DAY_MS, DomainError, utcDayStart } from '@app/common';
import { formatTags, type MetricsPort } from '@app/telemetry';
import { LEDGER_METRICS } from '../ledger.metrics';
import type { UsageLedger } from '../usage-ledger';
import { LEDGER_ERRORS } from '../ledger.errors';

export type BudgetPolicy = 'alert' | 'enforce';
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
  /** Percent of the daily budget spent today; null without a budget. */
  utilizationPct: number | null;
  /** From today's spend alone. */
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

/**
 * Daily budget (UTC day) over the usage ledger: spend and enforcement. `assertCanSpend` runs on the LLM request
 * path and is synchronous (the ledger keeps today's spend in memory). With BUDGET_POLICY=enforce, once today's
 * spend reaches DAILY_BUDGET_USD, LLM endpoints answer 429 BUDGET_EXCEEDED until the reset at UTC midnight.
 * It knows nothing of forecasts: the forecast lib's `BudgetOutlook` reads `status()` and adds them.
 */
export class BudgetService {
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ledger: UsageLedger,
    private readonly metrics: MetricsPort,
    private readonly options: BudgetOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.timer = setInterval(() => this.report(), this.options.reportEveryMs ?? 60_000);
    this.timer.unref();
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
    const reset = utcDayStart(now) + DAY_MS;
    const retryAfter = Math.max(1, Math.ceil((reset - now) / 1000));
    this.metrics.increment(LEDGER_METRICS.budgetRejected.name, 1);
    throw new DomainError(
      LEDGER_ERRORS.BUDGET_EXCEEDED,
      `Today's LLM spend ($${spent.toFixed(4)}) has reached the daily budget of $${budget.toFixed(2)}; it resets at ${new Date(reset).toISOString()}.`,
      { resetAt: new Date(reset).toISOString(), dailyBudgetUsd: budget, spentTodayUsd: round(spent) },
      { 'retry-after': String(retryAfter) },
    );
  }

  status(now = this.now()): BudgetStatus {
    const budget = this.options.dailyUsd ?? null;
    const spent = this.ledger.spendToday(now);
    const pct = budget === null ? null : budget === 0 ? (spent > 0 ? Infinity : 0) : (100 * spent) / budget;
    const exceeded = budget !== null && spent >= budget;
    return {
      policy: this.options.policy,
      dailyBudgetUsd: budget,
      spentTodayUsd: round(spent),
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
