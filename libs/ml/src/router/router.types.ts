/**
 * The contract between the model router's decision (libs/llm/src/routing) and its learned predictor (this folder).
 * The predictor never decides: it predicts, per candidate model, what a call would achieve; the router applies the
 * constraints, exploration and circuits (docs/router.md).
 */

/** What the router knows of a request before any model sees it. */
export interface RouteRequest {
  /** qa | reason | stress | chat */
  endpoint: string;
  /** The user's own text (question or prompt). */
  userText: string;
  /** The whole prompt sent (document and template included). */
  prompt: string;
  document?: string;
}

/** The request's features (cheap to compute: well under 0.1 ms for a few KB of prompt). */
export interface RouteFeatures {
  endpoint: string;
  /**
   * The prompt's size in tokens, estimated as characters / 4 (routeTokenEstimate): the request path does not count
   * short prompts' tokens, and training must see the same number as the request path.
   */
  promptTokens: number;
  hasDocument: boolean;
  documentTokens: number;
  /** factual | how | why | compare | open | instruction | other */
  questionType: string;
  code: boolean;
  math: boolean;
  multiStep: boolean;
  /** Words of the user's text. */
  words: number;
}

/** What one candidate model is predicted to achieve on this request. */
export interface CandidatePrediction {
  model: string;
  /** Probability that the call's quality score reaches the requested minimum. */
  pMeetsQuality: number;
  /** Expected quality score (0..1). */
  expectedQuality: number;
  /** Expected latency of the call (ms). */
  latencyMs: number;
  /** Expected output tokens (the router prices them with the price table). */
  outputTokens: number;
}

/** The learned predictor's state, for the decision's reason and `GET /llm/router`. */
export interface RoutePredictorStatus {
  loaded: boolean;
  /** Why no model is loaded (missing, unreadable, wrong version). */
  reason?: string;
  /** Outcomes the loaded model was trained on. */
  trainedOn: number;
  trainedAt?: string;
  /** The models it has evidence for; a candidate outside this list gets no prediction. */
  models: readonly string[];
  /**
   * The decision threshold tuned with the model on its training data's held-out rows (for min_quality 0.5): a
   * candidate "meets" the quality target when its predicted probability of meeting it is at least this.
   */
  confidence?: number;
}

/**
 * The learned predictor (DI token; MlModule provides it, loaded from models/router, or not loaded). `predict` is
 * synchronous and runs on the request path: a plain-JS forward pass, no tensors.
 */
export abstract class RoutePredictor {
  abstract status(): RoutePredictorStatus;
  /**
   * One entry per candidate, in order; undefined for a candidate the model has no evidence for. Throws when no model
   * is loaded (the router then serves its rules and says so).
   */
  abstract predict(
    features: RouteFeatures,
    candidates: readonly string[],
    minQuality: number,
  ): (CandidatePrediction | undefined)[];
}
