import type { QualitySignals } from './quality-signals';

/** Off-topic below this relevance, weakly relevant below the second. */
export const OFF_TOPIC_RELEVANCE = 0.35;
export const LOW_RELEVANCE = 0.55;

export function isFailureToAnswer(s: QualitySignals): boolean {
  return s.empty || s.refusal || s.truncated || s.blocked;
}

export function isUngrounded(s: QualitySignals): boolean {
  if (!s.hasDocument || isFailureToAnswer(s)) return false;
  return s.numberMismatch || s.negationMismatch || s.unsupported > 0.5 || (s.groundedness ?? 1) < 0.4;
}

/** Why the answer is not good; empty for a good answer. */
export function qualityReasons(s: QualitySignals): string[] {
  const reasons: string[] = [];
  if (s.blocked) reasons.push('blocked');
  if (s.empty) reasons.push('empty');
  if (s.refusal) reasons.push('refusal');
  if (s.truncated) reasons.push('truncated');
  if (!s.empty && s.relevance < OFF_TOPIC_RELEVANCE) reasons.push('off_topic');
  else if (!s.empty && s.relevance < LOW_RELEVANCE) reasons.push('low_relevance');
  if (s.numberMismatch || s.negationMismatch) reasons.push('contradicts_document');
  if (s.wrongCalculation) reasons.push('wrong_calculation');
  if (isUngrounded(s)) reasons.push('ungrounded');
  if (s.hedging >= 0.5) reasons.push('hedging');
  if (s.drift) reasons.push('drifts_off_topic');
  return reasons;
}

/** The rule-based overall score in [0,1]: the fallback when the trained model is missing or fails. */
export function rulesScore(s: QualitySignals): number {
  if (s.blocked || s.empty) return 0.02;
  if (s.refusal) return 0.1;
  let score = s.relevance;
  if (s.hasDocument) score = 0.5 * s.relevance + 0.5 * (s.groundedness ?? 0);
  if (s.numberMismatch || s.negationMismatch || s.wrongCalculation) score *= 0.5;
  if (s.truncated) score = Math.min(score, 0.3);
  score -= 0.15 * s.hedging;
  return Math.max(0, Math.min(1, score));
}
