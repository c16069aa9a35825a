import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DAY_MS, HOUR_MS, utcDayStart } from '@app/common';
import { BudgetService, budgetRisk, type BudgetStatus } from '@app/ledger';
import { formatTags, MetricsPort } from '@app/telemetry';
import { FORECAST_METRICS } from './forecast.metrics';
import { type SpendForecast, SpendForecastPort } from './spend-forecast.port';

/** A predicted breach of today's budget: the signal insights reads. */
export interface BudgetBreachPrediction {
  /** Spend so far plus the forecast for the rest of the UTC day. */
  projectedDayUsd: number;
  dailyBudgetUsd: number;
  /** The first forecast hour at which the cumulative spend crosses the budget (ISO 8601). */
  breachAt: string;
  servedBy: string;
}

/** The budget's status with what the forecast adds; `risk` also weighs the projected day. */
export interface BudgetOutlookStatus extends BudgetStatus {
  /** Forecast cost of the next 24 h; null until a forecast was made, or while there is none (no usage yet). */
  forecast24hUsd: number | null;
  forecastServedBy: string | null;
  predictedBreach: BudgetBreachPrediction | null;
}

/** How often the forecast gauges are refreshed. */
const REPORT_EVERY_MS = 60_000;

const round = (value: number): number => Math.round(value * 1e6) / 1e6;

/**
 * The budget's forecast-driven part: every 60 s reads the 24 h spend forecast (through `SpendForecastPort`)
 * and the ledger's `BudgetService` (spend), emits `llm.cost.forecast_24h_usd` and `llm.budget.predicted_breach`,
 * and answers `status()`: the budget status with the forecast, the predicted breach and a risk that weighs the
 * projected day. It lives here, not in the ledger, so that the ledger never depends on the forecast.
 */
@Injectable()
export class BudgetOutlook implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('BudgetOutlook');
  private lastForecast: SpendForecast | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly budget: BudgetService,
    private readonly forecasts: SpendForecastPort,
    private readonly metrics: MetricsPort,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.report(), REPORT_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The budget status with the last forecast read (see `report`). */
  status(now = Date.now()): BudgetOutlookStatus {
    const status = this.budget.status(now);
    const forecast = this.lastForecast;
    const breach = this.predictBreach(now, status, forecast);
    const budget = status.dailyBudgetUsd;
    const projectedPct = breach && budget ? (100 * breach.projectedDayUsd) / budget : status.utilizationPct;
    return {
      ...status,
      risk: status.exceeded
        ? 'exceeded'
        : budgetRisk(projectedPct === null ? null : Math.max(status.utilizationPct ?? 0, projectedPct)),
      forecast24hUsd: forecast ? round(forecast.hourly.slice(0, 24).reduce((a, b) => a + b, 0)) : null,
      forecastServedBy: forecast?.servedBy ?? null,
      predictedBreach: breach,
    };
  }

  /** Refreshes the forecast and emits the forecast gauges (periodically; also callable from tests). */
  async report(now = Date.now()): Promise<BudgetOutlookStatus> {
    try {
      this.lastForecast = await this.forecasts.spendForecast(24);
    } catch (error) {
      this.logger.warn(`cost forecast unavailable: ${error instanceof Error ? error.message : String(error)}`);
    }
    const status = this.status(now);
    if (status.dailyBudgetUsd !== null) {
      this.metrics.gauge(FORECAST_METRICS.budgetPredictedBreach.name, status.predictedBreach ? 1 : 0);
    }
    if (status.forecast24hUsd !== null) {
      this.metrics.gauge(
        FORECAST_METRICS.costForecast24h.name,
        status.forecast24hUsd,
        formatTags({ kind: status.forecastServedBy ?? 'unknown' }),
      );
    }
    return status;
  }

  private predictBreach(
    now: number,
    status: BudgetStatus,
    forecast: SpendForecast | null,
  ): BudgetBreachPrediction | null {
    const budget = status.dailyBudgetUsd;
    if (budget === null || !forecast || status.exceeded) return null;
    const dayEnd = utcDayStart(now) + DAY_MS;
    let cumulative = status.spentTodayUsd;
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
}
