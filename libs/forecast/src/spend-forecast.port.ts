/** The next hours' hourly point forecasts of LLM spend, from the current hour on. */
export interface SpendForecast {
  /** Hourly forecast costs (USD) starting at `startHour`. */
  hourly: readonly number[];
  /** Start of the first forecast hour (epoch ms). */
  startHour: number;
  /** `ml` or the name of the baseline that produced it. */
  servedBy: string;
}

/**
 * What the budget outlook reads the spend forecast through. Null when there is no forecast to give (no complete
 * hour of usage in the ledger yet): the outlook then reports none rather than a made-up $0. Implemented by
 * `ForecastService`.
 */
export abstract class SpendForecastPort {
  abstract spendForecast(hours: number): Promise<SpendForecast | null>;
}
