export type QualityEndpoint = 'qa' | 'reason' | 'stress' | 'chat';
export type QualityFinishReason = 'stop' | 'length' | 'safety' | 'tool_calls' | 'error' | 'other';

export interface QualityInput {
  endpoint: QualityEndpoint;
  question: string;
  answer: string;
  /** The reference document (/qa), when the caller gave one. */
  document?: string;
  finishReason: QualityFinishReason;
  safetyBlocked: boolean;
}

export type QualityLabel = 'good' | 'degraded' | 'bad';

export interface QualityReport {
  /** Probability-like quality in [0,1] (the model's P(good), or the rule-based score). */
  overall: number;
  label: QualityLabel;
  /** Short machine-readable reasons, e.g. `off_topic`, `ungrounded`, `refusal`, `truncated`. */
  reasons: string[];
  /** Question ↔ answer relevance in [0,1]. */
  relevance: number;
  /** Share of the answer supported by the document in [0,1]; null without a document. */
  groundedness: number | null;
  /** A document was given and the answer contradicts it or is mostly unsupported by it. */
  ungrounded: boolean;
  /** Refusal, "I don't know", empty, truncated, blocked or failed answer. */
  failureToAnswer: boolean;
  /** `model`: the trained TensorFlow.js model; `rules`: the fallback (model missing or failed). */
  scorer: 'model' | 'rules';
  /** Legacy key (origin's `llm.semantic_similarity_score`): embedding cosine of question and answer in [0,1]. */
  semanticSimilarity: number;
}

export const GOOD_THRESHOLD = 0.5;
export const DEGRADED_THRESHOLD = 0.25;

export function qualityLabel(overall: number): QualityLabel {
  if (overall >= GOOD_THRESHOLD) return 'good';
  return overall >= DEGRADED_THRESHOLD ? 'degraded' : 'bad';
}
