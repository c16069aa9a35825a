import { Injectable } from '@nestjs/common';
import { MetricsPort, TAG, tagValue } from '@app/telemetry';
import { ML_METRICS } from '../ml.metrics';
import type { QualityReport } from '../quality/quality.types';
import type { PromptSafetyReport } from '../safety/safety.service';

export type InjectionAction = 'flagged' | 'blocked' | 'none';

/**
 * Emits the quality and security metrics of one LLM call through MetricsPort, once per call. `tags` are
 * the caller's preformatted bounded tags (endpoint, provider, model).
 */
@Injectable()
export class QualityInstrumentation {
  /** Tag arrays with one extra tag, built once per base array (cached by the caller) and value, so that a
   * call allocates no new array. */
  private readonly extended = new WeakMap<readonly string[], Map<string, string[]>>();

  constructor(private readonly metrics: MetricsPort) {}

  private with(tags: readonly string[], extra: string): string[] {
    let byExtra = this.extended.get(tags);
    if (!byExtra) {
      byExtra = new Map();
      this.extended.set(tags, byExtra);
    }
    let out = byExtra.get(extra);
    if (!out) {
      out = [...tags, extra];
      byExtra.set(extra, out);
    }
    return out;
  }

  record(
    quality: QualityReport | undefined,
    safety: PromptSafetyReport,
    tags: readonly string[],
    injectionAction: InjectionAction,
  ): void {
    if (quality) {
      this.metrics.distribution(
        ML_METRICS.qualityScore.name,
        quality.overall,
        this.with(tags, `${TAG.label}:${quality.label}`),
      );
      this.metrics.distribution(ML_METRICS.qualityRelevance.name, quality.relevance, tags);
      if (quality.groundedness !== null)
        this.metrics.distribution(ML_METRICS.qualityGroundedness.name, quality.groundedness, tags);
      if (quality.ungrounded) this.metrics.increment(ML_METRICS.ungroundedAnswers.name, 1, tags);
      if (quality.failureToAnswer) this.metrics.increment(ML_METRICS.failureToAnswer.name, 1, tags);
    }
    for (const type of safety.piiTypes) {
      this.metrics.increment(ML_METRICS.piiDetected.name, 1, this.with(tags, `${TAG.piiType}:${tagValue(type)}`));
    }
    if (injectionAction !== 'none') {
      this.metrics.increment(ML_METRICS.promptInjection.name, 1, this.with(tags, `${TAG.action}:${injectionAction}`));
    }
    if (safety.tokenAbuse) this.metrics.increment(ML_METRICS.tokenAbuse.name, 1, tags);
  }

  /** A call that failed (502/503/504): the user got no answer, a failure to answer like a refusal or an empty one. */
  failedAnswer(tags: readonly string[]): void {
    this.metrics.increment(ML_METRICS.failureToAnswer.name, 1, tags);
  }
}
