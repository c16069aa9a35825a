import { answered, buildLlmPipeline as build, input, named } from '../../../../test/support/llm-pipeline-harness';
import { ScriptedProvider } from '../../../../test/support/scripted-provider';
import { NO_DRILLS } from '../llm-call.types';
import { LlmCallFailedError } from '../llm.errors';

describe('FallbackChain: retries, backoff, fallback, circuit breakers, the retry drill', () => {
  it('retries a retryable failure with backoff, then answers, and emits each metric once per call', async () => {
    const provider = new ScriptedProvider().script(
      'gemini-2.5-flash',
      { fail: 'server', status: 500 },
      { ok: 'Paris' },
    );
    const { service, metrics } = await build({ LLM_MAX_RETRIES: '2' }, provider);
    const result = await answered(service.complete(input()));
    expect(result.answer).toBe('Paris');
    expect(result.retryCount).toBe(1);
    expect(result.attempts).toBe(2);
    expect(result.fallbackUsed).toBe(false);
    expect(result.usage.estimated).toBe(true);
    expect(named(metrics, 'llm.request.count')).toHaveLength(1);
    expect(named(metrics, 'llm.request.latency_ms')).toHaveLength(1);
    expect(named(metrics, 'llm.retry.count')[0]!.value).toBe(1);
    expect(named(metrics, 'llm.request.count')[0]!.tags).toEqual([
      'endpoint:reason',
      'provider:openai',
      'model:gemini-2.5-flash',
      'status:ok',
      'latency_slo:met',
    ]);
  });

  it('honours Retry-After as the minimum delay before the retry', async () => {
    const provider = new ScriptedProvider().script(
      'gemini-2.5-flash',
      { fail: 'rate_limit', status: 429, retryAfterMs: 40 },
      { ok: 'ok' },
    );
    const { service, metrics } = await build({ LLM_MAX_RETRIES: '1', LLM_RETRY_MAX_MS: '1000' }, provider);
    await answered(service.complete(input()));
    expect(provider.calls[1]!.at - provider.calls[0]!.at).toBeGreaterThanOrEqual(39);
    expect(named(metrics, 'llm.rate_limit.count')[0]!.value).toBe(1);
  });

  it('counts each 429 and timeout under the model that answered it, not the fallback the call ended on', async () => {
    // The rate-limit monitor groups llm.rate_limit.count by {provider,model}: with the 429s of the first model counted
    // under the fallback that answered, it paged for the model that was serving while the refusing one stayed green.
    const provider = new ScriptedProvider()
      .script('gemini-2.5-flash', { fail: 'rate_limit', status: 429 }, { hang: true })
      .script('gemini-2.5-flash-lite', { ok: 'from the fallback' });
    const { service, metrics } = await build(
      { LLM_MAX_RETRIES: '1', LLM_TIMEOUT_MS: '100', LLM_FALLBACK_MODELS: 'gemini-2.5-flash-lite' },
      provider,
    );
    const result = await answered(service.complete(input()));
    expect(result.model).toBe('gemini-2.5-flash-lite');
    const byModel = (name: string) =>
      named(metrics, name).map((m) => [m.tags.find((t) => t.startsWith('model:')), m.tags.at(-1), m.value]);
    // The attempts as the provider saw them (models and monotonic times), beside the counts: a failure says which
    // attempt did not happen (CI once saw no timeout counted, on a loaded runner; not reproduced since).
    const t0 = provider.calls[0]?.at ?? 0;
    expect({
      calls: provider.calls.map((c) => c.model),
      rateLimits: byModel('llm.rate_limit.count'),
      timeouts: byModel('llm.timeout.count'),
      at: provider.calls.map((c) => Math.round(c.at - t0)),
    }).toEqual({
      calls: ['gemini-2.5-flash', 'gemini-2.5-flash', 'gemini-2.5-flash-lite'],
      rateLimits: [['model:gemini-2.5-flash', 'status:ok', 1]],
      timeouts: [['model:gemini-2.5-flash', 'status:ok', 1]],
      at: expect.any(Array),
    });
    // The call itself is the fallback's.
    expect(named(metrics, 'llm.request.count')[0]!.tags).toContain('model:gemini-2.5-flash-lite');
  });

  it('answers 503 with Retry-After when the upstream keeps rate-limiting', async () => {
    const provider = new ScriptedProvider().script('gemini-2.5-flash', {
      fail: 'rate_limit',
      status: 429,
      retryAfterMs: 2000,
    });
    const { service } = await build({ LLM_MAX_RETRIES: '2', LLM_RETRY_MAX_MS: '100' }, provider);
    const error = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    expect(error.status).toBe(503);
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error.headers['retry-after']).toBe('2');
    // The Retry-After exceeds the retry budget: no pointless wait, no retry.
    expect(provider.calls).toHaveLength(1);
  });

  it('falls back to the next model of the chain and says so', async () => {
    const provider = new ScriptedProvider()
      .script('gemini-2.5-flash', { fail: 'server', status: 503 }, { fail: 'server', status: 503 })
      .script('gemini-2.5-flash-lite', {
        ok: 'from the fallback',
        usage: {
          inputTokens: 1000,
          outputTokens: 100,
          totalTokens: 1100,
          cachedTokens: 0,
          reasoningTokens: 0,
          estimated: false,
        },
      });
    const { service, metrics } = await build(
      { LLM_MAX_RETRIES: '1', LLM_FALLBACK_MODELS: 'gemini-2.5-flash-lite' },
      provider,
    );
    const result = await answered(service.complete(input()));
    expect(result.answer).toBe('from the fallback');
    expect(result.model).toBe('gemini-2.5-flash-lite');
    expect(result.modelVersion).toBe('gemini-2.5-flash-lite-001');
    expect(result.fallbackUsed).toBe(true);
    expect(result.modelsTried).toEqual(['gemini-2.5-flash', 'gemini-2.5-flash-lite']);
    expect(result.cost.costUsd).toBeCloseTo((1000 * 0.1 + 100 * 0.4) / 1e6, 12);
    expect(named(metrics, 'llm.fallback.count')).toHaveLength(1);
  });

  it('opens the circuit after consecutive failures, refuses with 503, then closes after a successful half-open probe', async () => {
    const provider = new ScriptedProvider().script(
      'gemini-2.5-flash',
      { fail: 'server', status: 500 },
      { fail: 'server', status: 500 },
      { fail: 'server', status: 500 },
      { ok: 'recovered' },
    );
    const { service, metrics, breakers } = await build(
      { LLM_MAX_RETRIES: '0', LLM_BREAKER_FAILURE_THRESHOLD: '3', LLM_BREAKER_COOLDOWN_MS: '150' },
      provider,
    );
    for (let i = 0; i < 3; i++) await expect(service.complete(input())).rejects.toMatchObject({ status: 502 });
    expect(breakers.states()['gemini-2.5-flash']).toBe('open');
    const refused = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    expect(refused.code).toBe('CIRCUIT_OPEN');
    expect(refused.status).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(provider.calls).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 170));
    expect(breakers.states()['gemini-2.5-flash']).toBe('half_open');
    expect((await answered(service.complete(input()))).answer).toBe('recovered');
    expect(breakers.states()['gemini-2.5-flash']).toBe('closed');
    const gauges = named(metrics, 'llm.circuit.state').map((m) => m.value);
    expect(gauges).toEqual(expect.arrayContaining([0, 2, 1]));
  });

  it('a model the provider does not have (404) opens its circuit: calls go to the fallback without the failed round trip', async () => {
    // Before, 404 left the circuit untouched: a routed candidate absent at the provider got every simple call, each
    // a 404 and then its fallback (measured on a loopback upstream: 15 of 15 calls tried the absent model first).
    const provider = new ScriptedProvider()
      .script('gemini-2.5-flash', ...Array.from({ length: 10 }, () => ({ fail: 'not_found' as const, status: 404 })))
      .script('gemini-2.5-flash-lite', ...Array.from({ length: 10 }, () => ({ ok: 'from the fallback' })));
    const { service, breakers } = await build(
      { LLM_MAX_RETRIES: '2', LLM_BREAKER_FAILURE_THRESHOLD: '3', LLM_FALLBACK_MODELS: 'gemini-2.5-flash-lite' },
      provider,
    );
    for (let i = 0; i < 6; i++) expect((await answered(service.complete(input()))).answer).toBe('from the fallback');
    expect(breakers.states()['gemini-2.5-flash']).toBe('open');
    // Not retried (a 404 does not clear), and once open, not tried at all.
    expect(provider.calls.filter((c) => c.model === 'gemini-2.5-flash')).toHaveLength(3);
  });

  it('empty answers never open the circuit: a prompt of one caller must not refuse every caller', async () => {
    const provider = new ScriptedProvider().script(
      'gemini-2.5-flash',
      ...Array.from({ length: 5 }, () => ({ ok: '' })),
      { ok: 'still closed' },
    );
    const { service, breakers } = await build({ LLM_MAX_RETRIES: '0', LLM_BREAKER_FAILURE_THRESHOLD: '3' }, provider);
    for (let i = 0; i < 5; i++) {
      await expect(service.complete(input())).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', status: 502 });
    }
    expect(breakers.states()['gemini-2.5-flash']).toBe('closed');
    expect((await answered(service.complete(input()))).answer).toBe('still closed');
  });

  it('429s never open the circuit: the model is held for Retry-After, then answers; 503 says provider_rate_limit', async () => {
    const provider = new ScriptedProvider().script(
      'gemini-2.5-flash',
      ...Array.from({ length: 6 }, () => ({ fail: 'rate_limit' as const, status: 429, retryAfterMs: 300 })),
      { ok: 'recovered' },
    );
    const { service, breakers, metrics } = await build(
      { LLM_MAX_RETRIES: '0', LLM_BREAKER_FAILURE_THRESHOLD: '2', LLM_QUEUE_TIMEOUT_MS: '0' },
      provider,
    );
    const first = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    expect(first).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', status: 503 });
    expect(first.headers['retry-after']).toBe('1');
    // Held: the next calls are refused at once without reaching the provider, naming the resource.
    for (let i = 0; i < 5; i++) {
      const held = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
      expect(held.code).toBe('NO_CAPACITY');
      expect(held.extensions).toMatchObject({ resource: 'provider_rate_limit', attempts: 0 });
      expect(held.headers['retry-after']).toBe('1');
    }
    expect(provider.calls).toHaveLength(1);
    expect(breakers.states()['gemini-2.5-flash']).toBe('closed');
    expect(named(metrics, 'llm.shed.count')[0]!.tags).toContain('resource:provider_rate_limit');
    expect(named(metrics, 'llm.rate_limit.hold.count')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 320));
    // The probe: still 429, held again; the circuit stays closed.
    await expect(service.complete(input())).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(breakers.states()['gemini-2.5-flash']).toBe('closed');
    expect(provider.calls).toHaveLength(2);
  });

  it('says on readiness that every model is held by the rate limit (all calls refused), until the hold ends', async () => {
    const provider = new ScriptedProvider()
      .script('gemini-2.5-flash', { fail: 'rate_limit', status: 429, retryAfterMs: 400 })
      .script('gemini-2.5-flash-lite', { fail: 'rate_limit', status: 429, retryAfterMs: 30_000 });
    const { service, readiness } = await build(
      { LLM_MAX_RETRIES: '0', LLM_FALLBACK_MODELS: 'gemini-2.5-flash-lite', LLM_QUEUE_TIMEOUT_MS: '0' },
      provider,
    );
    expect((await readiness.run()).llmProvider).toMatchObject({ status: 'ok' });
    await expect(service.complete(input())).rejects.toMatchObject({ status: 503 });
    // Both models held: every call is refused (503 NO_CAPACITY, provider_rate_limit), as with every circuit open.
    await expect(service.complete(input())).rejects.toMatchObject({ code: 'NO_CAPACITY' });
    const held = (await readiness.run()).llmProvider!;
    expect(held.status).toBe('degraded');
    expect(held.detail).toMatch(
      /no model can take a call: held by the provider's rate limit \(429\): gemini-2\.5-flash \(1 s left\), gemini-2\.5-flash-lite \(30 s left\)$/,
    );
    // The first model's hold ends (it probes its next call): a call can be answered again, the other is still held.
    await new Promise((r) => setTimeout(r, 450));
    const probing = (await readiness.run()).llmProvider!;
    expect(probing.status).toBe('ok');
    expect(probing.detail).toMatch(
      /; held by the provider's rate limit \(429\): gemini-2\.5-flash-lite \(\d+ s left\)$/,
    );
  });

  it('readiness counts the circuits of the chain: an open circuit of another model (a router candidate) is not "every circuit"', async () => {
    // A routed call (or a chat call naming a model) gets a breaker for its model; when that model failed, its open
    // circuit made one of the chain's length, and readiness said "every circuit is open" while the chain answered.
    const { readiness, breakers } = await build({ LLM_BREAKER_FAILURE_THRESHOLD: '1' }, new ScriptedProvider());
    breakers.get('gemini-2.5-pro').onFailure();
    expect(breakers.states()['gemini-2.5-pro']).toBe('open');
    const check = (await readiness.run()).llmProvider!;
    expect(check.status).toBe('ok');
    expect(check.detail).toMatch(/; open circuits: \w+:gemini-2\.5-pro$/);
    breakers.get('gemini-2.5-flash').onFailure();
    const down = (await readiness.run()).llmProvider!;
    expect(down).toMatchObject({ status: 'degraded' });
    expect(down.detail).toMatch(/every circuit of the chain is open/);
  });

  it('a call arriving during a hold waits for it (bounded by LLM_QUEUE_TIMEOUT_MS) and is answered by the probe', async () => {
    const provider = new ScriptedProvider().script(
      'gemini-2.5-flash',
      { fail: 'rate_limit', status: 429, retryAfterMs: 150 },
      { ok: 'after the hold' },
    );
    const { service } = await build({ LLM_MAX_RETRIES: '0', LLM_QUEUE_TIMEOUT_MS: '1000' }, provider);
    await expect(service.complete(input())).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    const started = Date.now();
    const result = await answered(service.complete(input()));
    expect(result.answer).toBe('after the hold');
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(provider.calls[1]!.at - provider.calls[0]!.at).toBeGreaterThanOrEqual(149);
  });

  it('a call arriving during a hold falls back to the next model at once', async () => {
    const provider = new ScriptedProvider()
      .script('gemini-2.5-flash', { fail: 'rate_limit', status: 429, retryAfterMs: 30_000 })
      .script('gemini-2.5-flash-lite', { ok: 'lite 1' }, { ok: 'lite 2' });
    const { service } = await build(
      { LLM_MAX_RETRIES: '0', LLM_FALLBACK_MODELS: 'gemini-2.5-flash-lite', LLM_RETRY_MAX_MS: '100' },
      provider,
    );
    expect((await answered(service.complete(input()))).answer).toBe('lite 1');
    const started = Date.now();
    const second = await answered(service.complete(input()));
    expect(second).toMatchObject({ answer: 'lite 2', modelsTried: ['gemini-2.5-flash-lite'], fallbackUsed: true });
    // Without waiting out the 30 s hold (a bound far from it: this took 151 ms once on a loaded CI machine).
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(provider.calls.map((c) => c.model)).toEqual([
      'gemini-2.5-flash',
      'gemini-2.5-flash-lite',
      'gemini-2.5-flash-lite',
    ]);
  });

  it('applies the retry drill through the real retry path', async () => {
    const provider = new ScriptedProvider();
    const { service } = await build({ LLM_MAX_RETRIES: '1' }, provider);
    const result = await answered(service.complete({ ...input(), drills: { ...NO_DRILLS, retry: true } }));
    expect(result.retryCount).toBe(1);
    expect(result.drillsApplied).toEqual(['retry']);
    expect(provider.calls).toHaveLength(1);
  });
});
