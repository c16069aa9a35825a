/** An hourly series: index i is the hour `start + i h` (epoch ms, UTC). */
export interface HourlySeries {
  start: number;
  cost: number[];
  requests: number[];
  /** Where the data came from: ledger, file:<name>, datadog or synthetic. */
  source: string;
  /** Synthetic data only: the noise- and spike-free expected cost of each hour (the oracle forecast). */
  expected?: number[];
}

export type BaselineName = 'seasonal_naive_24' | 'seasonal_naive_168' | 'ewma';
export type ForecastMethod = 'ml' | BaselineName;
/** What a forecast was served by: a method, or `none` when the history is too short for any (no usage yet). */
export type ServedMethod = ForecastMethod | 'none';

export interface ErrorMetrics {
  /** Mean absolute percentage error, percent, over actuals ≥ 1 % of the series mean. */
  mape: number;
  /** Symmetric MAPE, percent (0–200). */
  smape: number;
  /** Mean absolute scaled error: MAE / in-sample MAE of the 24 h seasonal-naive forecast. */
  mase: number;
  mae: number;
  n: number;
}

/** Validation residual quantiles (actual / predicted − 1) that give the 80 % prediction interval. */
export interface IntervalSpec {
  lower: number;
  upper: number;
  /** Share of validation actuals inside the interval. */
  coverage: number;
}

export interface MethodReport {
  method: ForecastMethod;
  metrics: ErrorMetrics;
  interval: IntervalSpec;
  /**
   * A backtest on the serving history: the MAPE over all its forecasts, which ranks the methods (`metrics.mape`,
   * the confidence's, is the larger of it and the MAPE of the forecasts from the last day of origins).
   */
  rankMape?: number;
}

/** `models/cost-forecaster/card.json`. */
export interface ForecasterCard {
  kind: 'cost-forecaster';
  version: 2;
  trainedAt: string;
  dataSource: string;
  synthetic: boolean;
  dataSpan: { from: string; to: string; hours: number };
  validation: { from: string; to: string; hours: number; origins: number };
  backend: string;
  trainingMs: number;
  epochs: number;
  trainingRows: number;
  features: string[];
  ewmaAlpha: number;
  model: MethodReport;
  baselines: MethodReport[];
  bestBaseline: BaselineName;
  /** `ml` when the model beat the best baseline's MAPE on validation, else that baseline. */
  served: ForecastMethod;
  /** 1 − served MAPE / 100, clamped to [0, 1]: from validation error, never a constant. */
  confidence: number;
}

export interface HourForecast {
  hour: number;
  costUsd: number;
  /** The 80 % interval from the served method's residuals; null when it has none (too short to backtest). */
  lowerUsd: number | null;
  upperUsd: number | null;
}

/**
 * Where the served method's error (and so its confidence and interval) comes from: the card's held-out
 * 14 days (`holdout`), or a backtest of the baseline on the serving history itself (`backtest`).
 */
export type ValidationBasis = 'holdout' | 'backtest';

export interface CostForecast {
  method: ServedMethod;
  /** One entry per forecast hour; empty when method is `none`. */
  hours: HourForecast[];
  /** The served method's error report; null when there is none (nothing served, or too short to backtest). */
  validation: MethodReport | null;
  /** Null exactly when `validation` is. */
  validationBasis: ValidationBasis | null;
  /** 1 − the validation MAPE / 100, clamped to [0, 1]; 0 without validation. */
  confidence: number;
  reason: string;
}
