import { DAY_MS, HOUR_MS, hourStart, utcDayStart } from '@app/common';
import { join } from 'node:path';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { BudgetService, budgetRisk, UsageLedger } from '@app/ledger';
import { formatTags, MetricsPort, ReadinessRegistry } from '@app/telemetry';
import { loadTfjs, type TfjsRuntime, untrainedForecast, CostForecaster, trainCostForecaster, MIN_HISTORY, type CostForecast, type HourlySeries } from '@app/ml';
import type { CostForecastResponseDto } from './forecast.dto';
import { FORECAST_METRICS } from './forecast.metrics';
import { seriesFromHourly, trimLeadingEmpty } from './forecast-series';

export const COST_FORECASTER_DIR = 'cost-forecaster';
/** Ledger history read for a forecast (lags reach 168 h + 24 h back). */
const HISTORY_DAYS = 21;

const round = (x: number, digits = 6): number => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * Serves the 24 h cost forecast from the trained artifacts under MODELS_DIR/cost-forecaster (the model,
 * or the baseline the card chose), on the ledger's hourly history. Feeds the budget's forecast gauge and
 * breach prediction. Optional in-process retraining every FORECAST_RETRAIN_HOURS runs in the background
 * (asynchronous, one at a time; training yields to requests between batches).
 */
@Injectable()
export class ForecastService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ForecastService');
  private runtime: TfjsRuntime | undefined;
  private forecaster: CostForecaster | null = null;
  private loadError: string | null = null;
  private retrainTimer: NodeJS.Timeout | undefined;
  private retraining: Promise<void> | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly ledger: UsageLedger,
    private readonly budget: BudgetService,
    private readonly metrics: MetricsPort,
    private readonly readiness: ReadinessRegistry,
  ) {}

  get artifactsDir(): string {
    return join(this.config.ml.modelsDir, COST_FORECASTER_DIR);
  }

  async onModuleInit(): Promise<void> {
    await this.reload();
    this.budget.useForecast(async (hours) => {
      const forecast = await this.forecastFromLedger(hours);
      return {
        hourly: forecast.hours.map((h) => h.costUsd),
        startHour: forecast.hours[0]?.hour ?? hourStart(Date.now()),
        servedBy: forecast.method,
      };
    });
    this.readiness.register('cost-forecaster', () =>
      this.forecaster
        ? {
            status: 'ok',
            detail: `serving ${this.forecaster.card.served} (trained ${this.forecaster.card.trainedAt} on ${this.forecaster.card.dataSource}, backend ${this.runtime?.backend ?? '?'})`,
          }
        : {
            status: 'degraded',
            detail: `no trained artifacts (${this.loadError ?? 'not loaded'}); serving an untrained baseline`,
          },
    );
    const every = this.config.ml.forecastRetrainHours;
    if (every > 0) {
      this.retrainTimer = setInterval(() => void this.retrain(), every * HOUR_MS);
      this.retrainTimer.unref();
    }
  }

  onApplicationShutdown(): void {
    if (this.retrainTimer) clearInterval(this.retrainTimer);
  }

  /** (Re)loads the artifacts; on failure serving falls back to an untrained baseline, and says so. */
  async reload(): Promise<void> {
    try {
      this.runtime ??= await loadTfjs();
      this.forecaster = await CostForecaster.load(this.runtime, this.artifactsDir);
      this.loadError = null;
      const card = this.forecaster.card;
      this.logger.log(
        `cost forecaster: serving ${card.served} (model MAPE ${card.model.metrics.mape.toFixed(2)} %, best baseline ${card.bestBaseline}; trained on ${card.dataSource})`,
      );
    } catch (error) {
      this.forecaster = null;
      this.loadError = error instanceof Error ? error.message : String(error);
      this.logger.warn(`cost forecaster artifacts not loaded from ${this.artifactsDir}: ${this.loadError}`);
    }
  }

  /** Retrains on the ledger's history; promotes only artifacts whose card says so (ml or a baseline). */
  retrain(): Promise<void> {
    this.retraining ??= (async () => {
      try {
        const to = hourStart(Date.now());
        const rows = await this.ledger.hourlySeries(to - 90 * DAY_MS, to);
        // Hours before the ledger's first usage are not zero-cost history (as in `ml:train cost`).
        const series = trimLeadingEmpty(seriesFromHourly(rows, to - 90 * DAY_MS, to, 'ledger'));
        this.runtime ??= await loadTfjs();
        const trained = await trainCostForecaster(this.runtime, series);
        await trained.save(this.artifactsDir);
        this.forecaster = trained;
        this.logger.log(`cost forecaster retrained: serving ${trained.card.served}`);
      } catch (error) {
        this.logger.warn(
          `cost forecaster retraining skipped: ${error instanceof Error ? error.message : String(error)}`,
        );
      } finally {
        this.retraining = undefined;
      }
    })();
    return this.retraining;
  }

  private async history(now: number): Promise<{ series: HourlySeries; withUsage: number }> {
    const to = hourStart(now);
    const from = to - HISTORY_DAYS * DAY_MS;
    const rows = await this.ledger.hourlySeries(from, to);
    const series = seriesFromHourly(rows, from, to, 'ledger');
    return { series, withUsage: series.cost.filter((c) => c > 0).length };
  }

  private async forecastFromLedger(hours: number, now = Date.now()): Promise<CostForecast & { historyHours: number }> {
    const { series, withUsage } = await this.history(now);
    const started = performance.now();
    const forecast = this.forecaster
      ? this.forecaster.forecast(series, hours)
      : untrainedForecast(series, hours, `no trained artifacts under ${this.artifactsDir}`);
    this.metrics.distribution(
      FORECAST_METRICS.forecastLatency.name,
      performance.now() - started,
      formatTags({ kind: forecast.method }),
    );
    if (withUsage < MIN_HISTORY)
      forecast.reason += ` (ledger: ${withUsage} hours with usage in the last ${HISTORY_DAYS} days)`;
    return { ...forecast, historyHours: withUsage };
  }

  /** GET /forecast/cost. */
  async costForecast(hours: number, now = Date.now()): Promise<CostForecastResponseDto> {
    const forecast = await this.forecastFromLedger(hours, now);
    const card = this.forecaster?.card ?? null;
    const hourly = forecast.hours.map((h) => ({
      hour: new Date(h.hour).toISOString(),
      costUsd: round(h.costUsd),
      lowerUsd: round(h.lowerUsd),
      upperUsd: round(h.upperUsd),
    }));
    const total = forecast.hours.reduce((s, h) => s + h.costUsd, 0);
    const peak = forecast.hours.reduce((a, b) => (b.costUsd > a.costUsd ? b : a), forecast.hours[0]!);
    const status = this.budget.status(now);
    const budget = status.dailyBudgetUsd;
    const dayEnd = utcDayStart(now) + DAY_MS;
    const restOfToday = forecast.hours.filter((h) => h.hour < dayEnd).reduce((s, h) => s + h.costUsd, 0);
    const forecastPct = budget ? (100 * total) / budget : null;
    const projectedPct = budget ? (100 * (status.spentTodayUsd + restOfToday)) / budget : null;
    const v = forecast.validation;
    return {
      generatedAt: new Date(now).toISOString(),
      method: forecast.method,
      servedBy: forecast.method === 'ml' ? 'ml' : 'baseline',
      reason: forecast.reason,
      confidence: round(forecast.confidence, 4),
      validation: v
        ? {
            mape: round(v.metrics.mape, 3),
            smape: round(v.metrics.smape, 3),
            mase: round(v.metrics.mase, 4),
            intervalCoverage: round(v.interval.coverage, 4),
          }
        : null,
      model: card
        ? {
            trainedAt: card.trainedAt,
            dataSource: card.dataSource,
            synthetic: card.synthetic,
            backend: card.backend,
            bestBaseline: card.bestBaseline,
            modelMape: round(card.model.metrics.mape, 3),
            bestBaselineMape: round(card.baselines.find((b) => b.method === card.bestBaseline)?.metrics.mape ?? NaN, 3),
          }
        : null,
      historyHours: forecast.historyHours,
      hourly,
      totalUsd: round(total),
      totalLowerUsd: round(forecast.hours.reduce((s, h) => s + h.lowerUsd, 0)),
      totalUpperUsd: round(forecast.hours.reduce((s, h) => s + h.upperUsd, 0)),
      peakHour: { hour: new Date(peak.hour).toISOString(), costUsd: round(peak.costUsd) },
      budget: {
        dailyBudgetUsd: budget,
        policy: status.policy,
        spentTodayUsd: status.spentTodayUsd,
        forecastUtilizationPct: forecastPct === null ? null : round(forecastPct, 2),
        projectedTodayPct: projectedPct === null ? null : round(projectedPct, 2),
        risk: status.exceeded
          ? 'exceeded'
          : budgetRisk(projectedPct === null ? null : Math.max(projectedPct, forecastPct ?? 0)),
        resetAt: status.resetAt,
      },
    };
  }
}
