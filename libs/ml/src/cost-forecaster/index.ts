export * from './forecast.types';
export { MAX_HORIZON, MIN_HISTORY } from './forecast-features';
export { generateSyntheticUsage, type SyntheticUsageOptions } from './synthetic-usage';
export { CostForecaster, NotEnoughHistoryError, trainCostForecaster } from './cost-forecaster';
export { untrainedForecast } from './baseline-forecast';
