import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export class CostForecastQueryDto {
  /** Hours to forecast, from the current hour on (the model's horizon is 24). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(24)
  hours?: number = 24;
}

export class HourlyCostForecastDto {
  /** Start of the hour (UTC, ISO 8601). */
  hour!: string;
  /** Point forecast, USD. */
  costUsd!: number;
  /** Lower bound of the 80 % prediction interval (from validation residuals), USD. */
  lowerUsd!: number;
  /** Upper bound of the 80 % prediction interval, USD. */
  upperUsd!: number;
}

export class ForecastValidationDto {
  /** Mean absolute percentage error on the held-out tail, percent. */
  mape!: number;
  /** Symmetric MAPE, percent. */
  smape!: number;
  /** Mean absolute scaled error (vs in-sample 24 h seasonal naive). */
  mase!: number;
  /** Share of held-out actuals inside the 80 % interval. */
  intervalCoverage!: number;
}

export class ForecastModelInfoDto {
  /** When the artifacts were trained (ISO 8601). */
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
  /** Forecast total as a percentage of the daily budget; null without a budget. */
  forecastUtilizationPct!: number | null;
  /** Spend so far plus the forecast for the rest of today, as a percentage of the budget. */
  projectedTodayPct!: number | null;
  /** none, low, medium (≥ 70 %), high (≥ 90 %), critical (≥ 100 %) or exceeded (spend reached the budget). */
  risk!: string;
  /** Next reset of the daily spend (UTC midnight, ISO 8601). */
  resetAt!: string;
}

export class CostForecastResponseDto {
  /** When this forecast was made (ISO 8601). */
  generatedAt!: string;
  /** ml, or the baseline that served: seasonal_naive_24, seasonal_naive_168, ewma. */
  method!: string;
  /** ml or baseline. */
  servedBy!: 'ml' | 'baseline';
  /** Why this method served. */
  reason!: string;
  /** 1 − validation MAPE of the served method (0 without validation). */
  confidence!: number;
  /** Validation error of the served method; null when no trained card exists. */
  validation!: ForecastValidationDto | null;
  /** The trained card; null when no artifacts were found. */
  model!: ForecastModelInfoDto | null;
  /** Hours of ledger history the forecast was computed from (with any usage). */
  historyHours!: number;
  /** One entry per forecast hour, from the current hour on. */
  hourly!: HourlyCostForecastDto[];
  /** Sum of the hourly point forecasts, USD. */
  totalUsd!: number;
  /** Sum of the hourly lower bounds, USD. */
  totalLowerUsd!: number;
  /** Sum of the hourly upper bounds, USD. */
  totalUpperUsd!: number;
  /** The most expensive forecast hour. */
  peakHour!: PeakHourDto;
  /** Daily budget utilisation and risk with this forecast. */
  budget!: ForecastBudgetDto;
}
