import type { Provider } from '@nestjs/common';
import { AppConfig } from '@app/config';
import { OptimizationService } from './optimization.service';
import { createRecommendationStore } from './store/recommendation-store.factory';
import { RecommendationStore } from './store/recommendation-store.port';

/** The optimisation providers InsightsModule registers: the store chosen by config, and the service. */
export const OPTIMIZATION_PROVIDERS: Provider[] = [
  { provide: RecommendationStore, inject: [AppConfig], useFactory: createRecommendationStore },
  OptimizationService,
];
