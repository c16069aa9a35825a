import { Module } from '@nestjs/common';
import { LedgerModule } from '@app/ledger';
import { ForecastController } from './forecast.controller';
import { ForecastService } from './forecast.service';

/** 24 h cost forecast (`GET /forecast/cost`) over the usage ledger. */
@Module({
  imports: [LedgerModule],
  controllers: [ForecastController],
  providers: [ForecastService],
  exports: [ForecastService],
})
export class ForecastModule {}
