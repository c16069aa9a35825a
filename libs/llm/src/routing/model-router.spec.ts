import { decodeRouteDecision } from '@app/ml';
import { answered, buildLlmPipeline as build, named, settled } from '../../../../test/support/llm-pipeline-harness';
import { ScriptedProvider } from '../../../../test/support/scripted-provider';
import { type LlmCallInput, NO_DRILLS } from '../llm-call.types';

const LITE = 'gemini-2.5-flash-lite';
const FLASH = 'gemini-2.5-flash';
const PRO = 'gemini-2.5-pro';
const ROUTED = { ROUTER_MODE: 'rules', ROUTER_CANDIDATES: `${LITE},${FLASH},${PRO}`, LLM_MAX_RETRIES: '0' };

const EASY = 'What is the capital of France?';
const HARD = 'Write a function that solves 3x + 5 = 20 step by step and explain why it works';
// /qa: the rules count the /reason endpoint itself as one sign of complexity.
const call = (prompt: string, routing?: LlmCallInput['routing']): LlmCallInput => ({
  endpoint: 'qa',
  userText: prompt,
  prompt,
  drills: NO_DRILLS,
  ...(routing ? { routing } : {}),
});

describe('ModelRouter in the LLM pipeline', () => {
  it('sends each call to its routed model and says so: metadata, metric, request span tags, ledger row', async () => {
    const provider = new ScriptedProvider();
    const { service, metrics, tracer, ledger, ledgerStore, bookkeeping } = await build(ROUTED, provider);
    const easy = await answered(service.complete(call(EASY)));
    expect(provider.calls.map((c) => c.model)).toEqual([LITE]);
    expect(easy.model).toBe(LITE);
    expect(easy.requestedModel).toBe(LITE);
    expect(easy.fallbackUsed).toBe(false);
    expect(easy.routing).toMatchObject({
      mode: 'rules',
      selectedModel: LITE,
      candidatesConsidered: [LITE, FLASH, PRO],
      reason: 'rules',
      explored: false,
      predictedQuality: null,
      constraints: { minQuality: 0.5 },
    });
    expect(named(metrics, 'llm.router.decision.count').map((m) => m.tags)).toEqual([
      expect.arrayContaining(['endpoint:qa', `model:${LITE}`, 'reason:rules']),
    ]);
    expect(tracer.requestTags).toEqual([
      expect.objectContaining({ 'llm.router.selected_model': LITE, 'llm.router.reason': 'rules' }),
    ]);
    const hard = await answered(service.complete(call(HARD)));
    expect(hard.model).toBe(PRO);
    bookkeeping.onModuleDestroy();
    await settled();
    await ledger.flush();
    const rows = await ledgerStore.records(0, Date.now() + 1000, 10);
    const decoded = rows.map((r) => decodeRouteDecision(r.routerDecision));
    expect(decoded.map((d) => d?.reason)).toEqual(['rules', 'rules']);
    expect(decoded.map((d) => d?.features.code)).toEqual([false, true]);
    expect(rows.map((r) => r.model)).toEqual([LITE, PRO]);
  });

  it('routes concurrent calls to different models without one changing the other', async () => {
    // The easy call's model answers last: a shared "current model" would mix them up.
    const provider = new ScriptedProvider()
      .script(LITE, { ok: 'Paris', delayMs: 40 }, { ok: 'Paris', delayMs: 40 })
      .script(PRO, { ok: 'x = 5', delayMs: 5 }, { ok: 'x = 5', delayMs: 5 });
    const { service } = await build(ROUTED, provider);
    const results = await Promise.all([
      service.complete(call(EASY)),
      service.complete(call(HARD)),
      service.complete(call(EASY)),
      service.complete(call(HARD)),
    ]);
    expect(results.map((r) => [r.model, r.routing?.selectedModel, r.answer])).toEqual([
      [LITE, LITE, 'Paris'],
      [PRO, PRO, 'x = 5'],
      [LITE, LITE, 'Paris'],
      [PRO, PRO, 'x = 5'],
    ]);
    for (const c of provider.calls) expect(c.model).toBe(c.prompt === EASY ? LITE : PRO);
  });

  it('an open circuit removes its model from the candidates; a failed routed call falls back to the configured chain', async () => {
    const provider = new ScriptedProvider().script(LITE, { fail: 'server' });
    const { service, breakers } = await build(
      {
        ...ROUTED,
        LLM_BREAKER_FAILURE_THRESHOLD: '1',
        LLM_BREAKER_MIN_REQUESTS: '1',
        LLM_BREAKER_FAILURE_RATIO: '0.01',
      },
      provider,
    );
    const first = await answered(service.complete(call(EASY)));
    expect(first.modelsTried).toEqual([LITE, FLASH]); // routed to lite, then LLM_MODEL
    expect(first.model).toBe(FLASH);
    expect(first.fallbackUsed).toBe(true);
    expect(breakers.get(LITE).current()).toBe('open');
    const second = await answered(service.complete(call(EASY)));
    expect(second.routing?.candidatesConsidered).toEqual([FLASH, PRO]);
    expect(second.routing?.selectedModel).toBe(FLASH);
    expect(provider.calls.map((c) => c.model)).toEqual([LITE, FLASH, FLASH]);
  });

  it("holds a call to its endpoint's defaults, tightened (never loosened) by the request's own constraints", async () => {
    const { router } = await build(
      { ...ROUTED, ROUTER_CONSTRAINTS: '*:min_quality=0.7;reason:min_quality=0.8,max_latency_ms=5000' },
      new ScriptedProvider(),
    );
    const reason = (routing?: LlmCallInput['routing']): LlmCallInput => ({
      ...call(EASY, routing),
      endpoint: 'reason',
    });
    expect(router.constraintsOf(reason())).toEqual({ minQuality: 0.8, maxLatencyMs: 5000 });
    expect(router.constraintsOf(reason({ minQuality: 0.5, maxLatencyMs: 9000 }))).toEqual({
      minQuality: 0.8,
      maxLatencyMs: 5000,
    });
    expect(router.constraintsOf(reason({ minQuality: 0.95, maxLatencyMs: 100, maxCostUsd: 0.01 }))).toEqual({
      minQuality: 0.95,
      maxLatencyMs: 100,
      maxCostUsd: 0.01,
    });
    expect(router.constraintsOf(call(EASY))).toEqual({ minQuality: 0.7 });
  });

  it('does not route with the router off, with fewer than two candidates, or a chat call naming its model', async () => {
    for (const env of [
      { ...ROUTED, ROUTER_MODE: 'off' },
      { ROUTER_MODE: 'rules', ROUTER_CANDIDATES: '' },
      { ROUTER_MODE: 'learned', ROUTER_CANDIDATES: PRO },
    ]) {
      const provider = new ScriptedProvider();
      const { service, metrics, router } = await build(env, provider);
      const result = await answered(service.complete(call(HARD)));
      expect(result.routing).toBeUndefined();
      expect(result.model).toBe(FLASH);
      expect(named(metrics, 'llm.router.decision.count')).toHaveLength(0);
      expect(router.status().active).toBe(false);
    }
    const provider = new ScriptedProvider();
    const { service } = await build(ROUTED, provider);
    const chat = await answered(
      service.complete({
        ...call(HARD),
        endpoint: 'chat',
        chat: { model: FLASH, messages: [{ role: 'user', content: HARD }] },
      }),
    );
    expect(chat.routing).toBeUndefined();
    expect(provider.calls.map((c) => c.model)).toEqual([FLASH]);
    // `model: "auto"` (the mapper marks it routed): the router chooses.
    const auto = await answered(
      service.complete({
        ...call(HARD),
        endpoint: 'chat',
        chat: { model: LITE, routed: true, messages: [{ role: 'user', content: HARD }] },
      }),
    );
    expect(auto.routing).toMatchObject({ selectedModel: PRO, reason: 'rules' });
    expect(provider.calls.map((c) => c.model)).toEqual([FLASH, PRO]);
  });

  it('counts the last hour of decisions by model and reason (GET /llm/router)', async () => {
    const { service, router } = await build(ROUTED, new ScriptedProvider());
    for (const prompt of [EASY, EASY, HARD]) await answered(service.complete(call(prompt)));
    const status = router.status();
    expect(status).toMatchObject({ mode: 'rules', active: true, candidates: [LITE, FLASH, PRO], exploration: 0.03 });
    expect(status.decisions).toEqual({
      windowS: 3600,
      total: 3,
      byModel: [
        { model: LITE, count: 2, byReason: { rules: 2 } },
        { model: PRO, count: 1, byReason: { rules: 1 } },
      ],
    });
  });
});
