import { answered, buildLlmPipeline as build, input, named, settled } from '../../../test/support/llm-pipeline-harness';
import { ScriptedProvider } from '../../../test/support/scripted-provider';
import { pinWallClock } from '../../../test/support/wall-clock';
import { LlmCallAbandonedError } from './llm.errors';

describe("LlmService: a call's records, sampling, safety blocks, concurrent calls, the budget", () => {
  // Today's spend is the spend of the current UTC day: a test whose calls ran before midnight and whose check (or next
  // call) came after it read $0 (a budget reached was no longer reached). Every test runs at noon of a fixed day.
  beforeEach(() => pinWallClock(Date.UTC(2026, 5, 15, 12)));
  afterEach(() => jest.useRealTimers());

  it('records a call just after its answer, and whatever is pending at shutdown', async () => {
    const provider = new ScriptedProvider().script('gemini-2.5-flash', { ok: 'Paris' }, { ok: 'Lyon' });
    const { service, metrics, bookkeeping } = await build({}, provider);
    const result = await service.complete(input());
    expect(result.quality?.overall).toEqual(expect.any(Number)); // the answer carries its score
    expect(named(metrics, 'llm.request.count')).toHaveLength(0); // not recorded before the answer is out
    await settled();
    expect(named(metrics, 'llm.request.count')).toHaveLength(1);
    await service.complete(input());
    bookkeeping.onModuleDestroy();
    expect(named(metrics, 'llm.request.count')).toHaveLength(2);
  });

  it("makes a call's records while the next call waits for its provider, not in front of it", async () => {
    const provider = new ScriptedProvider().script('gemini-2.5-flash', { ok: 'Paris' }, { ok: 'Lyon', delayMs: 50 });
    const { service, metrics } = await build({}, provider);
    await service.complete(input());
    expect(named(metrics, 'llm.request.count')).toHaveLength(0);
    const second = service.complete(input('And of Italy?'));
    // The second call's request goes out first, then the first call's records run, long before the second
    // answer (50 ms away).
    const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    await nextTurn(); // queued before the second call got to its provider
    expect(provider.calls).toHaveLength(2);
    await nextTurn();
    expect(named(metrics, 'llm.request.count')).toHaveLength(1);
    await second;
    expect(named(metrics, 'llm.request.count')).toHaveLength(1);
    await settled();
    expect(named(metrics, 'llm.request.count')).toHaveLength(2);
  });

  it('records every call in LLM Observability by default, a sample of them under LLMOBS_SAMPLE_RATE', async () => {
    const steps = Array.from({ length: 4 }, () => ({ ok: 'fine' }));
    // LLM Observability is on only with tracing (the unit config turns tracing off).
    const all = await build(
      { LLM_MAX_RETRIES: '1', DD_TRACE_ENABLED: 'true' },
      new ScriptedProvider().script('gemini-2.5-flash', { fail: 'server' }, ...steps),
    );
    for (let i = 0; i < 3; i++) await answered(all.service.complete(input()));
    expect(all.tracer.llmSpans.map((s) => s.llmobs)).toEqual([true, true, true, true]); // a retried call: both attempts
    const none = await build(
      { LLMOBS_SAMPLE_RATE: '0', DD_TRACE_ENABLED: 'true' },
      new ScriptedProvider().script('gemini-2.5-flash', ...steps),
    );
    for (let i = 0; i < 3; i++) await answered(none.service.complete(input()));
    expect(none.tracer.llmSpans.map((s) => s.llmobs)).toEqual([false, false, false]);
    expect(named(none.metrics, 'llm.request.count').reduce((sum, m) => sum + m.value, 0)).toBe(3); // metrics unchanged
  });

  it('tags llm.request.count latency_slo:met or missed against HEALTH_LATENCY_SLO_MS (the latency SLO counts)', async () => {
    const provider = new ScriptedProvider().script(
      'gemini-2.5-flash',
      { ok: 'warm-up' },
      { ok: 'fast' },
      { ok: 'slow', delayMs: 400 },
      { fail: 'auth' },
    );
    const { service, metrics } = await build({ HEALTH_LATENCY_SLO_MS: '250', LLM_MAX_RETRIES: '0' }, provider);
    for (let i = 0; i < 3; i++) await answered(service.complete(input()));
    await service.complete(input()).catch(() => undefined);
    await settled();
    const tags = named(metrics, 'llm.request.count').map((m) => m.tags.filter((t) => /^(status|latency_slo):/.test(t)));
    expect(tags.slice(1)).toEqual([
      ['status:ok', 'latency_slo:met'],
      ['status:ok', 'latency_slo:missed'],
      ['status:error', 'latency_slo:met'], // a fast failure: the availability SLO counts it, not this one
    ]);
  });

  it('returns a safety block as a distinct outcome and counts it', async () => {
    const provider = new ScriptedProvider().script('gemini-2.5-flash', { safety: 'prompt' });
    const { service, metrics } = await build({}, provider);
    const result = await answered(service.complete(input()));
    expect(result.safetyBlock).toEqual({ stage: 'prompt', reason: 'SAFETY' });
    expect(named(metrics, 'llm.safety_block.count')).toHaveLength(1);
    expect(named(metrics, 'llm.request.count')[0]!.tags).toContain('status:safety_block');
  });

  it('never lets one request change another request’s model (concurrent calls, different chains)', async () => {
    const provider = new ScriptedProvider().script('gemini-2.5-flash', { fail: 'server' }, { fail: 'server' });
    provider.script(
      'gemini-2.5-flash-lite',
      { ok: 'lite', delayMs: 20 },
      { ok: 'lite', delayMs: 20 },
      { ok: 'lite', delayMs: 20 },
    );
    provider.fallbackStep = { ok: 'primary', delayMs: 20 };
    const { service } = await build(
      { LLM_MAX_RETRIES: '0', LLM_FALLBACK_MODELS: 'gemini-2.5-flash-lite', LLM_BREAKER_FAILURE_THRESHOLD: '100' },
      provider,
    );
    const results = await Promise.all([
      service.complete(input('a')),
      service.complete(input('b')),
      service.complete(input('c')),
    ]);
    for (const r of results) expect(r.answer).toBe(r.model === 'gemini-2.5-flash' ? 'primary' : 'lite');
    expect(results.map((r) => r.model).sort()).toEqual([
      'gemini-2.5-flash',
      'gemini-2.5-flash-lite',
      'gemini-2.5-flash-lite',
    ]);
    for (const call of provider.calls) expect(['gemini-2.5-flash', 'gemini-2.5-flash-lite']).toContain(call.model);
  });

  it('records every call in the ledger and enforces the daily budget at its boundary (429 with Retry-After)', async () => {
    const usage = {
      inputTokens: 1_000_000,
      outputTokens: 0,
      totalTokens: 1_000_000,
      cachedTokens: 0,
      reasoningTokens: 0,
      estimated: false,
    };
    const provider = new ScriptedProvider().script('gemini-2.5-flash', { ok: 'first', usage }, { ok: 'second', usage });
    // 1M input tokens of gemini-2.5-flash cost exactly $0.30: the budget is reached after the first call.
    const { service, ledger } = await build({ DAILY_BUDGET_USD: '0.3', BUDGET_POLICY: 'enforce' }, provider);
    // The next call comes at once, before the first call's records had their turn: its spend still counts.
    const first = await service.complete(input());
    expect(first.cost.costUsd).toBeCloseTo(0.3, 10);
    const refused = (await service.complete(input()).catch((e: unknown) => e)) as {
      code: string;
      status: number;
      headers: Record<string, string>;
    };
    expect(refused.code).toBe('BUDGET_EXCEEDED');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(provider.calls).toHaveLength(1);
    expect(ledger.spendToday(Date.now())).toBeCloseTo(0.3, 10);
  });

  it('a refusal whose worst case never fits names what sets the output limit: max_tokens only where the caller has it', async () => {
    // LLM_MAX_OUTPUT_TOKENS (2048) of gemini-2.5-flash cost $0.00512: more than a $0.001 budget, whatever is in flight.
    const { service } = await build({ DAILY_BUDGET_USD: '0.001', BUDGET_POLICY: 'enforce' }, new ScriptedProvider());
    const detail = async (call: Promise<unknown>): Promise<string> =>
      ((await call.catch((e: unknown) => e)) as { detail: string }).detail;
    // /qa, /reason and /stress take no max_tokens: the setting is what may be lowered.
    expect(await detail(service.complete(input()))).toContain(
      'a lower LLM_MAX_OUTPUT_TOKENS (a setting of the service) may fit',
    );
    const chat = {
      ...input(),
      endpoint: 'chat' as const,
      chat: { model: 'gemini-2.5-flash', messages: [{ role: 'user' as const, content: 'Hi' }] },
    };
    expect(await detail(service.complete(chat))).toContain('a lower max_tokens may fit');
  });

  it('counts a failed call’s billed empty answers in today’s spend: the enforced budget refuses the next call', async () => {
    // Each empty answer billed 1M input tokens of gemini-2.5-flash: $0.30, the whole budget.
    const usage = {
      inputTokens: 1_000_000,
      outputTokens: 0,
      totalTokens: 1_000_000,
      cachedTokens: 0,
      reasoningTokens: 0,
      estimated: false,
    };
    const provider = new ScriptedProvider();
    provider.fallbackStep = { ok: '', usage };
    const { service, ledger } = await build(
      { DAILY_BUDGET_USD: '0.3', BUDGET_POLICY: 'enforce', LLM_MAX_RETRIES: '0' },
      provider,
    );
    const failed = (await service.complete(input()).catch((e: unknown) => e)) as { code: string };
    expect(failed.code).toBe('UPSTREAM_ERROR');
    expect(ledger.spendToday()).toBeCloseTo(0.3, 10);
    const refused = (await service.complete(input()).catch((e: unknown) => e)) as { code: string };
    expect(refused.code).toBe('BUDGET_EXCEEDED');
    expect(provider.calls).toHaveLength(1);
  });

  it('retries billed empty answers only while the enforced budget has room: concurrent calls cannot overrun it', async () => {
    // Each empty answer billed its whole output limit (2048 reasoning tokens of gemini-2.5-flash, $0.00512): the
    // call's worst case, once per attempt. Before, each call was held to its reservation only once: two calls admitted
    // beside each other under a $0.012 budget made 3 attempts each (LLM_MAX_RETRIES=2) and spent $0.0307.
    const usage = {
      inputTokens: 8,
      outputTokens: 0,
      totalTokens: 2056,
      cachedTokens: 0,
      reasoningTokens: 2048,
      estimated: false,
    };
    const provider = new ScriptedProvider();
    provider.fallbackStep = { ok: '', finish: 'length', usage };
    const { service, ledger } = await build({ DAILY_BUDGET_USD: '0.012', BUDGET_POLICY: 'enforce' }, provider);
    const failures = (await Promise.all([
      service.complete(input('Think it through, A')).catch((e: unknown) => e),
      service.complete(input('Think it through, B')).catch((e: unknown) => e),
    ])) as { code: string; detail: string }[];
    await settled();
    for (const failure of failures) {
      expect(failure.code).toBe('UPSTREAM_ERROR');
      expect(failure.detail).toContain('DAILY_BUDGET_USD');
    }
    // One attempt each: a second would not fit beside what the other call holds.
    expect(provider.calls).toHaveLength(2);
    expect(ledger.spendToday()).toBeLessThanOrEqual(0.012);

    // Alone, a call retries while the budget holds what it was billed plus another attempt's worst case.
    const alone = await build({ DAILY_BUDGET_USD: '0.012', BUDGET_POLICY: 'enforce' }, provider);
    const before = provider.calls.length;
    await alone.service.complete(input('Think it through, C')).catch((e: unknown) => e);
    await settled();
    expect(provider.calls.length - before).toBe(2);
    expect(alone.ledger.spendToday()).toBeLessThanOrEqual(0.012);

    // A fallback the budget has no room for is not tried, and not named among the models tried.
    const fallback = await build(
      {
        DAILY_BUDGET_USD: '0.008',
        BUDGET_POLICY: 'enforce',
        LLM_MAX_RETRIES: '0',
        LLM_FALLBACK_MODELS: 'gemini-2.5-flash-lite',
      },
      provider,
    );
    const stopped = (await fallback.service.complete(input('Think it through, D')).catch((e: unknown) => e)) as {
      detail: string;
      context: { modelsTried: string[]; model: string };
    };
    expect(stopped.detail).toMatch(/^openai failed after 1 attempt\(s\) on gemini-2\.5-flash: .*DAILY_BUDGET_USD/);
    expect(stopped.context).toMatchObject({ model: 'gemini-2.5-flash', modelsTried: ['gemini-2.5-flash'] });
  });

  it('under the alert policy, records but never refuses', async () => {
    const usage = {
      inputTokens: 1_000_000,
      outputTokens: 0,
      totalTokens: 1_000_000,
      cachedTokens: 0,
      reasoningTokens: 0,
      estimated: false,
    };
    const provider = new ScriptedProvider().script('gemini-2.5-flash', { ok: 'a', usage }, { ok: 'b', usage });
    const { service, ledger } = await build({ DAILY_BUDGET_USD: '0.3', BUDGET_POLICY: 'alert' }, provider);
    await answered(service.complete(input()));
    await answered(service.complete(input()));
    expect(ledger.spendToday(Date.now())).toBeCloseTo(0.6, 10);
  });

  it('records a call its client abandons while the provider works: 499, client_abort, priced and spent', async () => {
    const { service, metrics, ledger } = await build(
      {},
      new ScriptedProvider().script('gemini-2.5-flash', { hang: true }),
    );
    const client = new AbortController();
    const call = service.complete({ ...input(), signal: client.signal });
    setTimeout(() => client.abort(new DOMException('client closed the connection', 'AbortError')), 10);
    const error = (await call.catch((e: unknown) => e)) as LlmCallAbandonedError;
    expect(error).toBeInstanceOf(LlmCallAbandonedError);
    expect(error.status).toBe(499);
    expect(error.context).toMatchObject({ inFlight: true, model: 'gemini-2.5-flash', attempts: 1 });
    expect(named(metrics, 'llm.request.count')[0]!.tags).toEqual(
      expect.arrayContaining(['status:aborted', 'error_type:client_abort']),
    );
    expect(named(metrics, 'llm.error.count')).toEqual([]);
    expect(named(metrics, 'llm.tokens.input')[0]!.value).toBeGreaterThan(0);
    expect(ledger.spendToday()).toBeGreaterThan(0); // the prompt is billed: it counts against the budget
  });

  it('adds the billed usage of an empty answer before it to an abandoned call’s spend', async () => {
    const billed = {
      inputTokens: 1000,
      outputTokens: 0,
      totalTokens: 5000,
      cachedTokens: 0,
      reasoningTokens: 4000,
      estimated: false,
    };
    const provider = new ScriptedProvider().script('gemini-2.5-flash', { ok: '', usage: billed }, { hang: true });
    const { service, ledger } = await build({}, provider);
    const client = new AbortController();
    const call = service.complete({ ...input(), signal: client.signal });
    while (provider.calls.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    client.abort(new DOMException('client closed the connection', 'AbortError'));
    expect(await call.catch((e: unknown) => e)).toBeInstanceOf(LlmCallAbandonedError);
    await settled();
    // 1000 input tokens at $0.30/M and 4000 thinking tokens at $2.50/M: the empty answer alone, before the estimate.
    const emptyAnswer = (1000 * 0.3 + 4000 * 2.5) / 1e6;
    expect(ledger.spendToday()).toBeGreaterThan(emptyAnswer);
  });

  it('records a stream its consumer stops reading: the text streamed so far, and cancels the provider', async () => {
    const provider = new ScriptedProvider().script('gemini-2.5-flash', {
      ok: 'one two three four five six seven eight',
      chunkDelayMs: 5,
    });
    const { service, metrics, ledger, tracer } = await build({}, provider);
    const stream = await service.stream(input());
    let deltas = 0;
    for await (const item of stream) {
      if (item.type === 'delta') deltas += 1;
      if (deltas === 3) break; // the client closed the stream
    }
    await settled();
    expect(named(metrics, 'llm.request.count').map((m) => m.tags)).toEqual([
      expect.arrayContaining(['status:aborted', 'error_type:client_abort']),
    ]);
    expect(named(metrics, 'llm.tokens.output')[0]!.value).toBeGreaterThan(0);
    expect(ledger.spendToday()).toBeGreaterThan(0);
    expect(tracer.spanErrors).toEqual([]); // cancelled for the client, not failed
  });
});
