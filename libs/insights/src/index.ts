// The insights lib's public surface: its module, the attribution service and its DTOs.
export { InsightsModule } from './insights.module';
export { AnomalyAttributionService, type AttributionRequest } from './attribution/anomaly-attribution.service';
export * from './dto/anomaly-attribution.dto';
