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
  /**
   * What the answer must be when it is not prose: JSON (`response_format` json_object, or json_schema with its
   * schema), or tool calls (the calls and the functions offered). It is then judged on its structure
   * (`structured-answer.ts`), not on its words.
   */
  structured?: StructuredExpectation;
  /**
   * A chat call's previous exchange: the user turn before the question and the assistant's reply to it. A follow-up
   * that says little on its own ("Tell me more", "Why?", "And in Python?") is judged against it too.
   */
  previousTurn?: { question: string; answer: string };
}

export type StructuredExpectation =
  | { kind: 'json'; schema?: Record<string, unknown> }
  | {
      kind: 'tool_calls';
      calls: readonly { name: string; arguments: string }[];
      tools: readonly { name: string; parameters?: Record<string, unknown> }[];
    };

/** What the score judged: prose (`text`), a JSON answer (`json`, `json_schema`: with its schema) or `tool_calls`. */
export type QualityJudged = 'text' | 'json' | 'json_schema' | 'tool_calls';

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
  /** What the score judged: the words of a prose answer, or the structure of a JSON or tool-call answer. */
  judged: QualityJudged;
  /** The structural checks made on a JSON or tool-call answer (`parses`, `schema`, `offered_function`...); [] for text. */
  checks: string[];
}

export const GOOD_THRESHOLD = 0.5;
export const DEGRADED_THRESHOLD = 0.25;

export function qualityLabel(overall: number): QualityLabel {
  if (overall >= GOOD_THRESHOLD) return 'good';
  return overall >= DEGRADED_THRESHOLD ? 'degraded' : 'bad';
}
