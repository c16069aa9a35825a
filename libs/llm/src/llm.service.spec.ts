import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { LoggerModule } from 'nestjs-pino';
import { BasicTextRedactor, TextRedactor } from '@app/common';
import { ConfigModule } from '@app/config';
import { LedgerModule, UsageLedger } from '@app/ledger';
import { MlModule } from '@app/ml';
import {
  InMemoryMetrics,
  LogSanitizer,
  MetricsPort,
  NoopTracer,
  type LlmSpanHandle,
  type LlmSpanOptions,
  ReadinessRegistry,
  TracerPort,
} from '@app/telemetry';
import { ScriptedProvider } from '../../../test/support/scripted-provider';
import { testConfig } from '../../../test/support/app-config';
import { NO_DRILLS, type LlmCallInput } from './llm-call.types';
import { CallAssessor } from './assessment/call-assessor';
import { UsageRecorder } from './assessment/usage-recorder';
import { LlmCallFailedError } from './llm.errors';
import { LlmService } from './llm.service';
import { LlmProvider } from './ports/llm-provider.port';
import { PriceTable, shippedPriceTable } from './pricing/price-table';
import { LlmCallInstrumentation } from './instrumentation/llm-call.instrumentation';
import { TokenEstimator } from './tokens/token-estimator';

const input = (prompt = 'What is the capital of France?'): LlmCallInput => ({
  endpoint: 'reason',
  userText: prompt,
  prompt,
  drills: NO_DRILLS,
});

/** The call's records are made at the latest 2 ms after its answer (BOOKKEEPING_MAX_DELAY_MS). */
const settled = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

async function answered<T>(call: Promise<T>): Promise<T> {
  const result = await call;
  await settled();
  return result;
}

/** A tracer that remembers the LLM spans asked for (whether each goes to LLM Observability). */
class RecordingTracer extends NoopTracer {
  readonly llmSpans: LlmSpanOptions[] = [];
  /** The messages of the errors that ended an LLM span (what the dd-trace adapter puts on it). */
  readonly spanErrors: string[] = [];

  override async llmSpan<T>(options: LlmSpanOptions, fn: (span: LlmSpanHandle) => Promise<T>): Promise<T> {
    this.llmSpans.push(options);
    try {
      return await super.llmSpan(options, fn);
    } catch (error) {
      this.spanErrors.push(error instanceof Error ? error.message : String(error));
      throw error;
    }
  }
}

async function build(env: Record<string, string>, provider: ScriptedProvider) {
  const config = testConfig({
    LLM_PROVIDER: 'simulated',
    LLM_MODEL: 'gemini-2.5-flash',
    LLM_RETRY_BASE_MS: '5',
    LLM_RETRY_MAX_MS: '50',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'lrcp-llm-spec-')),
    ...env,
  });
  const metrics = new InMemoryMetrics();
  const tracer = new RecordingTracer();
  @Global()
  @Module({
    providers: [
      { provide: MetricsPort, useValue: metrics },
      { provide: TracerPort, useValue: tracer },
      { provide: TextRedactor, useClass: BasicTextRedactor },
      LogSanitizer,
      ReadinessRegistry,
    ],
    exports: [MetricsPort, TracerPort, TextRedactor, LogSanitizer, ReadinessRegistry],
  })
  class TestTelemetryModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forConfig(config),
      TestTelemetryModule,
      LoggerModule.forRoot({ pinoHttp: { level: 'silent' } }),
      MlModule,
      LedgerModule,
    ],
    providers: [
      { provide: LlmProvider, useValue: provider },
      { provide: PriceTable, useValue: new PriceTable(shippedPriceTable()) },
      TokenEstimator,
      LlmCallInstrumentation,
      CallAssessor,
      UsageRecorder,
      LlmService,
    ],
  }).compile();
  await moduleRef.init();
  return { service: moduleRef.get(LlmService), metrics, tracer, ledger: moduleRef.get(UsageLedger) };
}

const named = (metrics: InMemoryMetrics, name: string) => metrics.named(name);

describe('LlmService', () => {
  it('records a call just after its answer, and whatever is pending at shutdown', async () => {
    const provider = new ScriptedProvider().script('gemini-2.5-flash', { ok: 'Paris' }, { ok: 'Lyon' });
    const { service, metrics } = await build({}, provider);
    const result = await service.complete(input());
    expect(result.quality?.overall).toEqual(expect.any(Number)); // the answer carries its score
    expect(named(metrics, 'llm.request.count')).toHaveLength(0); // not recorded before the answer is out
    await settled();
    expect(named(metrics, 'llm.request.count')).toHaveLength(1);
    await service.complete(input());
    service.onModuleDestroy();
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
    const all = await build(
      { LLM_MAX_RETRIES: '1' },
      new ScriptedProvider().script('gemini-2.5-flash', { fail: 'server' }, ...steps),
    );
    for (let i = 0; i < 3; i++) await answered(all.service.complete(input()));
    expect(all.tracer.llmSpans.map((s) => s.llmobs)).toEqual([true, true, true, true]); // a retried call: both attempts
    const none = await build({ LLMOBS_SAMPLE_RATE: '0' }, new ScriptedProvider().script('gemini-2.5-flash', ...steps));
    for (let i = 0; i < 3; i++) await answered(none.service.complete(input()));
    expect(none.tracer.llmSpans.map((s) => s.llmobs)).toEqual([false, false, false]);
    expect(named(none.metrics, 'llm.request.count').reduce((sum, m) => sum + m.value, 0)).toBe(3); // metrics unchanged
  });

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
    ]);
  });

  it('does not retry a non-retryable failure and answers 502 with context', async () => {
    const provider = new ScriptedProvider().script('gemini-2.5-flash', { fail: 'bad_request', status: 400 });
    const { service, metrics } = await build({ LLM_MAX_RETRIES: '3' }, provider);
    const error = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    expect(error).toBeInstanceOf(LlmCallFailedError);
    expect(error.status).toBe(502);
    expect(error.code).toBe('UPSTREAM_ERROR');
    expect(error.context).toMatchObject({
      attempts: 1,
      lastUpstreamStatus: 400,
      lastErrorKind: 'bad_request',
      model: 'gemini-2.5-flash',
    });
    expect(provider.calls).toHaveLength(1);
    expect(named(metrics, 'llm.error.count')[0]!.tags).toContain('error_type:bad_request');
  });

  it('redacts what an upstream error echoes (a key, an e-mail) before the client, the span or the log sees it', async () => {
    const key = 'sk-proj-AbCdEf0123456789xyzXYZ';
    const provider = new ScriptedProvider().script('gemini-2.5-flash', {
      fail: 'auth',
      status: 401,
      message: `openai gemini-2.5-flash: upstream answered HTTP 401: Incorrect API key provided: ${key}. Ask ops@example.com`,
    });
    const { service, tracer } = await build({}, provider);
    const error = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    expect(error.code).toBe('UPSTREAM_ERROR');
    expect(error.detail).toContain('upstream answered HTTP 401: Incorrect API key provided: [REDACTED');
    expect(tracer.spanErrors).toHaveLength(1);
    for (const text of [error.detail, error.message, ...tracer.spanErrors]) {
      expect(text).not.toContain('AbCdEf0123456789');
      expect(text).not.toContain('ops@example.com');
    }
  });

  it("answers 503 with the provider's Retry-After when it answered 503 with one, 502 without", async () => {
    const provider = new ScriptedProvider().script(
      'gemini-2.5-flash',
      { fail: 'server', status: 503, retryAfterMs: 30_000 },
      { fail: 'server', status: 503 },
    );
    const { service } = await build({ LLM_MAX_RETRIES: '0' }, provider);
    const unavailable = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    expect(unavailable.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(unavailable.status).toBe(503);
    expect(unavailable.context).toMatchObject({ retryAfterSeconds: 30, lastUpstreamStatus: 503 });
    const failed = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    expect(failed.code).toBe('UPSTREAM_ERROR');
    expect(failed.context.retryAfterSeconds).toBeNull();
  });

  it('never answers 200 with an empty answer: an empty one is a failed attempt, retried, then 502', async () => {
    const provider = new ScriptedProvider().script('gemini-2.5-flash', { ok: '' }, { ok: 'Paris' });
    const { service, metrics } = await build({ LLM_MAX_RETRIES: '2' }, provider);
    const recovered = await answered(service.complete(input()));
    expect(recovered).toMatchObject({ answer: 'Paris', retryCount: 1, attempts: 2 });
    expect(named(metrics, 'llm.retry.count')[0]!.value).toBe(1);

    provider.script('gemini-2.5-flash', { ok: ' ' }, { ok: '' }, { ok: '\n' });
    const error = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    expect(error.code).toBe('UPSTREAM_ERROR');
    expect(error.status).toBe(502);
    expect(error.context).toMatchObject({ attempts: 3, lastErrorKind: 'empty_response', lastUpstreamStatus: 200 });
    expect(error.detail).toContain('empty answer');
    await settled();
    expect(named(metrics, 'llm.error.count')[0]!.tags).toContain('error_type:empty_response');
  });

  it('retries a stream that ends without any text before its first token, so the client sees no empty answer', async () => {
    const provider = new ScriptedProvider().script('gemini-2.5-flash', { ok: '' }, { ok: 'Lyon' });
    const { service } = await build({ LLM_MAX_RETRIES: '1' }, provider);
    const items = [];
    for await (const item of await service.stream(input())) items.push(item);
    expect(items.at(-1)).toMatchObject({ type: 'done', result: { answer: 'Lyon', retryCount: 1 } });
    expect(provider.calls).toHaveLength(2);
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

  it('answers 504 when every attempt times out, within the per-attempt timeouts', async () => {
    const provider = new ScriptedProvider().script('gemini-2.5-flash', { hang: true }, { hang: true });
    const { service, metrics } = await build({ LLM_MAX_RETRIES: '1', LLM_TIMEOUT_MS: '100' }, provider);
    const started = Date.now();
    const error = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    expect(error.status).toBe(504);
    expect(error.code).toBe('UPSTREAM_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(named(metrics, 'llm.timeout.count')[0]!.value).toBe(2);
  });

  it('bounds the whole call by LLM_DEADLINE_MS: the attempt is cut to what is left, then no retry or fallback', async () => {
    const provider = new ScriptedProvider()
      .script('gemini-2.5-flash', { hang: true }, { hang: true })
      .script('gemini-2.5-flash-lite', { ok: 'too late' });
    const { service, metrics } = await build(
      {
        LLM_FALLBACK_MODELS: 'gemini-2.5-flash-lite',
        LLM_MAX_RETRIES: '3',
        LLM_TIMEOUT_MS: '5000',
        LLM_DEADLINE_MS: '300',
      },
      provider,
    );
    const started = Date.now();
    const error = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    const elapsed = Date.now() - started;
    expect(error.code).toBe('UPSTREAM_TIMEOUT');
    expect(error.status).toBe(504);
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(2000); // far below one 5 s attempt timeout
    expect(error.context).toMatchObject({ attempts: 1, modelsTried: ['gemini-2.5-flash'], lastErrorKind: 'timeout' });
    expect(error.detail).toContain("the call's deadline of 300 ms was reached");
    expect(provider.calls.map((c) => c.model)).toEqual(['gemini-2.5-flash']);
    await settled();
    expect(named(metrics, 'llm.timeout.count')[0]!.value).toBe(1);
  });

  it('holds a stream to the deadline only until its first token; then the idle timeout applies', async () => {
    // Pauses of 250 ms between events: longer than the 200 ms deadline, shorter than the 1 s idle timeout.
    const provider = new ScriptedProvider().script('gemini-2.5-flash', { ok: 'one two three', chunkDelayMs: 250 });
    const { service } = await build({ LLM_TIMEOUT_MS: '1000', LLM_DEADLINE_MS: '200' }, provider);
    const started = Date.now();
    const items = [];
    for await (const item of await service.stream(input())) items.push(item);
    expect(Date.now() - started).toBeGreaterThan(500); // well past the deadline, and still whole
    expect(items.at(-1)).toMatchObject({ type: 'done', result: { answer: 'one two three' } });
  });

  it('does not wait out a backoff that would end past the deadline', async () => {
    const provider = new ScriptedProvider().script(
      'gemini-2.5-flash',
      { fail: 'server', status: 500 },
      { fail: 'server', status: 500 },
      { ok: 'fine' },
    );
    const { service } = await build(
      { LLM_MAX_RETRIES: '2', LLM_RETRY_BASE_MS: '1000', LLM_RETRY_MAX_MS: '2000', LLM_DEADLINE_MS: '250' },
      provider,
    );
    const started = Date.now();
    const error = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    // One attempt, and its 500-1000 ms backoff not slept: without the deadline, two retries would have run.
    expect(provider.calls).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error.code).toBe('UPSTREAM_ERROR');
    expect(error.context).toMatchObject({ attempts: 1, lastUpstreamStatus: 500 });
    expect(error.detail).toContain("no more attempts: the call's deadline of 250 ms was reached");
  });

  it('opens the circuit after consecutive failures, refuses with 503, then closes after a successful half-open probe', async () => {
    const provider = new ScriptedProvider().script(
      'gemini-2.5-flash',
      { fail: 'server', status: 500 },
      { fail: 'server', status: 500 },
      { fail: 'server', status: 500 },
      { ok: 'recovered' },
    );
    const { service, metrics } = await build(
      { LLM_MAX_RETRIES: '0', LLM_BREAKER_FAILURE_THRESHOLD: '3', LLM_BREAKER_COOLDOWN_MS: '150' },
      provider,
    );
    for (let i = 0; i < 3; i++) await expect(service.complete(input())).rejects.toMatchObject({ status: 502 });
    expect(service.circuitStates()['gemini-2.5-flash']).toBe('open');
    const refused = (await service.complete(input()).catch((e: unknown) => e)) as LlmCallFailedError;
    expect(refused.code).toBe('CIRCUIT_OPEN');
    expect(refused.status).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(provider.calls).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 170));
    expect(service.circuitStates()['gemini-2.5-flash']).toBe('half_open');
    expect((await answered(service.complete(input()))).answer).toBe('recovered');
    expect(service.circuitStates()['gemini-2.5-flash']).toBe('closed');
    const gauges = named(metrics, 'llm.circuit.state').map((m) => m.value);
    expect(gauges).toEqual(expect.arrayContaining([0, 2, 1]));
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

  it('applies the retry drill through the real retry path', async () => {
    const provider = new ScriptedProvider();
    const { service } = await build({ LLM_MAX_RETRIES: '1' }, provider);
    const result = await answered(service.complete({ ...input(), drills: { ...NO_DRILLS, retry: true } }));
    expect(result.retryCount).toBe(1);
    expect(result.drillsApplied).toEqual(['retry']);
    expect(provider.calls).toHaveLength(1);
  });

  it('streams deltas then the result with a time to first token', async () => {
    const provider = new ScriptedProvider().script('gemini-2.5-flash', { fail: 'server' }, { ok: 'one two three' });
    const { service, metrics } = await build({ LLM_MAX_RETRIES: '1' }, provider);
    const items = [];
    for await (const item of await service.stream(input())) items.push(item);
    await settled();
    expect(
      items
        .filter((i) => i.type === 'delta')
        .map((i) => (i.type === 'delta' ? i.text : ''))
        .join(''),
    ).toBe('one two three ');
    const done = items[items.length - 1]!;
    expect(done.type).toBe('done');
    if (done.type === 'done') {
      expect(done.result.ttftMs).toBeGreaterThan(0);
      expect(done.result.retryCount).toBe(1);
    }
    expect(named(metrics, 'llm.time_to_first_token_ms')).toHaveLength(1);
  });

  it('ends a stream that goes silent after its first token with a timeout, not a hang', async () => {
    const provider = new ScriptedProvider().script('gemini-2.5-flash', { stall: 'first words ' });
    const { service, metrics } = await build({ LLM_TIMEOUT_MS: '150' }, provider);
    const started = Date.now();
    const seen: string[] = [];
    const error = await (async () => {
      for await (const item of await service.stream(input())) if (item.type === 'delta') seen.push(item.text);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['first words ']);
    expect(error).toBeInstanceOf(LlmCallFailedError);
    expect((error as LlmCallFailedError).code).toBe('UPSTREAM_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(1500);
    expect(named(metrics, 'llm.error.count')[0]!.tags).toContain('error_type:timeout');
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
});
