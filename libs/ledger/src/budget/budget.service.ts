import { Logger } from '@nestjs/common';
import { DAY_MS, DomainError, HOUR_MS, utcDayStart } from '@app/common';
import { formatTags, type MetricsPort } from '@app/telemetry';
import { LEDGER_METRICS } from '../ledger.metrics';
import type { UsageLedger } from '../usage-ledger';

export type BudgetPolicy = 'alert' | 'enforce';
export type BudgetRisk = 'none' | 'low' | 'medium' | 'high' | 'critical' | 'exceeded';

/** What a cost forecaster tells the budget: the next hours' hourly point forecasts, from the next hour on. */
export interface SpendForecast {
  /** Hourly forecast costs (USD) starting at `startHour`. */
  hourly: readonly number[];
  startHour: number;
  /** `ml` or the name of the baseline that produced it. */
  servedBy: string;
}

export type SpendForecastSource = (hours: number) => Promise<SpendForecast | null>;

/** A predicted breach of today's budget: the signal insights reads. */
export interface BudgetBreachPrediction {
  /** Spend so far plus the forecast for the rest of the UTC day. */
  projectedDayUsd: number;
  dailyBudgetUsd: number;
  /** The first forecast hour at which the cumulative spend crosses the budget (ISO 8601). */
  breachAt: string;
  servedBy: string;
}

export interface BudgetStatus {
  policy: BudgetPolicy;
  /** Null when no DAILY_BUDGET_USD is set (budgets off). */
  dailyBudgetUsd: number | null;
  spentTodayUsd: number;
  /** Percent of the daily budget spent today; null without a budget. */
  utilizationPct: number | null;
  risk: BudgetRisk;
  exceeded: boolean;
  /** Next UTC midnight, when today's spend resets (ISO 8601). */
  resetAt: string;
  /** Forecast cost of the next 24 h, null until a forecaster is registered and answered. */
  forecast24hUsd: number | null;
  forecastServedBy: string | null;
  predictedBreach: BudgetBreachPrediction | null;
}

export interface BudgetOptions {
  dailyUsd?: number;
  policy: BudgetPolicy;
  /** How often the gauges are emitted and the forecast refreshed. */
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
 * Daily budget (UTC day) over the usage ledger. `assertCanSpend` runs on the LLM request path and is
 * synchronous (the ledger keeps today's spend in memory). With BUDGET_POLICY=enforce, once today's spend
 * reaches DAILY_BUDGET_USD, LLM endpoints answer 429 BUDGET_EXCEEDED until the reset at UTC midnight.
 */
export class BudgetService {
  private readonly logger = new Logger('BudgetService');
  private readonly now: () => number;
  private forecastSource: SpendForecastSource | undefined;
  private lastForecast: SpendForecast | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ledger: UsageLedger,
    private readonly metrics: MetricsPort,
    private readonly options: BudgetOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The forecaster registers itself here (ml lib), so the ledger lib does not depend on it. */
  useForecast(source: SpendForecastSource): void {
    this.forecastSource = source;
  }

  start(): void {
    this.timer = setInterval(() => void this.report(), this.options.reportEveryMs ?? 60_000);
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
      'BUDGET_EXCEEDED',
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
    const forecast = this.lastForecast;
    const breach = this.predictBreach(now, spent, budget, forecast);
    const projectedPct = breach && budget ? (100 * breach.projectedDayUsd) / budget : pct;
    return {
      policy: this.options.policy,
      dailyBudgetUsd: budget,
      spentTodayUsd: round(spent),
      utilizationPct: pct === null ? null : round(Math.min(pct, 1e6)),
      risk: exceeded ? 'exceeded' : budgetRisk(projectedPct === null ? null : Math.max(pct ?? 0, projectedPct)),
      exceeded,
      resetAt: new Date(utcDayStart(now) + DAY_MS).toISOString(),
      forecast24hUsd: forecast ? round(forecast.hourly.slice(0, 24).reduce((a, b) => a + b, 0)) : null,
      forecastServedBy: forecast?.servedBy ?? null,
      predictedBreach: breach,
    };
  }

  private predictBreach(
    now: number,
    spent: number,
    budget: number | null,
    forecast: SpendForecast | null,
  ): BudgetBreachPrediction | null {
    if (budget === null || !forecast || spent >= budget) return null;
    const dayEnd = utcDayStart(now) + DAY_MS;
    let cumulative = spent;
    let breachAt: number | null = null;
    forecast.hourly.forEach((cost, i) => {
      const hour = forecast.startHour + i * HOUR_MS;
      if (hour < now - HOUR_MS || hour >= dayEnd) return;
      cumulative += cost;
      if (breachAt === null && cumulative >= budget) breachAt = hour + HOUR_MS;
    });
    if (breachAt === null) return null;
    return {
      projectedDayUsd: round(cumulative),
      dailyBudgetUsd: budget,
      breachAt: new Date(breachAt).toISOString(),
      servedBy: forecast.servedBy,
    };
  }

  /** Refreshes the forecast and emits the budget gauges (periodically; also callable from tests). */
  async report(now = this.now()): Promise<BudgetStatus> {
    if (this.forecastSource) {
      try {
        this.lastForecast = await this.forecastSource(24);
      } catch (error) {
        this.logger.warn(`cost forecast unavailable: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const status = this.status(now);
    this.metrics.gauge(LEDGER_METRICS.budgetSpendToday.name, status.spentTodayUsd);
    if (status.utilizationPct !== null) {
      const state = status.exceeded ? 'exceeded' : status.utilizationPct >= 90 ? 'warning' : 'ok';
      this.metrics.gauge(LEDGER_METRICS.budgetUtilization.name, status.utilizationPct, formatTags({ state }));
      this.metrics.gauge(LEDGER_METRICS.budgetPredictedBreach.name, status.predictedBreach ? 1 : 0);
    }
    if (status.forecast24hUsd !== null) {
      this.metrics.gauge(
        LEDGER_METRICS.costForecast24h.name,
        status.forecast24hUsd,
        formatTags({ kind: status.forecastServedBy ?? 'unknown' }),
      );
    }
    return status;
  }
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
