// The ML lib's public surface: its module, the services other libs inject, and the types they exchange.
// Adapters, training tasks and model internals stay inside (scripts and benchmarks reach them by path).
export { MlModule } from './ml.module';
export { PiiDetector, type PiiFinding, type PiiType } from './pii/pii-detector';
export { PiiTextRedactor } from './pii/pii-text-redactor';
export { SafetyService, type PromptSafetyReport } from './safety/safety.service';
export * from './quality/quality.types';
export { QualityScorer } from './quality/quality-scorer';
export { previousTurnOf } from './quality/previous-turn';
export { QualityRefiner } from './quality/quality-refiner';
export { DriftMonitor } from './drift/drift-monitor';
export { QualityInstrumentation } from './instrumentation/quality-instrumentation';
export { loadTfjs, type TfjsBackendName, type TfjsRuntime } from './tfjs/tfjs-runtime';
export * from './cost-forecaster';
export type { CandidatePrediction, RouteFeatures, RoutePredictorStatus, RouteRequest } from './router/router.types';
export { RoutePredictor } from './router/router.types';
export {
  decodeRouteDecision,
  encodeRouteDecision,
  extractRouteFeatures,
  routeTokenEstimate,
} from './router/route-features';
