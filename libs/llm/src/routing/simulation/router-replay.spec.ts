import type { CandidatePrediction, RouteFeatures, RoutePredictorStatus } from '@app/ml';
import { RoutePredictor } from '@app/ml';
import { RouteDecider } from '../route-decider';
import {
  deciderPolicy,
  fixedPolicy,
  oraclePolicy,
  replayPolicies,
  type ReplayOutcome,
  type ReplayRow,
} from './router-replay';

const MODELS = ['cheap', 'mid', 'strong'];

const features = (over: Partial<RouteFeatures> = {}): RouteFeatures => ({
  endpoint: 'qa',
  promptTokens: 40,
  hasDocument: false,
  documentTokens: 0,
  questionType: 'factual',
  code: false,
  math: false,
  multiStep: false,
  words: 8,
  ...over,
});

const out = (quality: number, costUsd: number, ok = true): ReplayOutcome => ({ ok, quality, costUsd, latencyMs: 100 });

/** Three requests: an easy one every model answers, a hard one only the strong model answers, one where mid errors. */
const ROWS: ReplayRow[] = [
  { id: 'easy', features: features(), outcomes: { cheap: out(0.8, 1), mid: out(0.8, 3), strong: out(0.8, 10) } },
  {
    id: 'hard',
    features: features({ math: true }),
    outcomes: { cheap: out(0.2, 1), mid: out(0.4, 3), strong: out(0.9, 10) },
  },
  {
    id: 'error',
    features: features({ code: true }),
    outcomes: { cheap: out(0.5, 1), mid: out(0, 0, false), strong: out(0.7, 10) },
  },
];

/** A predictor that says the cheap model meets the target unless the request has math (a fake: no tensors). */
class ScriptedPredictor extends RoutePredictor {
  status(): RoutePredictorStatus {
    return { loaded: true, trainedOn: 1000, models: MODELS };
  }
  predict(f: RouteFeatures, candidates: readonly string[]): (CandidatePrediction | undefined)[] {
    return candidates.map((model) => ({
      model,
      pMeetsQuality: model === 'strong' || !f.math ? 0.9 : 0.1,
      expectedQuality: 0.7,
      latencyMs: 100,
      outputTokens: 10,
    }));
  }
}

describe('replayPolicies', () => {
  it('totals cost, mean quality, shares and the change vs always-strongest', () => {
    const [strongest, cheapest] = replayPolicies(
      ROWS,
      [fixedPolicy('always-strongest', 'strong'), fixedPolicy('always-cheapest', 'cheap')],
      MODELS,
      0.7,
    );
    expect(strongest).toMatchObject({ totalCostUsd: 30, costVsStrongestPct: 0, qualityVsStrongestPct: 0 });
    expect(strongest!.meanQuality).toBeCloseTo(0.8, 10);
    expect(strongest!.meetsMinQuality).toBeCloseTo(1, 10);
    expect(strongest!.shares).toEqual({ cheap: 0, mid: 0, strong: 1 });
    expect(cheapest!.totalCostUsd).toBe(3);
    expect(cheapest!.meanQuality).toBeCloseTo(0.5, 10);
    expect(cheapest!.meetsMinQuality).toBeCloseTo(1 / 3, 10);
    expect(cheapest!.costVsStrongestPct).toBeCloseTo(-90, 10);
    expect(cheapest!.qualityVsStrongestPct).toBeCloseTo(-37.5, 10);
  });

  it('counts an error as quality 0 and its billed cost', () => {
    const [mid] = replayPolicies(ROWS, [fixedPolicy('always-mid', 'mid')], MODELS, 0.7);
    expect(mid!.totalCostUsd).toBe(6);
    expect(mid!.meanQuality).toBeCloseTo(0.4, 10);
    expect(mid!.meetsMinQuality).toBeCloseTo(1 / 3, 10);
  });

  it('the oracle takes the cheapest model that reaches the best quality of each request', () => {
    const [oracle] = replayPolicies(ROWS, [oraclePolicy(MODELS)], MODELS, 0.7);
    // easy → cheap (1), hard → strong (10), error → strong (10)
    expect(oracle!.totalCostUsd).toBe(21);
    expect(oracle!.meanQuality).toBeCloseTo((0.8 + 0.9 + 0.7) / 3, 10);
    expect(oracle!.shares.cheap).toBeCloseTo(1 / 3, 10);
    expect(oracle!.shares.strong).toBeCloseTo(2 / 3, 10);
  });

  it('runs RouteDecider as the learned policy and weights rows', () => {
    const decider = new RouteDecider({
      mode: 'learned',
      candidates: MODELS,
      exploration: 0,
      minHistory: 0,
      predictor: new ScriptedPredictor(),
      price: (model) => ({ cheap: 1, mid: 3, strong: 10 })[model] ?? null,
      rulesOutputTokens: 100,
      confidence: 0.7,
      random: () => 0,
    });
    const learned = deciderPolicy('learned', decider, () => ({ minQuality: 0.7 }));
    expect(ROWS.map((r) => learned.choose(r))).toEqual(['cheap', 'strong', 'cheap']);
    const weighted = ROWS.map((r, i) => ({ ...r, weight: i === 1 ? 2 : 1 }));
    const [strongest, result] = replayPolicies(
      weighted,
      [fixedPolicy('always-strongest', 'strong'), learned],
      MODELS,
      0.7,
    );
    // cheap (1) + 2 × strong (10) + cheap (1) over 4 weighted requests
    expect(result!.totalCostUsd).toBe(22);
    expect(result!.meanQuality).toBeCloseTo((0.8 + 2 * 0.9 + 0.5) / 4, 10);
    expect(result!.shares).toEqual({ cheap: 0.5, mid: 0, strong: 0.5 });
    expect(result!.costVsStrongestPct).toBeCloseTo((100 * (22 - 40)) / 40, 10);
    expect(strongest!.totalCostUsd).toBe(40);
  });

  it('refuses a policy choosing a model without an outcome', () => {
    expect(() => replayPolicies(ROWS, [fixedPolicy('x', 'absent')], MODELS, 0.7)).toThrow(/absent/);
  });
});
