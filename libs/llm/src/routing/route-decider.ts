import type { RouteConstraints } from '@app/config';
import type { CandidatePrediction, RouteFeatures, RoutePredictor } from '@app/ml';

export type RouterMode = 'off' | 'rules' | 'learned';

/**
 * Why a model was chosen (a bounded set: the `reason` tag of `llm.router.decision.count`).
 * - `single_candidate`: one model to choose from (ROUTER_CANDIDATES empty or one).
 * - `rules`: the rules chose (ROUTER_MODE=rules).
 * - `cold_start`: learned mode, but the model was trained on fewer than ROUTER_MIN_HISTORY outcomes: the rules chose.
 * - `model_unavailable`: learned mode, no model loaded (missing or unreadable), or it has evidence for fewer than two
 *   of the admissible candidates (it cannot compare them): the rules chose.
 * - `model_failure`: the model threw on this request: the rules chose.
 * - `cheapest_meeting_constraints`: the cheapest candidate predicted to meet every constraint.
 * - `best_predicted`: none is predicted to meet them all: the one most likely to meet the quality target.
 * - `exploration`: a random admissible candidate (ROUTER_EXPLORATION), one the model has no evidence for included, so
 *   every model keeps getting evidence.
 * - `all_circuits_open`: every candidate's circuit is open: the first one (the call fails fast, or its fallbacks run).
 */
export type RouteReason =
  | 'single_candidate'
  | 'rules'
  | 'cold_start'
  | 'model_unavailable'
  | 'model_failure'
  | 'cheapest_meeting_constraints'
  | 'best_predicted'
  | 'exploration'
  | 'all_circuits_open';

export const ROUTE_REASONS: readonly RouteReason[] = [
  'single_candidate',
  'rules',
  'cold_start',
  'model_unavailable',
  'model_failure',
  'cheapest_meeting_constraints',
  'best_predicted',
  'exploration',
  'all_circuits_open',
];

/** One call's routing decision (`metadata.routing`). Predictions are null where nothing predicted them. */
export interface RouteDecision {
  mode: RouterMode;
  selectedModel: string;
  /** The candidates the decision weighed: those whose circuit admits calls. */
  candidatesConsidered: string[];
  predictedQuality: number | null;
  predictedLatencyMs: number | null;
  predictedCostUsd: number | null;
  explored: boolean;
  reason: RouteReason;
}

export interface RouteDeciderOptions {
  mode: RouterMode;
  /** Cheapest first. */
  candidates: readonly string[];
  exploration: number;
  minHistory: number;
  predictor: RoutePredictor;
  /** The cost of a call (price table), or null for an unpriced model. */
  price: (model: string, inputTokens: number, outputTokens: number) => number | null;
  /** Output tokens the rules assume when they price a call against max_cost_usd. */
  rulesOutputTokens: number;
  /** A candidate "meets" the quality target when its predicted probability of meeting it is at least this. */
  confidence: number;
  random: () => number;
}

/** Default of RouteDeciderOptions.confidence. */
export const ROUTE_CONFIDENCE = 0.7;

/**
 * Chooses a call's model among the candidates. Pure apart from `random` (exploration): the same features,
 * constraints and circuits give the same decision with exploration off. Used by the request path (ModelRouter)
 * and by the offline replay (`npm run ml:eval -- router`).
 */
export class RouteDecider {
  constructor(private readonly options: RouteDeciderOptions) {}

  get candidates(): readonly string[] {
    return this.options.candidates;
  }

  /** `admits(model)`: the model's circuit admits calls now (an open circuit removes a candidate). */
  decide(features: RouteFeatures, constraints: RouteConstraints, admits: (model: string) => boolean): RouteDecision {
    const { mode, candidates } = this.options;
    if (candidates.length <= 1) return this.fixed(candidates[0]!, [...candidates], 'single_candidate');
    const considered = candidates.filter(admits);
    if (considered.length === 0) return this.fixed(candidates[0]!, [], 'all_circuits_open');
    if (considered.length === 1) return this.fixed(considered[0]!, considered, 'single_candidate');
    if (mode !== 'learned') return this.rules(features, constraints, considered, 'rules');

    const status = this.options.predictor.status();
    if (!status.loaded) return this.rules(features, constraints, considered, 'model_unavailable');
    if (status.trainedOn < this.options.minHistory) return this.rules(features, constraints, considered, 'cold_start');
    let predictions: (CandidatePrediction | undefined)[];
    try {
      predictions = this.options.predictor.predict(features, considered, constraints.minQuality ?? 0);
    } catch {
      return this.rules(features, constraints, considered, 'model_failure');
    }
    const known = considered
      .map((model, i) => ({ model, prediction: predictions[i] }))
      .filter((c): c is { model: string; prediction: CandidatePrediction } => c.prediction !== undefined)
      .map((c) => ({ ...c, cost: this.options.price(c.model, features.promptTokens, c.prediction.outputTokens) }));
    // The model compares candidates it has evidence for. With fewer than two of them admissible it cannot choose
    // (before, a candidate it had never seen, a model added yesterday, was silently dropped and the one it knew
    // served every call, unpriced and dearest or not): the rules choose among them all.
    if (known.length < 2) return this.rules(features, constraints, considered, 'model_unavailable');

    const explore = this.options.exploration > 0 && this.options.random() < this.options.exploration;
    if (explore) {
      // Any admissible candidate, those the model has no evidence for included: exploration is how they get it.
      const model = considered[Math.min(considered.length - 1, Math.floor(this.options.random() * considered.length))]!;
      const pick = known.find((c) => c.model === model);
      return pick ? this.learned(pick, considered, 'exploration', true) : this.unpredicted(model, features, considered);
    }
    const meets = known.filter(
      (c) =>
        c.prediction.pMeetsQuality >= this.options.confidence &&
        (constraints.maxLatencyMs === undefined || c.prediction.latencyMs <= constraints.maxLatencyMs) &&
        (constraints.maxCostUsd === undefined || (c.cost !== null && c.cost <= constraints.maxCostUsd)),
    );
    if (meets.length > 0) {
      // Cheapest by predicted cost; an unpriced model counts as dearest; ties keep the candidates' order.
      const cheapest = meets.reduce((best, c) => ((c.cost ?? Infinity) < (best.cost ?? Infinity) ? c : best));
      return this.learned(cheapest, considered, 'cheapest_meeting_constraints', false);
    }
    const best = known.reduce((a, c) => (c.prediction.pMeetsQuality > a.prediction.pMeetsQuality ? c : a));
    return this.learned(best, considered, 'best_predicted', false);
  }

  /**
   * The rules: a complexity count (code, math, multi-step wording, the reason endpoint, a long prompt, a why/how/compare
   * question counts half) picks a tier of the candidates (cheapest first): 0 the cheapest, 1 the middle, 2 or more the
   * strongest. Then max_cost_usd (priced at `rulesOutputTokens`) steps down to a cheaper candidate while it is over.
   */
  private rules(
    features: RouteFeatures,
    constraints: RouteConstraints,
    considered: string[],
    reason: RouteReason,
  ): RouteDecision {
    const complexity =
      (features.code ? 1 : 0) +
      (features.math ? 1 : 0) +
      (features.multiStep ? 1 : 0) +
      (features.endpoint === 'reason' ? 1 : 0) +
      (features.promptTokens > 2000 ? 1 : 0) +
      (['why', 'how', 'compare'].includes(features.questionType) ? 0.5 : 0);
    const last = considered.length - 1;
    let index = Math.min(last, Math.floor((complexity * last) / 2 + 1e-9));
    const cost = (i: number): number | null =>
      this.options.price(considered[i]!, features.promptTokens, this.options.rulesOutputTokens);
    if (constraints.maxCostUsd !== undefined) {
      while (index > 0 && (cost(index) ?? Infinity) > constraints.maxCostUsd) index -= 1;
    }
    const model = considered[index]!;
    return {
      mode: this.options.mode,
      selectedModel: model,
      candidatesConsidered: considered,
      predictedQuality: null,
      predictedLatencyMs: null,
      predictedCostUsd: cost(index),
      explored: false,
      reason,
    };
  }

  private learned(
    pick: { model: string; prediction: CandidatePrediction; cost: number | null },
    considered: string[],
    reason: RouteReason,
    explored: boolean,
  ): RouteDecision {
    return {
      mode: this.options.mode,
      selectedModel: pick.model,
      candidatesConsidered: considered,
      predictedQuality: round(pick.prediction.expectedQuality, 4),
      predictedLatencyMs: round(pick.prediction.latencyMs, 1),
      predictedCostUsd: pick.cost,
      explored,
      reason,
    };
  }

  /** An explored candidate the model has no evidence for: nothing predicted but its cost, priced as the rules do. */
  private unpredicted(model: string, features: RouteFeatures, considered: string[]): RouteDecision {
    return {
      mode: this.options.mode,
      selectedModel: model,
      candidatesConsidered: considered,
      predictedQuality: null,
      predictedLatencyMs: null,
      predictedCostUsd: this.options.price(model, features.promptTokens, this.options.rulesOutputTokens),
      explored: true,
      reason: 'exploration',
    };
  }

  private fixed(model: string, considered: string[], reason: RouteReason): RouteDecision {
    return {
      mode: this.options.mode,
      selectedModel: model,
      candidatesConsidered: considered,
      predictedQuality: null,
      predictedLatencyMs: null,
      predictedCostUsd: null,
      explored: false,
      reason,
    };
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
