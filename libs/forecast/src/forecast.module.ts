import { Module } from '@nestjs/common';
import { ForecastController } from './forecast.controller';
import { ForecastService } from './forecast.service';

/** 24 h cost forecast (`GET /forecast/cost`) over the usage ledger; needs LedgerModule (global). */
@Module({
  controllers: [ForecastController],
  providers: [ForecastService],
  exports: [ForecastService],
})
export class ForecastModule {}
