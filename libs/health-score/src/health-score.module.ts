import { Module } from '@nestjs/common';
import { LedgerModule } from '@app/ledger';
import { HealthScoreService } from './health-score.service';
import { InsightsHealthController } from './insights-health.controller';

/**
 * The live health score (`GET /insights/health-score`, the `llm.health.*` gauges) over the usage ledger's raw records.
 * Depends on the ledger; nothing below depends on it.
 */
@Module({
  imports: [LedgerModule],
  controllers: [InsightsHealthController],
  providers: [HealthScoreService],
  exports: [HealthScoreService],
})
export class HealthScoreModule {}
