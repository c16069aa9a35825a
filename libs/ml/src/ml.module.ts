import { Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { AppConfig } from '@app/config';
import { MetricsPort } from '@app/telemetry';
import { DriftMonitor } from './drift/drift-monitor';
import { createEmbeddingsPort } from './embeddings/embeddings.factory';
import { EmbeddingsPort } from './embeddings/embeddings.port';
import { OfflineEmbedder } from './embeddings/offline-embedder';
import { createOfflineEmbedder } from './embeddings/offline-embedder.factory';
import { PiiDetector } from './pii/pii-detector';
import { PiiTextRedactor } from './pii/pii-text-redactor';
import { QualityModelStore } from './quality/quality-model.store';
import { QualityRefiner } from './quality/quality-refiner';
import { QualityScorer } from './quality/quality-scorer';
import { INJECTION_MODEL_DIR, InjectionClassifier } from './safety/injection-classifier';
import { InjectionDetector } from './safety/injection-detector';
import { SafetyService } from './safety/safety.service';
import { QualityInstrumentation } from './instrumentation/quality-instrumentation';
import { ROUTER_MODEL_DIR, RouterModel } from './router/router-model';
import { RoutePredictor } from './router/router.types';

/** The router's learned predictor from `<MODELS_DIR>/router`; not loaded (and saying why) when missing or unreadable. */
async function createRoutePredictor(config: AppConfig): Promise<RoutePredictor> {
  const dir = join(config.ml.modelsDir, ROUTER_MODEL_DIR);
  const predictor = await RouterModel.load(dir);
  const status = predictor.status();
  const logger = new Logger('RouterModel');
  if (status.loaded)
    logger.log(`router model loaded from ${dir} (${status.trainedOn} outcomes, ${status.models.join(', ')})`);
  else logger.warn(`${status.reason ?? 'router model not loaded'}; learned routing falls back to the rules`);
  return predictor;
}

function createInjectionDetector(config: AppConfig): InjectionDetector {
  const dir = join(config.ml.modelsDir, INJECTION_MODEL_DIR);
  try {
    return new InjectionDetector(InjectionClassifier.load(dir));
  } catch (error) {
    new Logger('InjectionDetector').warn(
      `injection classifier not loaded from ${dir} (${(error as Error).message}); patterns only`,
    );
    return new InjectionDetector();
  }
}

const SERVICES = [
  PiiTextRedactor,
  SafetyService,
  QualityModelStore,
  QualityScorer,
  DriftMonitor,
  QualityInstrumentation,
];

/**
 * Quality and safety of every answer: PII detection and redaction, prompt-injection and token-abuse checks,
 * quality scoring (offline embeddings + TensorFlow.js model, rules fallback), drift, and their metrics; the model
 * router's learned predictor (`RoutePredictor`, models/router; not loaded: the router serves its rules).
 * Modules that inject these import `MlModule` (the LLM pipeline does; the app hands the PII redactor to telemetry).
 */
@Module({
  providers: [
    ...SERVICES,
    // The wall clock by default (Date.now): a factory, as Nest cannot inject a function by its type.
    { provide: PiiDetector, useFactory: (): PiiDetector => new PiiDetector() },
    {
      provide: OfflineEmbedder,
      inject: [AppConfig],
      useFactory: (config: AppConfig): OfflineEmbedder => createOfflineEmbedder(config.ml.modelsDir),
    },
    {
      provide: EmbeddingsPort,
      inject: [AppConfig, OfflineEmbedder],
      useFactory: (config: AppConfig, offline: OfflineEmbedder): EmbeddingsPort =>
        createEmbeddingsPort(config, offline),
    },
    { provide: InjectionDetector, inject: [AppConfig], useFactory: createInjectionDetector },
    { provide: RoutePredictor, inject: [AppConfig], useFactory: createRoutePredictor },
    {
      provide: QualityRefiner,
      inject: [EmbeddingsPort, MetricsPort, AppConfig],
      useFactory: (embeddings: EmbeddingsPort, metrics: MetricsPort, config: AppConfig) =>
        new QualityRefiner(embeddings, metrics, config.ml.remoteEmbeddingsSampleRate),
    },
  ],
  exports: [
    ...SERVICES,
    PiiDetector,
    QualityRefiner,
    OfflineEmbedder,
    EmbeddingsPort,
    InjectionDetector,
    RoutePredictor,
  ],
})
export class MlModule implements OnApplicationShutdown {
  constructor(private readonly embeddings: EmbeddingsPort) {}

  /** Closes the remote embeddings client's connections (in-flight refinements finish first). */
  onApplicationShutdown(): Promise<void> {
    return this.embeddings.close();
  }
}
