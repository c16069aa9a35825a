import { Injectable } from '@nestjs/common';
import { MetricsPort, TAG, tagValue } from '@app/observability';
import { ML_METRICS } from '../ml.metrics';
import type { QualityReport } from '../quality/quality.types';
import type { PromptSafetyReport } from '../safety/safety.service';

export type InjectionAction = 'flagged' | 'blocked' | 'none';

/**
 * Emits the quality and security metrics of one LLM call through MetricsPort, once per call. `tags` are
 * the caller's preformatted bounded tags (endpoint, provider, model).
 */
@Injectable()
export class QualityTelemetry {
  constructor(private readonly metrics: MetricsPort) {}

  record(
    quality: QualityReport | undefined,
    safety: PromptSafetyReport,
    tags: readonly string[],
    injectionAction: InjectionAction,
  ): void {
    if (quality) {
      this.metrics.distribution(ML_METRICS.qualityScore.name, quality.overall, [
        ...tags,
        `${TAG.label}:${quality.label}`,
      ]);
      this.metrics.distribution(ML_METRICS.qualityRelevance.name, quality.relevance, tags);
      if (quality.groundedness !== null)
        this.metrics.distribution(ML_METRICS.qualityGroundedness.name, quality.groundedness, tags);
      if (quality.ungrounded) this.metrics.increment(ML_METRICS.ungroundedAnswers.name, 1, tags);
      if (quality.failureToAnswer) this.metrics.increment(ML_METRICS.failureToAnswer.name, 1, tags);
    }
    for (const type of safety.piiTypes) {
      this.metrics.increment(ML_METRICS.piiDetected.name, 1, [...tags, `${TAG.piiType}:${tagValue(type)}`]);
    }
    if (injectionAction !== 'none') {
      this.metrics.increment(ML_METRICS.promptInjection.name, 1, [...tags, `${TAG.action}:${injectionAction}`]);
    }
    if (safety.tokenAbuse) this.metrics.increment(ML_METRICS.tokenAbuse.name, 1, tags);
  }
}
