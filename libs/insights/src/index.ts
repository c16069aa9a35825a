// The insights lib's public surface: its module, the attribution service and its DTOs.
export { InsightsModule } from './insights.module';
export { AnomalyAttributionService, type AttributionRequest } from './attribution/anomaly-attribution.service';
export * from './dto/anomaly-attribution.dto';
export { OPTIMIZATION_ERRORS } from './optimization/optimization.errors';
export { InsightsReportService } from './insights-report/insights-report.service';
export * from './insights-report/insights-report.dto';
