// The forecast feature's public surface: its module, services, the spend forecast port and the DTOs.
export { ForecastModule } from './forecast.module';
export { ForecastService } from './forecast.service';
export { BudgetOutlook, type BudgetOutlookStatus } from './budget-outlook.service';
export { judgeBudget, type BudgetBreachPrediction, type BudgetJudgement } from './budget-judgement';
export { SpendForecastPort, type SpendForecast } from './spend-forecast.port';
export * from './forecast.dto';
