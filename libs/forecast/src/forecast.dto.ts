import { ApiDateTime, ApiInteger, IsInteger, NumberFromText } from '@app/common';
import { IsOptional, Max, Min } from 'class-validator';

export class CostForecastQueryDto {
  /** Hours to forecast, from the current hour on (the model's horizon is 24). */
  @IsOptional()
  @NumberFromText()
  @IsInteger()
  @Min(1)
  @Max(24)
  hours?: number = 24;
}

export class HourlyCostForecastDto {
  /** Start of the hour (UTC, ISO 8601). */
  @ApiDateTime()
  hour!: string;
  /** Point forecast, USD. */
  costUsd!: number;
  /**
   * Lower bound of the 80 % prediction interval (from the served method's validation residuals), USD; null
   * when the method has no residuals to base an interval on (history too short to backtest) or the input is
   * stale.
   */
  lowerUsd!: number | null;
  /** Upper bound of the 80 % prediction interval, USD; null when there is no interval. */
  upperUsd!: number | null;
}

export class ForecastValidationDto {
  /**
   * Where these errors come from: `backtest`, the served method (the model or a baseline) run over the ledger
   * history this forecast was computed from (horizons 1..24 inside it; with at least 168 h, from every origin of its
   * last week the model can forecast from). `holdout` (the trained card's held-out days, measured on its training
   * data) is no longer served as a forecast's validation; it stays in the schema for clients generated before.
   */
  basis!: 'holdout' | 'backtest';
  /** Forecast/actual pairs the errors are computed from. */
  @ApiInteger()
  samples!: number;
  /** Mean absolute percentage error, percent. */
  mape!: number;
  /** Symmetric MAPE, percent. */
  smape!: number;
  /** Mean absolute scaled error (vs the in-sample 24 h seasonal naive); null with 24 h of history or less. */
  mase!: number | null;
  /** Share of the actuals inside the 80 % interval. */
  intervalCoverage!: number;
}

export class ForecastModelInfoDto {
  /** When the artifacts were trained (ISO 8601). */
  @ApiDateTime()
  trainedAt!: string;
  /** ledger, file:<name>, datadog or synthetic. */
  dataSource!: string;
  /** True when trained on the synthetic generator. */
  synthetic!: boolean;
  /** TensorFlow.js backend used for training. */
  backend!: string;
  /** Best baseline on validation. */
  bestBaseline!: string;
  /** Validation MAPE of the network, percent (also when a baseline serves). */
  modelMape!: number;
  /** Validation MAPE of the best baseline, percent. */
  bestBaselineMape!: number;
}

export class PeakHourDto {
  /** Start of the most expensive forecast hour (ISO 8601). */
  @ApiDateTime()
  hour!: string;
  costUsd!: number;
}

export class ForecastBudgetDto {
  /** DAILY_BUDGET_USD; null when no budget is set. */
  dailyBudgetUsd!: number | null;
  /** alert or enforce. */
  policy!: string;
  /** Spend so far today (UTC day), USD. */
  spentTodayUsd!: number;
  /** Forecast total as a percentage of the daily budget; null without a budget or a forecast. */
  forecastUtilizationPct!: number | null;
  /**
   * Spend so far plus the forecast for the rest of the UTC day (the current hour for its remaining part, whatever
   * `hours` asks for), as a percentage of the budget; null without either. Given also when the forecast has no
   * confidence, though `risk` then does not count it.
   */
  projectedTodayPct!: number | null;
  /**
   * none (no budget), low, medium (≥ 70 %), high (≥ 90 %), critical (≥ 100 %) or exceeded (spend reached the
   * budget): of today's spend (with reservations), and of the projection (`projectedTodayPct`) only when the
   * forecast has a validated confidence (> 0); with confidence 0, or no forecast, of today's spend alone.
   * `POST /insights` judges the budget the same way (its budget-breach insight).
   */
  risk!: string;
  /** What `risk` rests on, in words: the spend so far, or the spend so far plus the forecast and its confidence. */
  riskBasis!: string;
  /** Next reset of the daily spend (UTC midnight, ISO 8601). */
  @ApiDateTime()
  resetAt!: string;
}

export class CostForecastResponseDto {
  /** When this forecast was made (ISO 8601). */
  @ApiDateTime()
  generatedAt!: string;
  /**
   * What served: `ml` (the trained model: the card promoted it and there are at least 168 h of history), a
   * baseline (`seasonal_naive_24`, `seasonal_naive_168`, `ewma`), or `none` when the ledger holds no complete hour
   * of usage yet (no forecast: `hourly` is empty and the totals null; `reason` says whether there is usage in the
   * current hour).
   */
  method!: string;
  /** ml, baseline or none. */
  servedBy!: 'ml' | 'baseline' | 'none';
  /** Why this method served, with how much history there was. */
  reason!: string;
  /**
   * 1 − MAPE / 100 of the served method, from `validation` (the card's hold-out, or a backtest on this
   * history); 0 when there is no validation (nothing served, or too little history to backtest), and 0 when
   * the input is `stale` (the validated error does not describe a forecast from hours without usage).
   */
  confidence!: number;
  /**
   * Error of the served method, and where it was measured; null when there is none (confidence 0). Still given
   * when the input is stale, though confidence is then 0.
   */
  validation!: ForecastValidationDto | null;
  /** The trained card; null when no artifacts were found. */
  model!: ForecastModelInfoDto | null;
  /**
   * Hours of ledger history the forecast was computed from: from the ledger's first hour with usage (within the
   * last 21 days) to the current hour; 0 on a fresh start.
   */
  @ApiInteger()
  historyHours!: number;
  /** Start of the ledger's last hour with usage (ISO 8601); null when the ledger holds no usage at all. */
  @ApiDateTime()
  lastObservedHour!: string | null;
  /**
   * Complete hours without usage from `lastObservedHour` to the current hour (0: the last complete hour had
   * usage); null when the ledger holds no usage at all.
   */
  @ApiInteger()
  staleHours!: number | null;
  /**
   * True when `staleHours` ≥ 24 (a full day without usage: a service idle that long, or a ledger whose import
   * stops in the past). The forecast is then served without its validated confidence (0) or interval, and
   * `reason` says so; with no usage in the last 21 days there is no forecast.
   */
  stale!: boolean;
  /** One entry per forecast hour, from the current hour on; empty when method is none. */
  hourly!: HourlyCostForecastDto[];
  /** Sum of the hourly point forecasts, USD; null when method is none. */
  totalUsd!: number | null;
  /** Sum of the hourly lower bounds, USD; null without an interval (also when the input is stale). */
  totalLowerUsd!: number | null;
  /** Sum of the hourly upper bounds, USD; null without an interval. */
  totalUpperUsd!: number | null;
  /** The most expensive forecast hour; null when method is none. */
  peakHour!: PeakHourDto | null;
  /** Daily budget utilisation and risk with this forecast. */
  budget!: ForecastBudgetDto;
}
