import { DAY_MS, HOUR_MS, hourStart, repeatEvery } from '@app/common';
import { join } from 'node:path';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { BudgetService, UsageLedger } from '@app/ledger';
import { formatTags, MetricsPort, ReadinessRegistry } from '@app/telemetry';
import {
  baselineFromHistory,
  type CostForecast,
  CostForecaster,
  DEFAULT_EWMA_ALPHA,
  type HourlySeries,
  loadTfjs,
  MAX_HORIZON,
  MIN_HISTORY,
  trainCostForecaster,
  type TfjsRuntime,
} from '@app/ml';
import type { CostForecastResponseDto } from './forecast.dto';
import { FORECAST_METRICS } from './forecast.metrics';
import {
  hoursWithoutUsage,
  lastHourWithUsage,
  lastObservedHour,
  seriesFromHourly,
  STALE_AFTER_HOURS,
  trimEmptyEnds,
  trimLeadingEmpty,
} from './forecast-series';
import { judgeBudget } from './budget-judgement';
import { type SpendForecast, SpendForecastPort } from './spend-forecast.port';

export const COST_FORECASTER_DIR = 'cost-forecaster';
/** Ledger history read for a forecast (lags reach 168 h + 24 h back). */
const HISTORY_DAYS = 21;
/** What each method needs before it can forecast, for a reason that says why nothing serves. */
const HISTORY_NEEDED = `EWMA needs 1 complete hour of history, seasonal naive t−24 24 hours, the model ${MIN_HISTORY}`;

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;
/**
 * A USD amount to 6 significant digits, as the health score shows costs. Six decimals (before) showed a ledger of
 * $0.000002-an-hour calls as 2e-06 and 3e-06, with intervals [2e-06, 3e-06] around them: one digit, and a point on
 * its own bound.
 */
const usd = (x: number): number => Number(x.toPrecision(6));
/** Rounded, or null for a missing or non-finite figure (MASE without a 24 h scale). */
const roundOrNull = (x: number | null, digits: number): number | null =>
  x === null || !Number.isFinite(x) ? null : round(x, digits);
const usdOrNull = (x: number | null): number | null => (x === null || !Number.isFinite(x) ? null : usd(x));
const sumOrNull = (xs: readonly (number | null)[]): number | null =>
  xs.some((x) => x === null) ? null : usd(xs.reduce<number>((s, x) => s + x!, 0));

/**
 * Serves the 24 h cost forecast on the ledger's hourly history since its first usage: with at least 168 h and a
 * trained card under MODELS_DIR/cost-forecaster, the model or the baseline with the lowest error in a backtest on
 * that history (never the card's own validation, measured on its training data, as the confidence); with less, or
 * without a card, the baseline a backtest on that history favours, with that backtest's confidence; with no usage at all,
 * no forecast (`none`). Feeds the budget outlook (`SpendForecastPort`). Optional in-process retraining every
 * FORECAST_RETRAIN_HOURS runs in the background (asynchronous, one at a time; training yields to requests
 * between batches).
 */
@Injectable()
export class ForecastService extends SpendForecastPort implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ForecastService');
  private runtime: TfjsRuntime | undefined;
  private forecaster: CostForecaster | null = null;
  private loadError: string | null = null;
  private stopRetraining: (() => void) | undefined;
  private retraining: Promise<void> | undefined;
  /**
   * The last forecast computed, with what it was computed from: reused while the ledger's hourly history is the same
   * (until a new hour closes or an import changes an hour), for the same forecaster and horizon.
   */
  private computed?: { series: HourlySeries; forecaster: CostForecaster | null; hours: number; forecast: CostForecast };

  constructor(
    private readonly config: AppConfig,
    private readonly ledger: UsageLedger,
    private readonly budget: BudgetService,
    private readonly metrics: MetricsPort,
    private readonly readiness: ReadinessRegistry,
  ) {
    super();
  }

  get artifactsDir(): string {
    return join(this.config.ml.modelsDir, COST_FORECASTER_DIR);
  }

  async onModuleInit(): Promise<void> {
    await this.reload();
    this.readiness.register('cost-forecaster', () =>
      this.forecaster
        ? {
            status: 'ok',
            detail: `card serves ${this.forecaster.card.served} on its validation; from ${MIN_HISTORY} h of ledger history the model or the baseline that backtests best on it serves, a backtested baseline before (trained ${this.forecaster.card.trainedAt} on ${this.forecaster.card.dataSource}, backend ${this.runtime?.backend ?? '?'})`,
          }
        : {
            status: 'degraded',
            detail: `no trained artifacts (${this.loadError ?? 'not loaded'}); serving a baseline backtested on the ledger's history`,
          },
    );
    const every = this.config.ml.forecastRetrainHours;
    // Not setInterval: up to 720 h, past its 24.8 days it fired every millisecond.
    if (every > 0) this.stopRetraining = repeatEvery(every * HOUR_MS, () => void this.retrain());
  }

  onApplicationShutdown(): void {
    this.stopRetraining?.();
  }

  /** (Re)loads the artifacts; on failure a baseline backtested on the history serves, and says so. */
  async reload(): Promise<void> {
    try {
      this.runtime ??= await loadTfjs();
      this.forecaster = await CostForecaster.load(this.runtime, this.artifactsDir);
      this.loadError = null;
      const card = this.forecaster.card;
      this.logger.log(
        `cost forecaster card loaded: it chose ${card.served} on its validation (model MAPE ${card.model.metrics.mape.toFixed(2)} %, best baseline ${card.bestBaseline}; trained on ${card.dataSource}); from ${MIN_HISTORY} h of ledger history the model or the baseline that backtests best on it serves, a backtested baseline before`,
      );
    } catch (error) {
      this.forecaster = null;
      this.loadError = error instanceof Error ? error.message : String(error);
      this.logger.warn(`cost forecaster artifacts not loaded from ${this.artifactsDir}: ${this.loadError}`);
    }
  }

  /**
   * Retrains on the ledger's history of the 90 days before `now`'s hour; promotes only artifacts whose card says so
   * (ml or a baseline).
   */
  retrain(now = Date.now()): Promise<void> {
    this.retraining ??= (async () => {
      try {
        const to = hourStart(now);
        const rows = await this.ledger.hourlySeries(to - 90 * DAY_MS, to);
        // Hours before the ledger's first usage and after its last are not zero-cost history (as in `ml:train cost`).
        const series = trimEmptyEnds(seriesFromHourly(rows, to - 90 * DAY_MS, to, 'ledger'));
        this.runtime ??= await loadTfjs();
        const trained = await trainCostForecaster(this.runtime, series);
        await trained.save(this.artifactsDir);
        this.forecaster = trained;
        this.logger.log(
          `cost forecaster retrained: the card serves ${trained.card.served} from ${MIN_HISTORY} h of history`,
        );
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

  /**
   * The ledger's complete hours of the last HISTORY_DAYS days, from its first hour with usage on: the hours
   * before a ledger's first call are no history (a fresh start has none), not hours that cost $0. With the
   * start of the last hour with usage (looked up before the window when the window holds none; null when the
   * ledger holds no usage at all).
   */
  private async history(now: number): Promise<{ series: HourlySeries; lastObserved: number | null }> {
    const to = hourStart(now);
    const from = to - HISTORY_DAYS * DAY_MS;
    const rows = await this.ledger.hourlySeries(from, to);
    const series = trimLeadingEmpty(seriesFromHourly(rows, from, to, 'ledger'));
    const lastObserved = lastObservedHour(series) ?? lastHourWithUsage(await this.ledger.hourly({ from: 0, to: from }));
    return { series, lastObserved };
  }

  private async forecastFromLedger(
    hours: number,
    now = Date.now(),
  ): Promise<CostForecast & { historyHours: number; lastObserved: number | null; staleHours: number | null }> {
    const { series, lastObserved } = await this.history(now);
    const forecast = this.compute(series, hours);
    const staleHours = lastObserved === null ? null : hoursWithoutUsage(lastObserved, now);
    const result = { ...forecast, historyHours: series.cost.length, lastObserved, staleHours };
    if (forecast.method === 'none') {
      // No complete hour of usage in the window: say what the ledger does hold, the current hour included.
      const current = await this.currentHourUsage(now);
      if (current.requests > 0 || current.costUsd > 0) {
        const earlier =
          lastObserved === null
            ? ''
            : ` (before it, ${staleHours} hours without usage since the hour of ${new Date(lastObserved).toISOString()})`;
        return {
          ...result,
          reason:
            `less than one complete hour of usage history, so no forecast yet: the ledger's recent usage is all in ` +
            `the current hour ($${usd(current.costUsd)} spent and ${current.requests} calls recorded since ` +
            `${new Date(hourStart(now)).toISOString()})${earlier}; ${HISTORY_NEEDED}`,
        };
      }
      if (lastObserved === null)
        return { ...result, reason: `no usage in the ledger yet, so no forecast: ${HISTORY_NEEDED}` };
    }
    if (lastObserved === null || staleHours === null || staleHours < STALE_AFTER_HOURS) return result;
    const since = `the last was in the hour of ${new Date(lastObserved).toISOString()}`;
    if (forecast.method === 'none') {
      return {
        ...result,
        reason:
          `stale input: no usage in the ledger's last ${HISTORY_DAYS} days, so no forecast (${since}, ${staleHours} ` +
          'hours without usage since: a service idle since, or usage imported only up to then); import recent usage',
      };
    }
    // The served method's error was measured on input that ends in usage; this input ends in a day or more the
    // ledger holds no usage for. Its forecast is served (the points, for the budget outlook), but not with
    // that method's validated confidence and interval. Usage may have resumed in the current hour, which is not
    // history until it is complete: then the gap is in the complete hours before it, and the reason says so
    // (before, it said "no usage in the last 71 hours" while calls were being recorded).
    const current = await this.currentHourUsage(now);
    const resumed = current.requests > 0 || current.costUsd > 0;
    const gap = resumed
      ? `no usage in the ${staleHours} complete hours before the current one (${since}; the current hour has ` +
        `${current.requests} calls and $${usd(current.costUsd)} so far, history once it is complete)`
      : `no usage in the last ${staleHours} hours (${since})`;
    return {
      ...result,
      hours: forecast.hours.map((h) => ({ ...h, lowerUsd: null, upperUsd: null })),
      confidence: 0,
      reason:
        `stale input: ${gap}; ${forecast.method} forecasts from them as ` +
        `hours that cost $0, without its validated confidence or interval (confidence 0). ${forecast.reason}`,
    };
  }

  /**
   * The forecast of `series`: computed (backtests included) once per history, then reused while the ledger's hourly
   * history holds the same hours and amounts (a new hour closing, or an import, changes it) for the same forecaster
   * and horizon. Before, every request (and every budget outlook refresh) backtested the history again: 36–60 ms
   * of blocked event loop each time for a baseline on a loaded machine. `ml.cost_forecast.latency_ms` is recorded
   * when one is computed.
   */
  private compute(series: HourlySeries, hours: number): CostForecast {
    const last = this.computed;
    if (last && last.forecaster === this.forecaster && last.hours === hours && sameSeries(last.series, series))
      return last.forecast;
    const started = performance.now();
    const forecast = this.forecaster
      ? this.forecaster.forecast(series, hours)
      : baselineFromHistory(series, hours, DEFAULT_EWMA_ALPHA, `no trained artifacts under ${this.artifactsDir}`);
    this.metrics.distribution(
      FORECAST_METRICS.forecastLatency.name,
      performance.now() - started,
      formatTags({ kind: forecast.method }),
    );
    this.computed = { series, forecaster: this.forecaster, hours, forecast };
    return forecast;
  }

  /** Calls (the store's rollup) and spend (with this instance's unwritten records) in the current, incomplete hour. */
  private async currentHourUsage(now: number): Promise<{ requests: number; costUsd: number }> {
    const from = hourStart(now);
    const rows = await this.ledger.hourly({ from, to: from + HOUR_MS });
    const requests = rows.reduce((sum, r) => sum + r.requests, 0);
    return { requests, costUsd: await this.ledger.spendBetween(from, from + HOUR_MS) };
  }

  /** SpendForecastPort: the next hours' point forecasts for the budget outlook; null when nothing serves. */
  async spendForecast(hours: number, now = Date.now()): Promise<SpendForecast | null> {
    return toSpendForecast(await this.forecastFromLedger(hours, now));
  }

  /** GET /forecast/cost. */
  async costForecast(hours: number, now = Date.now()): Promise<CostForecastResponseDto> {
    // The whole horizon is forecast, so that the budget's projection covers the rest of the UTC day whatever
    // `hours` asks for (each hour's point is the same either way); `hours` of it are served.
    const full = await this.forecastFromLedger(MAX_HORIZON, now);
    const forecast = { ...full, hours: full.hours.slice(0, hours) };
    const card = this.forecaster?.card ?? null;
    const hourly = forecast.hours.map((h) => ({
      hour: new Date(h.hour).toISOString(),
      costUsd: usd(h.costUsd),
      lowerUsd: usdOrNull(h.lowerUsd),
      upperUsd: usdOrNull(h.upperUsd),
    }));
    const served = forecast.method !== 'none';
    const total = forecast.hours.reduce((s, h) => s + h.costUsd, 0);
    const peak = forecast.hours.reduce<(typeof forecast.hours)[number] | null>(
      (a, b) => (a === null || b.costUsd > a.costUsd ? b : a),
      null,
    );
    const status = this.budget.status(now);
    const budget = status.dailyBudgetUsd;
    // The same judgement as the budget outlook's (POST /insights): spend so far, plus the projection when the
    // forecast has a validated confidence.
    const judgement = judgeBudget(status, toSpendForecast(full), now);
    const forecastPct = budget && served ? (100 * total) / budget : null;
    const projectedPct =
      budget && judgement.projectedDayUsd !== null ? (100 * judgement.projectedDayUsd) / budget : null;
    const v = forecast.validation;
    return {
      generatedAt: new Date(now).toISOString(),
      method: forecast.method,
      servedBy: forecast.method === 'none' ? 'none' : forecast.method === 'ml' ? 'ml' : 'baseline',
      reason: forecast.reason,
      confidence: round(forecast.confidence, 4),
      validation:
        v && forecast.validationBasis
          ? {
              basis: forecast.validationBasis,
              samples: v.metrics.n,
              mape: round(v.metrics.mape, 3),
              smape: round(v.metrics.smape, 3),
              mase: roundOrNull(v.metrics.mase, 4),
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
      lastObservedHour: forecast.lastObserved === null ? null : new Date(forecast.lastObserved).toISOString(),
      staleHours: forecast.staleHours,
      stale: forecast.staleHours !== null && forecast.staleHours >= STALE_AFTER_HOURS,
      hourly,
      totalUsd: served ? usd(total) : null,
      totalLowerUsd: served ? sumOrNull(forecast.hours.map((h) => h.lowerUsd)) : null,
      totalUpperUsd: served ? sumOrNull(forecast.hours.map((h) => h.upperUsd)) : null,
      peakHour: peak ? { hour: new Date(peak.hour).toISOString(), costUsd: usd(peak.costUsd) } : null,
      budget: {
        dailyBudgetUsd: budget,
        policy: status.policy,
        spentTodayUsd: status.spentTodayUsd,
        forecastUtilizationPct: forecastPct === null ? null : round(forecastPct, 2),
        projectedTodayPct: projectedPct === null ? null : round(projectedPct, 2),
        risk: judgement.risk,
        riskBasis: judgement.riskBasis,
        resetAt: status.resetAt,
      },
    };
  }
}

/** The same hours with the same cost and calls (the ledger's hourly history has not changed). */
function sameSeries(a: HourlySeries, b: HourlySeries): boolean {
  if (a.start !== b.start || a.source !== b.source || a.cost.length !== b.cost.length) return false;
  for (let i = 0; i < a.cost.length; i++) if (a.cost[i] !== b.cost[i] || a.requests[i] !== b.requests[i]) return false;
  return true;
}

/** The served forecast as the budget reads it (`SpendForecastPort`); null when nothing serves. */
function toSpendForecast(forecast: CostForecast): SpendForecast | null {
  if (forecast.method === 'none' || forecast.hours.length === 0) return null;
  return {
    hourly: forecast.hours.map((h) => h.costUsd),
    startHour: forecast.hours[0]!.hour,
    servedBy: forecast.method,
    confidence: forecast.confidence,
  };
}
