export * from './forecast.types';
export { MAX_HORIZON, MIN_HISTORY } from './forecast-features';
export { generateSyntheticUsage, type SyntheticUsageOptions } from './synthetic-usage';
export { CostForecaster, NotEnoughHistoryError, trainCostForecaster } from './cost-forecaster';
export { baselineFromHistory, DEFAULT_EWMA_ALPHA, MIN_BACKTEST_HOURS } from './baseline-forecast';
