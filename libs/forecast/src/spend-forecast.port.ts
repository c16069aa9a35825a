/** The next hours' hourly point forecasts of LLM spend, from the current hour on. */
export interface SpendForecast {
  /** Hourly forecast costs (USD) starting at `startHour`. */
  hourly: readonly number[];
  /** Start of the first forecast hour (epoch ms). */
  startHour: number;
  /** `ml` or the name of the baseline that produced it. */
  servedBy: string;
  /**
   * The served method's validated confidence (1 − its validation MAPE), as `GET /forecast/cost` gives it: 0 when
   * it has none (too little history to backtest, or stale input); the budget risk then ignores the forecast.
   */
  confidence: number;
}

/**
 * What the budget outlook reads the spend forecast through. Null when there is no forecast to give (no complete
 * hour of usage in the ledger yet): the outlook then reports none rather than a made-up $0. Implemented by
 * `ForecastService`.
 */
export abstract class SpendForecastPort {
  /** The forecast from the hour of `now` (default: the clock's) on. */
  abstract spendForecast(hours: number, now?: number): Promise<SpendForecast | null>;
}
