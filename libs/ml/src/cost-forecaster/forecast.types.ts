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
  lowerUsd: number;
  upperUsd: number;
}

export interface CostForecast {
  method: ForecastMethod;
  hours: HourForecast[];
  /** The served method's validation report (null when serving without a trained card). */
  validation: MethodReport | null;
  confidence: number;
  reason: string;
}
