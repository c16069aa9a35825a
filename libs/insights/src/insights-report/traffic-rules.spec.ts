import type { RepeatedPrompt } from '@app/ledger';
import { windowOf } from './insights-rules';
import {
  cachingRecommendations,
  capacityRecommendations,
  cheaperModelRecommendations,
  circuitRecommendations,
  costSpikeRecommendations,
  type EndpointModelCalls,
  fallbackRecommendations,
  type TrafficFacts,
} from './traffic-rules';

const NOW = Date.UTC(2026, 11, 6, 12);

function facts(extra: Partial<TrafficFacts>): TrafficFacts {
  return {
    refusals: [],
    refusalsWindow: windowOf('5m', NOW - 300_000, NOW),
    repeats: [],
    repeatsLimit: 500,
    answered: [],
    repeatsWindow: windowOf('1h', NOW - 3_600_000, NOW),
    cache: { mode: 'off', scope: 'key' },
    chainModels: [],
    spendShort: [],
    routerCandidates: [],
    ...extra,
  };
}

/** Answered calls of a model on an endpoint (priced at $0.002 and scored 0.8 each, unless overridden). */
const calls = (
  endpoint: string,
  model: string,
  answered: number,
  extra: Partial<EndpointModelCalls> = {},
): EndpointModelCalls => ({
  endpoint,
  model,
  requests: answered,
  answered,
  errors: 0,
  costUsd: 0.002 * answered,
  pricedRequests: answered,
  freeFailures: 0,
  fallbacks: 0,
  qualitySum: 0.8 * answered,
  qualityCount: answered,
  ...extra,
});

const prompt = (hash: string, calls: number, extra: Partial<RepeatedPrompt> = {}): RepeatedPrompt => ({
  endpoint: '/qa',
  model: 'flash',
  promptHash: hash,
  calls,
  costUsd: 0.002 * calls,
  inputTokens: 500 * calls,
  outputTokens: 100 * calls,
  latencyMsSum: 400 * calls,
  ...extra,
});

describe('traffic rules: refused for capacity (NO_CAPACITY)', () => {
  it('names the refused calls of the whole service with their share, models and what each resource means', () => {
    const recs = capacityRecommendations(
      facts({
        refusals: [
          { model: 'pro', requests: 100, errors: 0, refused: 0, noCapacity: 30, fallbacks: 0, fallbackRetries: 0 },
          { model: 'flash', requests: 100, errors: 0, refused: 5, noCapacity: 10, fallbacks: 0, fallbackRetries: 0 },
          { model: 'lite', requests: 50, errors: 0, refused: 0, noCapacity: 0, fallbacks: 0, fallbackRetries: 0 },
        ],
      }),
    );
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      category: 'reliability',
      priority: 'high',
      model: null,
      evidence: { requests: 250, figures: { refused_calls: 40, refused_rate: 0.16 } },
    });
    expect(recs[0]!.title).toBe('No capacity: 40 calls (16%) refused with 503 NO_CAPACITY in the last 5m');
    expect(recs[0]!.evidence.summary).toContain('recorded under pro (30), flash (10)');
    for (const advice of ['provider_rate_limit', 'LLM_MAX_CONCURRENCY', 'event_loop', 'llm.shed.count']) {
      expect(recs[0]!.description).toContain(advice);
    }
    // Circuit refusals are the circuit rule's, not counted here.
    expect(recs[0]!.evidence.figures.refused_calls).toBe(40);
  });

  it('is medium for a rare refusal, names the one model when only one was refused, and is silent without any', () => {
    const [rare] = capacityRecommendations(
      facts({
        refusals: [
          { model: 'pro', requests: 400, errors: 0, refused: 0, noCapacity: 4, fallbacks: 0, fallbackRetries: 0 },
          { model: 'flash', requests: 100, errors: 0, refused: 0, noCapacity: 0, fallbacks: 0, fallbackRetries: 0 },
        ],
      }),
    );
    expect(rare).toMatchObject({ priority: 'medium', model: 'pro' });
    const [frequent] = capacityRecommendations(
      facts({
        refusals: [
          { model: 'pro', requests: 400, errors: 0, refused: 0, noCapacity: 200, fallbacks: 0, fallbackRetries: 0 },
        ],
      }),
    );
    expect(rare!.confidence).toBeLessThan(frequent!.confidence);
    expect(
      capacityRecommendations(
        facts({
          refusals: [
            { model: 'pro', requests: 80, errors: 0, refused: 3, noCapacity: 0, fallbacks: 0, fallbackRetries: 0 },
          ],
        }),
      ),
    ).toEqual([]);
  });
});

describe('traffic rules: open circuits', () => {
  it('names the refused calls with their share and window, and says nothing without refusals', () => {
    const recs = circuitRecommendations(
      facts({
        refusals: [
          { model: 'pro', requests: 80, errors: 0, refused: 20, noCapacity: 0, fallbacks: 0, fallbackRetries: 0 },
          { model: 'flash', requests: 200, errors: 0, refused: 0, noCapacity: 0, fallbacks: 0, fallbackRetries: 0 },
        ],
      }),
    );
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      category: 'reliability',
      priority: 'high',
      model: 'pro',
      evidence: { requests: 80, figures: { refused_calls: 20, refused_rate: 0.25 } },
    });
    expect(recs[0]!.title).toContain('20 calls (25%) refused with 503 in the last 5m');
    expect(recs[0]!.confidence).toBeGreaterThan(0.5);
    expect(
      circuitRecommendations(
        facts({
          refusals: [
            { model: 'pro', requests: 80, errors: 0, refused: 0, noCapacity: 0, fallbacks: 0, fallbackRetries: 0 },
          ],
        }),
      ),
    ).toEqual([]);
  });

  it('a rare refusal is medium priority with a lower confidence than a frequent one', () => {
    const [rare] = circuitRecommendations(
      facts({
        refusals: [
          { model: 'pro', requests: 200, errors: 0, refused: 2, noCapacity: 0, fallbacks: 0, fallbackRetries: 0 },
        ],
      }),
    );
    const [often] = circuitRecommendations(
      facts({
        refusals: [
          { model: 'pro', requests: 200, errors: 0, refused: 60, noCapacity: 0, fallbacks: 0, fallbackRetries: 0 },
        ],
      }),
    );
    expect(rare!.priority).toBe('medium');
    expect(rare!.confidence).toBeLessThan(often!.confidence);
  });
});

describe('traffic rules: fallbacks', () => {
  const refusal = (model: string, requests: number, fallbacks: number, fallbackRetries = 2 * fallbacks) => ({
    model,
    requests,
    errors: 0,
    refused: 0,
    noCapacity: 0,
    fallbacks,
    fallbackRetries,
  });

  it('names the model that failed when the chain leaves one, else lists the candidates; silent under 5 fallbacks', () => {
    const [two] = fallbackRecommendations(
      facts({ refusals: [refusal('flash', 146, 46), refusal('mini', 54, 0)], chainModels: ['mini', 'flash'] }),
    );
    expect(two).toMatchObject({
      category: 'reliability',
      priority: 'high',
      model: 'mini',
      evidence: { requests: 200, figures: { fallback_calls: 46, fallback_rate: 0.23, fallback_retries: 92 } },
    });
    expect(two!.title).toBe('Model mini: 46 calls (23%) fell back to flash in the last 5m');
    expect(two!.description).toContain('the callers got answers, after the failed attempts');
    // The whole chain failing (loopback upstream, every model answering 500): the calls are recorded as fallbacks
    // under its last model, failed; the callers got no answer, and the item does not say they did.
    const [failed] = fallbackRecommendations(
      facts({ refusals: [{ ...refusal('flash', 50, 50), errors: 50 }], chainModels: ['mini', 'flash'] }),
    );
    expect(failed!.description).not.toContain('the callers got answers, after');
    expect(failed!.description).toContain('unless flash failed too: 50 of the 50 calls recorded under it failed');
    expect(failed!.description).not.toContain('send its traffic to flash');
    expect(two!.description).toContain('send its traffic to flash until it recovers');
    expect(two!.evidence.summary).toContain('with 92 retries before');

    // A chain of three: a call falls back along it, so a fallback under its second model came from the first (before,
    // every other model of the chain was listed, those after it too, and none was named).
    const [second] = fallbackRecommendations(
      facts({ refusals: [refusal('pro', 400, 10)], chainModels: ['flash', 'pro', 'lite', 'flash'] }),
    );
    expect(second).toMatchObject({ model: 'flash', priority: 'medium' });
    expect(second!.title).toBe('Model flash: 10 calls (2.5%) fell back to pro in the last 5m');
    expect(second!.confidence).toBeLessThan(two!.confidence);
    // Under its third model, either of the first two may have failed: both are listed, none is named.
    const [third] = fallbackRecommendations(
      facts({ refusals: [refusal('lite', 400, 10)], chainModels: ['flash', 'pro', 'lite'] }),
    );
    expect(third).toMatchObject({ model: null });
    expect(third!.title).toBe(
      'Fallbacks: 10 calls (2.5%) fell back to lite from another model of the chain (flash, pro) in the last 5m',
    );

    // The router at work (measured on a loopback upstream): the chain gpt-4o-mini → gemini-2.5-flash →
    // gemini-2.5-pro, ROUTER_CANDIDATES=gemini-2.5-flash-lite,gpt-4o-mini, every call routed to flash-lite, which
    // failed. A routed call's chain is its candidate, then the configured chain: the calls under gpt-4o-mini came
    // from flash-lite, not from the two models after it. Before: "from another model of the chain (gemini-2.5-flash,
    // gemini-2.5-pro, gemini-2.5-flash-lite)", `model` null.
    const [routed] = fallbackRecommendations(
      facts({
        refusals: [refusal('gpt-4o-mini', 50, 30), refusal('gemini-2.5-flash-lite', 20, 0)],
        chainModels: ['gpt-4o-mini', 'gemini-2.5-flash', 'gemini-2.5-pro'],
        routerCandidates: ['gemini-2.5-flash-lite', 'gpt-4o-mini'],
      }),
    );
    expect(routed).toMatchObject({ model: 'gemini-2.5-flash-lite' });
    expect(routed!.title).toBe('Model gemini-2.5-flash-lite: 30 calls (42.9%) fell back to gpt-4o-mini in the last 5m');
    // The chain's first model, without a router: only a `/v1` call naming another model could have started before it.
    const [first] = fallbackRecommendations(
      facts({ refusals: [refusal('flash', 100, 10)], chainModels: ['flash', 'pro'] }),
    );
    expect(first).toMatchObject({ model: null });
    expect(first!.title).toBe('Fallbacks: 10 calls (10%) fell back to flash from an earlier model in the last 5m');

    // A few fallbacks in much traffic: the chain doing its job, low priority.
    const [rare] = fallbackRecommendations(
      facts({ refusals: [refusal('flash', 1000, 5)], chainModels: ['mini', 'flash'] }),
    );
    expect(rare).toMatchObject({ model: 'mini', priority: 'low' });
    expect(
      fallbackRecommendations(facts({ refusals: [refusal('flash', 146, 4)], chainModels: ['mini', 'flash'] })),
    ).toEqual([]);
    expect(fallbackRecommendations(facts({ refusals: [], chainModels: ['mini', 'flash'] }))).toEqual([]);
  });
});

describe('traffic rules: response-cache candidates', () => {
  it("advises from this service's cache settings: turn it on, or why repeats still reached the model", () => {
    const base = {
      repeats: [prompt('aaaaaaaaaaaa', 10), prompt('bbbbbbbbbbbb', 4)],
      answered: [calls('/qa', 'flash', 40)],
    };
    const advice = (cache: TrafficFacts['cache']): string =>
      cachingRecommendations(facts({ ...base, cache }))[0]!.description;
    expect(advice({ mode: 'off', scope: 'key' })).toContain('CACHE_MODE=exact');
    expect(advice({ mode: 'off', scope: 'key' })).toContain('upper bound');
    expect(advice({ mode: 'off', scope: 'shared' })).not.toContain('upper bound');
    expect(advice({ mode: 'exact', scope: 'key' })).toContain('CACHE_SCOPE=shared');
    expect(advice({ mode: 'exact', scope: 'key' })).not.toContain('CACHE_MODE=exact');
    expect(advice({ mode: 'exact', scope: 'shared' })).toContain('CACHE_MAX_ENTRIES');
  });

  it('counts the repeats after the first call of each prompt, their cost and latency, per endpoint and model', () => {
    const recs = cachingRecommendations(
      facts({
        repeats: [prompt('aaaaaaaaaaaa', 10), prompt('bbbbbbbbbbbb', 4), prompt('cccc', 3, { endpoint: '/reason' })],
        answered: [calls('/qa', 'flash', 40), calls('/reason', 'flash', 1000)],
      }),
    );
    // /qa: 14 calls of 2 prompts = 12 repeats of 40 answered (30 %); /reason: 2 repeats, under the floor.
    expect(recs).toHaveLength(1);
    const [rec] = recs;
    expect(rec).toMatchObject({ category: 'cost', priority: 'high', endpoint: '/qa', model: 'flash' });
    expect(rec!.evidence.figures).toMatchObject({
      repeated_prompts: 2,
      repeat_calls: 12,
      answered_calls: 40,
      repeat_share: 0.3,
      most_repeated_calls: 10,
      latency_of_repeats_ms: 400 * 12,
    });
    expect(rec!.evidence.figures.cost_of_repeats_usd).toBeCloseTo(0.002 * 12, 9);
    expect(rec!.evidence.summary).toContain('hash aaaaaaaa…');
    expect(rec!.title).not.toContain('at least');
  });

  it('stays silent when repeats are a small share, and says "at least" when the list was cut at its limit', () => {
    const small = facts({
      repeats: [prompt('a', 4), prompt('b', 4)],
      answered: [calls('/qa', 'flash', 1000)],
    });
    expect(cachingRecommendations(small)).toEqual([]);
    const cut = facts({
      repeats: [prompt('a', 6), prompt('b', 6)],
      repeatsLimit: 2,
      answered: [calls('/qa', 'flash', 50)],
    });
    const [rec] = cachingRecommendations(cut);
    expect(rec!.title).toContain('at least 10 answers');
  });
});

describe('traffic rules: a cheaper model where quality holds', () => {
  const pro = (extra: Partial<EndpointModelCalls> = {}) =>
    calls('qa', 'pro', 100, { costUsd: 100 * 0.01, qualitySum: 100 * 0.82, ...extra });
  const flash = (extra: Partial<EndpointModelCalls> = {}) =>
    calls('qa', 'flash', 60, { costUsd: 60 * 0.002, qualitySum: 60 * 0.81, ...extra });

  it("names the cheaper model with both models' cost, quality and errors, and the saving", () => {
    const [rec, ...rest] = cheaperModelRecommendations(facts({ answered: [pro(), flash()] }));
    expect(rest).toEqual([]);
    expect(rec).toMatchObject({ category: 'cost', priority: 'high', endpoint: 'qa', model: 'flash' });
    expect(rec!.title).toBe('Endpoint qa: flash answered as well as pro for 80% less per call in the last 1h');
    expect(rec!.evidence.figures).toMatchObject({
      current_cost_per_call_usd: 0.01,
      candidate_cost_per_call_usd: 0.002,
      current_quality: 0.82,
      candidate_quality: 0.81,
      saving_share: 0.8,
    });
    expect(rec!.expected_impact).toContain('$0.8 per 1h');
    expect(rec!.confidence).toBeGreaterThan(0.5);
  });

  it('stays silent when quality or errors do not hold, the saving is small, or a sample is too small', () => {
    const silent = (answered: EndpointModelCalls[]) => cheaperModelRecommendations(facts({ answered }));
    expect(silent([pro(), flash({ qualitySum: 60 * 0.7 })])).toEqual([]);
    expect(silent([pro(), flash({ errors: 6 })])).toEqual([]);
    expect(silent([pro(), flash({ costUsd: 60 * 0.009 })])).toEqual([]);
    expect(silent([pro(), flash({ qualityCount: 10, qualitySum: 8.1 })])).toEqual([]);
    expect(silent([pro(), calls('reason', 'flash', 60)])).toEqual([]); // another endpoint: no comparison
    expect(silent([pro()])).toEqual([]);
  });

  it("does not advise a cheaper model whose failures the dearer one's calls were (its fallbacks)", () => {
    // Loopback upstream: the router sent every call to flash (failing), which fell back to pro; the ledger holds them
    // under pro, answered, so flash's own rows read no error. Before, "flash answered as well as pro for 80% less".
    const chain = { chainModels: ['pro'], routerCandidates: ['flash', 'pro'] };
    const carried = facts({ answered: [pro({ fallbacks: 30 }), flash()], ...chain });
    expect(cheaperModelRecommendations(carried)).toEqual([]);
    // pro's fallbacks could not have come from flash (flash is after pro in the chain, no router): compared.
    const after = facts({ answered: [pro({ fallbacks: 30 }), flash()], chainModels: ['pro', 'flash'] });
    expect(cheaperModelRecommendations(after)).toHaveLength(1);
    // A few fallbacks in much traffic (under 5 % of pro's calls): compared.
    expect(cheaperModelRecommendations(facts({ answered: [pro({ fallbacks: 4 }), flash()], ...chain }))).toHaveLength(
      1,
    );
  });

  it("prices a model's call over the calls answered or billed: calls that cost nothing do not make it cheaper", () => {
    // flash at pro's $0.01 per answered call, but half its calls abandoned by the clients before any billing (aborted:
    // not errors): it read $0.005 a call, "as good as pro for 50% less".
    const halfAbandoned = calls('qa', 'flash', 100, {
      answered: 50,
      freeFailures: 50,
      costUsd: 50 * 0.01,
      qualitySum: 50 * 0.81,
      qualityCount: 50,
    });
    expect(cheaperModelRecommendations(facts({ answered: [pro(), halfAbandoned] }))).toEqual([]);
  });
});

describe('traffic rules: a cost per call that jumped under the target', () => {
  it('names the endpoint and model whose cost per call rose several-fold, over the calls answered or billed', () => {
    // Measured on a loopback upstream: answers growing from 8 to 4000 output tokens took gpt-4o-mini on qa from
    // $0.0000078 to $0.0024 a call, under the $0.01 target: nothing was said.
    const long = [calls('qa', 'gpt-4o-mini', 80, { costUsd: 50 * 0.0000078 + 30 * 0.0024 }), calls('qa', 'flash', 40)];
    const short = [calls('qa', 'gpt-4o-mini', 30, { costUsd: 30 * 0.0024 }), calls('qa', 'flash', 10)];
    const [spike, ...rest] = costSpikeRecommendations(facts({ answered: long, spendShort: short }), 0.01);
    expect(rest).toEqual([]);
    expect(spike).toMatchObject({ category: 'cost', priority: 'medium', model: 'gpt-4o-mini', endpoint: 'qa' });
    expect(spike!.title).toBe(
      'Endpoint qa, model gpt-4o-mini: cost per call rose 307.7 × in the last 5m, from $0.0000078 to $0.0024',
    );
    expect(spike!.evidence.figures).toMatchObject({ cost_ratio: 307.69, baseline_cost_per_request_usd: 0.0000078 });
    expect(spike!.confidence).toBeGreaterThan(0);

    // Failures that cost nothing are not cheaper calls: half the calls failing for free is no spike, nor a fall.
    const outage = [calls('qa', 'flash', 20, { costUsd: 10 * 0.002, freeFailures: 10, errors: 10, answered: 10 })];
    const before = [calls('qa', 'flash', 60, { costUsd: 50 * 0.002, freeFailures: 10, errors: 10, answered: 50 })];
    expect(costSpikeRecommendations(facts({ answered: before, spendShort: outage }), 0.01)).toEqual([]);

    // Under 3 x, over the target (the health score's cost rule speaks), or too few calls either side: nothing.
    const twice = [calls('qa', 'flash', 10, { costUsd: 10 * 0.004 })];
    const withTwice = [calls('qa', 'flash', 50, { costUsd: 40 * 0.002 + 10 * 0.004 })];
    expect(costSpikeRecommendations(facts({ answered: withTwice, spendShort: twice }), 0.01)).toEqual([]);
    expect(costSpikeRecommendations(facts({ answered: long, spendShort: short }), 0.002)).toEqual([]);
    const few = [calls('qa', 'gpt-4o-mini', 4, { costUsd: 4 * 0.0024 })];
    const withFew = [calls('qa', 'gpt-4o-mini', 54, { costUsd: 50 * 0.0000078 + 4 * 0.0024 })];
    expect(costSpikeRecommendations(facts({ answered: withFew, spendShort: few }), 0.01)).toEqual([]);
  });
});
