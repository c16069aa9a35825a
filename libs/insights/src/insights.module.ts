import { Module } from '@nestjs/common';
import { LedgerModule } from '@app/ledger';
import { ForecastModule } from '@app/forecast';
import { HealthScoreModule } from '@app/health-score';
import { MlModule } from '@app/ml';
import { InsightsReportController } from './insights-report/insights-report.controller';
import { InsightsReportService } from './insights-report/insights-report.service';
import { AnomalyAttributionService } from './attribution/anomaly-attribution.service';
import { InsightsController } from './insights.controller';
import { OptimizationController } from './optimization/optimization.controller';
import { OPTIMIZATION_PROVIDERS } from './optimization/optimization.providers';

/**
 * Insights over the usage ledger and the live health score: `POST /insights` (recommendations with evidence,
 * predictive insights), anomaly attribution (`POST /optimization/attribute-anomaly` and the origin's
 * `POST /optimization/anomaly/attribute`), and optimisation recommendations with their ROI (`/optimization/*`).
 */
@Module({
  imports: [LedgerModule, HealthScoreModule, ForecastModule, MlModule],
  controllers: [InsightsController, OptimizationController, InsightsReportController],
  providers: [AnomalyAttributionService, ...OPTIMIZATION_PROVIDERS, InsightsReportService],
  exports: [AnomalyAttributionService],
})
export class InsightsModule {}
