import type { CandidatePrediction, RouteFeatures, RoutePredictorStatus } from '@app/ml';
import { extractRouteFeatures, RoutePredictor } from '@app/ml';
import { ROUTE_REASONS, RouteDecider, type RouteDeciderOptions } from './route-decider';

const CANDIDATES = ['lite', 'flash', 'pro'];
const PRICE: Record<string, number> = { lite: 1, flash: 3, pro: 10 };

/** A predictor of our own port with fixed answers per model (no SDK involved). */
class TablePredictor extends RoutePredictor {
  calls = 0;
  constructor(
    private readonly table: Record<string, Omit<CandidatePrediction, 'model'>>,
    private readonly state: Partial<RoutePredictorStatus> = {},
    private readonly fail = false,
  ) {
    super();
  }
  status(): RoutePredictorStatus {
    return { loaded: true, trainedOn: 10_000, models: Object.keys(this.table), ...this.state };
  }
  predict(_features: RouteFeatures, candidates: readonly string[]): (CandidatePrediction | undefined)[] {
    this.calls += 1;
    if (this.fail) throw new Error('weights corrupt');
    return candidates.map((model) => (this.table[model] ? { model, ...this.table[model] } : undefined));
  }
}

const p = (pMeetsQuality: number, latencyMs = 500, outputTokens = 100) => ({
  pMeetsQuality,
  expectedQuality: pMeetsQuality,
  latencyMs,
  outputTokens,
});

function decider(predictor: RoutePredictor, options: Partial<RouteDeciderOptions> = {}): RouteDecider {
  return new RouteDecider({
    mode: 'learned',
    candidates: CANDIDATES,
    exploration: 0,
    minHistory: 500,
    predictor,
    // Cost: the model's unit price per 1,000 tokens, in and out alike.
    price: (model, input, output) => (PRICE[model] === undefined ? null : (PRICE[model] * (input + output)) / 1000),
    rulesOutputTokens: 100,
    confidence: 0.7,
    random: () => 0.99,
    ...options,
  });
}

const features = (userText: string, endpoint = 'qa', document?: string): RouteFeatures =>
  extractRouteFeatures({ endpoint, userText, prompt: userText, document });
const all = (): boolean => true;

describe('RouteDecider', () => {
  const easy = features('What is the capital of France?');
  const hard = features('Write a function that solves 3x + 5 = 20 step by step and explain why it works');

  it('rules: simple requests go to the cheapest candidate, complex ones to the strongest, one signal to the middle', () => {
    const rules = decider(new TablePredictor({}), { mode: 'rules' });
    expect(rules.decide(easy, {}, all)).toMatchObject({ selectedModel: 'lite', reason: 'rules', mode: 'rules' });
    expect(rules.decide(hard, {}, all)).toMatchObject({ selectedModel: 'pro', reason: 'rules' });
    expect(rules.decide(features('Plan a three-day trip to Rome'), {}, all).selectedModel).toBe('flash');
    expect(rules.decide(hard, {}, all).predictedQuality).toBeNull(); // the rules predict nothing about quality
  });

  it('rules: max_cost_usd steps down to a cheaper candidate', () => {
    const rules = decider(new TablePredictor({}), { mode: 'rules' });
    const tokens = hard.promptTokens + 100;
    const decision = rules.decide(hard, { maxCostUsd: (PRICE.flash! * tokens) / 1000 }, all);
    expect(decision.selectedModel).toBe('flash');
    expect(decision.predictedCostUsd).toBeCloseTo((PRICE.flash! * tokens) / 1000, 10);
    expect(rules.decide(hard, { maxCostUsd: 0 }, all).selectedModel).toBe('lite'); // nothing fits: the cheapest
  });

  it('learned: the cheapest candidate predicted to meet every constraint; deterministic with exploration off', () => {
    const predictor = new TablePredictor({ lite: p(0.5), flash: p(0.8, 900), pro: p(0.95, 4000) });
    const d = decider(predictor);
    const first = d.decide(easy, { minQuality: 0.7 }, all);
    expect(first).toMatchObject({
      selectedModel: 'flash',
      reason: 'cheapest_meeting_constraints',
      explored: false,
      predictedQuality: 0.8,
      predictedLatencyMs: 900,
    });
    expect(first.predictedCostUsd).toBeCloseTo((3 * (easy.promptTokens + 100)) / 1000, 10);
    for (let i = 0; i < 20; i++) expect(d.decide(easy, { minQuality: 0.7 }, all)).toEqual(first);
  });

  it('learned: a latency or cost bound excludes candidates; none fits → the one most likely to meet quality', () => {
    const predictor = new TablePredictor({ lite: p(0.5, 300), flash: p(0.8, 2000), pro: p(0.95, 4000) });
    expect(decider(predictor).decide(easy, { maxLatencyMs: 3000 }, all).selectedModel).toBe('flash');
    const none = decider(predictor).decide(easy, { maxLatencyMs: 100 }, all);
    expect(none).toMatchObject({ selectedModel: 'pro', reason: 'best_predicted' });
    const cheap = decider(predictor).decide(easy, { maxCostUsd: (1 * (easy.promptTokens + 100)) / 1000 }, all);
    expect(cheap).toMatchObject({ selectedModel: 'pro', reason: 'best_predicted' }); // lite fits the cost, not quality
  });

  it('an open circuit removes a candidate; all open → the first candidate, said so', () => {
    const predictor = new TablePredictor({ lite: p(0.5), flash: p(0.8), pro: p(0.95) });
    const noFlash = decider(predictor).decide(easy, {}, (m) => m !== 'flash');
    expect(noFlash.candidatesConsidered).toEqual(['lite', 'pro']);
    expect(noFlash.selectedModel).toBe('pro');
    expect(decider(predictor).decide(easy, {}, () => false)).toMatchObject({
      selectedModel: 'lite',
      reason: 'all_circuits_open',
      candidatesConsidered: [],
    });
    expect(decider(predictor).decide(easy, {}, (m) => m === 'pro')).toMatchObject({
      selectedModel: 'pro',
      reason: 'single_candidate',
    });
  });

  it('falls back to the rules and says why: cold start, no model, a failing model, no evidence for any candidate', () => {
    const table = { lite: p(0.5), flash: p(0.8), pro: p(0.95) };
    expect(decider(new TablePredictor(table, { trainedOn: 499 })).decide(hard, {}, all)).toMatchObject({
      reason: 'cold_start',
      selectedModel: 'pro',
      mode: 'learned',
    });
    expect(decider(new TablePredictor(table, { loaded: false })).decide(hard, {}, all).reason).toBe(
      'model_unavailable',
    );
    expect(decider(new TablePredictor(table, {}, true)).decide(hard, {}, all).reason).toBe('model_failure');
    expect(decider(new TablePredictor({ other: p(0.9) })).decide(hard, {}, all).reason).toBe('model_unavailable');
  });

  it('explores a random admissible candidate at the configured share, and never with ROUTER_EXPLORATION=0', () => {
    const predictor = new TablePredictor({ lite: p(0.5), flash: p(0.8), pro: p(0.95) });
    const draws = [0.01, 0.0]; // below the share, then the pick: the first admissible
    const exploring = decider(predictor, { exploration: 0.05, random: () => draws.shift() ?? 0.99 });
    expect(exploring.decide(easy, {}, all)).toMatchObject({
      selectedModel: 'lite',
      explored: true,
      reason: 'exploration',
    });
    let n = 0;
    const never = decider(predictor, { exploration: 0, random: () => ((n += 1), 0) });
    for (let i = 0; i < 50; i++) expect(never.decide(easy, {}, all).explored).toBe(false);
    expect(n).toBe(0);
    // Over many draws, the share explored is near the configured one.
    let seed = 7;
    const lcg = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const sampled = decider(predictor, { exploration: 0.1, random: lcg });
    const explored = Array.from({ length: 5000 }, () => sampled.decide(easy, {}, all).explored).filter(Boolean).length;
    expect(explored / 5000).toBeGreaterThan(0.08);
    expect(explored / 5000).toBeLessThan(0.12);
  });

  it('a candidate the model has never seen (a model added yesterday) is not dropped: rules with one known, explored with two', () => {
    // The model knows flash only; lite and pro are new. Before, flash served every call (best_predicted), and
    // exploration drew among the known candidates only, so the new ones never got the evidence to be learned.
    const oneKnown = decider(new TablePredictor({ flash: p(0.4) }));
    expect(oneKnown.decide(easy, {}, all)).toMatchObject({ selectedModel: 'lite', reason: 'model_unavailable' });
    expect(oneKnown.decide(hard, {}, all)).toMatchObject({ selectedModel: 'pro', reason: 'model_unavailable' });
    // Two known (lite, flash), pro new: the model chooses among the known; exploration can draw pro.
    const twoKnown = new TablePredictor({ lite: p(0.5), flash: p(0.8) });
    expect(decider(twoKnown).decide(hard, {}, all)).toMatchObject({
      selectedModel: 'flash',
      reason: 'cheapest_meeting_constraints',
    });
    const draws = [0.01, 0.99]; // below the share, then the pick: the last admissible candidate
    const exploring = decider(twoKnown, { exploration: 0.05, random: () => draws.shift() ?? 0.99 });
    expect(exploring.decide(easy, {}, all)).toMatchObject({
      selectedModel: 'pro',
      explored: true,
      reason: 'exploration',
      predictedQuality: null,
      predictedLatencyMs: null,
      predictedCostUsd: (PRICE.pro! * (easy.promptTokens + 100)) / 1000,
    });
  });

  it('one candidate: no decision to make', () => {
    const one = decider(new TablePredictor({}), { candidates: ['flash'] });
    expect(one.decide(hard, {}, all)).toMatchObject({ selectedModel: 'flash', reason: 'single_candidate' });
    expect(ROUTE_REASONS).toContain('single_candidate');
  });
});
