// The forecast feature's public surface: its module, services, the spend forecast port and the DTOs.
export { ForecastModule } from './forecast.module';
export { ForecastService } from './forecast.service';
export { BudgetOutlook, type BudgetBreachPrediction, type BudgetOutlookStatus } from './budget-outlook.service';
export { SpendForecastPort, type SpendForecast } from './spend-forecast.port';
export * from './forecast.dto';
