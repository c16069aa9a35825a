import { Module } from '@nestjs/common';
import { LedgerModule } from '@app/ledger';
import { AnomalyAttributionService } from './attribution/anomaly-attribution.service';
import { InsightsController } from './insights.controller';

/**
 * Insights over the usage ledger: anomaly attribution (`POST /optimization/attribute-anomaly` and the origin's
 * `POST /optimization/anomaly/attribute`). Reads the ledger's hourly rollups; writes nothing.
 */
@Module({
  imports: [LedgerModule],
  controllers: [InsightsController],
  providers: [AnomalyAttributionService],
  exports: [AnomalyAttributionService],
})
export class InsightsModule {}
