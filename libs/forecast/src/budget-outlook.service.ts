import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { BudgetService, type BudgetStatus } from '@app/ledger';
import { formatTags, MetricsPort } from '@app/telemetry';
import { type BudgetBreachPrediction, judgeBudget } from './budget-judgement';
import { FORECAST_METRICS } from './forecast.metrics';
import { type SpendForecast, SpendForecastPort } from './spend-forecast.port';

/**
 * The budget's status with what the forecast adds. `risk` and `riskBasis` are `judgeBudget`'s, as in
 * `GET /forecast/cost`: today's spend, and the projected day when the forecast has a validated confidence.
 */
export interface BudgetOutlookStatus extends BudgetStatus {
  /** What `risk` rests on, in words. */
  riskBasis: string;
  /** Spend so far plus the forecast for the rest of the UTC day; null without a budget or a forecast. */
  projectedDayUsd: number | null;
  /** Forecast cost of the next 24 h; null until a forecast was made, or while there is none (no usage yet). */
  forecast24hUsd: number | null;
  forecastServedBy: string | null;
  /** The forecast's validated confidence (0: none, and it does not count toward the risk); null without one. */
  forecastConfidence: number | null;
  predictedBreach: BudgetBreachPrediction | null;
}

/** How often the forecast gauges are refreshed. */
const REPORT_EVERY_MS = 60_000;

/** USD to 6 significant digits, as `GET /forecast/cost` shows them. */
const round = (value: number): number => Number(value.toPrecision(6));

/**
 * The budget's forecast-driven part: every 60 s reads the 24 h spend forecast (through `SpendForecastPort`)
 * and the ledger's `BudgetService` (spend), emits `llm.cost.forecast_24h_usd` and `llm.budget.predicted_breach`,
 * and answers `status()`: the budget status with the forecast, the predicted breach and the risk `judgeBudget`
 * gives (the projected day counts only when the forecast has a validated confidence). It lives here, not in the
 * ledger, so that the ledger never depends on the forecast.
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

  /** The budget status with the last forecast read (see `report`, `current`). */
  status(now = Date.now()): BudgetOutlookStatus {
    const status = this.budget.status(now);
    const forecast = this.lastForecast;
    const judgement = judgeBudget(status, forecast, now);
    return {
      ...status,
      risk: judgement.risk,
      riskBasis: judgement.riskBasis,
      projectedDayUsd: judgement.projectedDayUsd,
      forecast24hUsd: forecast ? round(forecast.hourly.slice(0, 24).reduce((a, b) => a + b, 0)) : null,
      forecastServedBy: forecast?.servedBy ?? null,
      forecastConfidence: forecast?.confidence ?? null,
      predictedBreach: judgement.predictedBreach,
    };
  }

  /**
   * The budget status with a forecast read now (`POST /insights`): the same judgement `GET /forecast/cost` gives at
   * the same moment, not one from a forecast up to 60 s old. Emits nothing; keeps the last forecast on failure.
   */
  async current(now = Date.now()): Promise<BudgetOutlookStatus> {
    await this.refresh(now);
    return this.status(now);
  }

  /** Refreshes the forecast and emits the forecast gauges (periodically; also callable from tests). */
  async report(now = Date.now()): Promise<BudgetOutlookStatus> {
    await this.refresh(now);
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

  private async refresh(now: number): Promise<void> {
    try {
      this.lastForecast = await this.forecasts.spendForecast(24, now);
    } catch (error) {
      this.logger.warn(`cost forecast unavailable: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
