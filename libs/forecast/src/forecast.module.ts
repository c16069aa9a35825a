import { Module } from '@nestjs/common';
import { LedgerModule } from '@app/ledger';
import { BudgetOutlook } from './budget-outlook.service';
import { ForecastController } from './forecast.controller';
import { ForecastService } from './forecast.service';
import { SpendForecastPort } from './spend-forecast.port';

/**
 * 24 h cost forecast (`GET /forecast/cost`) over the usage ledger, and the budget's forecast-driven part
 * (`BudgetOutlook`: the forecast gauge and the predicted breach), which reads the forecast through
 * `SpendForecastPort`. Depends on the ledger; the ledger never depends on it.
 */
@Module({
  imports: [LedgerModule],
  controllers: [ForecastController],
  providers: [ForecastService, { provide: SpendForecastPort, useExisting: ForecastService }, BudgetOutlook],
  exports: [ForecastService, BudgetOutlook],
})
export class ForecastModule {}
