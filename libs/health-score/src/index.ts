// The health score's public surface: its module, the service insights reads, the metric catalogue, types and DTOs.
export { HealthScoreModule } from './health-score.module';
export { HealthScoreService, type HealthReport } from './health-score.service';
export { HEALTH_METRICS } from './health-score.metrics';
export type { HealthAssessment, HealthSignals, HealthStatus, HealthWindowName } from './health-score.types';
export {
  EndpointHealthDto,
  HealthAssessmentDto,
  HealthComponentsDto,
  HealthScoreQueryDto,
  HealthScoreResponseDto,
  HealthScoreWindowDto,
  HealthSignalsDto,
  ModelHealthDto,
} from './health-score.dto';
