import {
  answered,
  buildLlmPipeline as build,
  input,
  type RecordedSpan,
} from '../../../../test/support/llm-pipeline-harness';
import { ScriptedProvider, type Step } from '../../../../test/support/scripted-provider';
import { testConfig } from '../../../../test/support/app-config';
import type { LlmCallResult } from '../llm-call.types';
import { LlmCallAbandonedError } from '../llm.errors';
import { keepReason } from './call-spans';

const MODEL = 'gemini-2.5-flash';

/**
 * A pipeline recording its LLM Observability spans (tracing on: the unit config turns it off). Its latency SLO is
 * 10 minutes unless a test sets one: on a loaded CI runner a call (the first in a worker: the quality model loads)
 * once took over the default 2 s and was kept as slow where a test expected an ordinary call to be dropped.
 */
async function recording(env: Record<string, string>, ...steps: Step[]) {
  const pipeline = await build(
    { DD_TRACE_ENABLED: 'true', LLM_MAX_RETRIES: '1', HEALTH_LATENCY_SLO_MS: '600000', ...env },
    new ScriptedProvider().script(MODEL, ...steps),
  );
  pipeline.tracer.recordSpans = true;
  return pipeline;
}

const kinds = (spans: RecordedSpan[]) => spans.map((s) => `${s.kind}:${s.dropped ? 'dropped' : 'kept'}`);

describe('LLM Observability keep decision (LLMOBS_KEEP), made when the call ends', () => {
  it('drops an ordinary fast good call under LLMOBS_KEEP=interesting with no share: no annotation, no evaluation', async () => {
    const { service, tracer } = await recording({ LLMOBS_KEEP_SHARE: '0' }, { ok: 'Paris' });
    const result = await answered(service.complete(input()));
    expect(result.quality?.label).toBe('good');
    expect(kinds(tracer.recorded)).toEqual(['workflow:dropped', 'llm:dropped']);
    for (const span of tracer.recorded) {
      // Nothing built for the event: dropped, then ended as an APM span.
      expect(span.events).toEqual(['drop', 'finish']);
    }
    expect(tracer.recorded[0]!.tags['llm.llmobs_keep']).toBe('dropped');
    // Its attempt was held until the decision, then ended (an APM span either way).
    expect(tracer.llmSpans.map((s) => s.held)).toEqual([true]);
    expect(tracer.evaluations).toEqual([]);
  });

  it('keeps a retried call with every attempt annotated, and its evaluations on the workflow and the answering attempt', async () => {
    const { service, tracer } = await recording(
      { LLMOBS_KEEP_SHARE: '0' },
      { fail: 'server', status: 503 },
      { ok: 'Paris' },
    );
    await answered(service.complete(input()));
    const [workflow, failed, answering] = tracer.recorded;
    expect(kinds(tracer.recorded)).toEqual(['workflow:kept', 'llm:kept', 'llm:kept']);
    expect(workflow!.annotations[0]).toMatchObject({
      input: 'What is the capital of France?',
      output: 'Paris',
      tags: { keep_reason: 'retry' },
    });
    // The failed attempt shows what it sent and why it failed; the answering one its output and tokens.
    expect(failed!.annotations[0]).toMatchObject({
      input: [{ role: 'user', content: 'What is the capital of France?' }],
      tags: { error_type: 'server', upstream_status: '503' },
    });
    expect(answering!.annotations[0]).toMatchObject({
      output: [{ role: 'assistant', content: 'Paris' }],
      metrics: { inputTokens: expect.any(Number) as number },
    });
    for (const span of tracer.recorded) expect(span.events.slice(-2)).toEqual(['annotate', 'finish']);
    const quality = tracer.evaluations.filter((e) => e.label === 'quality_score').map((e) => e.ref);
    expect(quality).toEqual([workflow, answering]);
  });

  it('gives LLM Observability the billed token counts Datadog prices a span from: reasoning in the output, cached input', async () => {
    const usage = {
      inputTokens: 1000,
      outputTokens: 300,
      totalTokens: 1500,
      cachedTokens: 400,
      reasoningTokens: 200,
      estimated: false,
    };
    const { service, tracer } = await recording({ LLMOBS_KEEP: 'all' }, { ok: 'Paris', usage });
    await answered(service.complete(input()));
    const answering = tracer.recorded.find((span) => span.kind === 'llm');
    // Before, outputTokens was 300: Datadog's estimate left the 200 reasoning tokens out.
    expect(answering!.annotations[0]!.metrics).toEqual({
      inputTokens: 1000,
      outputTokens: 500,
      totalTokens: 1500,
      reasoningOutputTokens: 200,
      cacheReadTokens: 400,
    });
  });

  it('keeps a call whose prompt carries PII, and a failed call with its attempts', async () => {
    const pii = await recording({ LLMOBS_KEEP_SHARE: '0' }, { ok: 'Paris' });
    await answered(pii.service.complete(input('My card is 4111 1111 1111 1111, what is the capital of France?')));
    expect(kinds(pii.tracer.recorded)).toEqual(['workflow:kept', 'llm:kept']);
    expect(pii.tracer.recorded[0]!.annotations[0]?.tags).toEqual({ keep_reason: 'pii' });

    const failing = await recording({ LLMOBS_KEEP_SHARE: '0', LLM_MAX_RETRIES: '0' }, { fail: 'auth', status: 401 });
    await expect(failing.service.complete(input())).rejects.toThrow();
    expect(kinds(failing.tracer.recorded)).toEqual(['workflow:kept', 'llm:kept']);
    expect(failing.tracer.recorded[0]!.annotations[0]?.tags).toEqual({
      keep_reason: 'error',
      error_type: 'auth',
      upstream_status: '401',
    });
    expect(failing.tracer.recorded.every((s) => s.finished)).toBe(true);
  });

  it("redacts a chat call's metadata keys as well as its values, and masks a value under a credential-named key", async () => {
    const { service, tracer } = await recording({ LLMOBS_KEEP: 'all' }, { ok: 'Paris' }, { fail: 'auth', status: 401 });
    const metadata = {
      'jane.doe@example.com': 'owner',
      'sk-proj-7Hq2Zx9Kp4Lm8Nw3Rt6Vy1Bc5': 'key',
      db_password: 'hunter2hunter2',
      team: 'payments',
    };
    const prompt = 'What is the capital of France?';
    const chat = { model: MODEL, messages: [{ role: 'user' as const, content: prompt }], user: 'u-1', metadata };
    await answered(service.complete({ ...input(prompt), endpoint: 'chat', chat }));
    await expect(service.complete({ ...input(prompt), endpoint: 'chat', chat })).rejects.toThrow();
    const annotated = tracer.recorded.filter((s) => s.kind === 'workflow').map((s) => s.annotations[0]!.metadata);
    expect(annotated).toHaveLength(2);
    for (const shown of annotated) {
      const text = JSON.stringify(shown);
      // Before, the keys went to LLM Observability as sent (`metadata.jane.doe@example.com`), and a value under a
      // credential-named key (that the value's shape does not betray) as well.
      expect(text).not.toMatch(/jane\.doe|7Hq2Zx9Kp4|hunter2/);
      expect(shown).toMatchObject({ user: 'u-1', 'metadata.team': 'payments', 'metadata.db_password': '[redacted]' });
      expect(shown).toHaveProperty(['metadata.[REDACTED:EMAIL]'], 'owner');
    }
  });

  it('keeps a low-quality answer and a slow call, decided after the score and the latency are known', async () => {
    const low = await recording({ LLMOBS_KEEP_SHARE: '0' }, { ok: "I'm sorry, I don't know." });
    const lowResult = await answered(low.service.complete(input()));
    expect(lowResult.quality?.label).not.toBe('good');
    expect(low.tracer.recorded[0]!.annotations[0]?.tags).toEqual({ keep_reason: 'quality' });
    expect(low.tracer.evaluations.some((e) => e.label === 'quality_score')).toBe(true);

    const slow = await recording({ LLMOBS_KEEP_SHARE: '0', HEALTH_LATENCY_SLO_MS: '5' }, { ok: 'Paris', delayMs: 30 });
    await answered(slow.service.complete(input()));
    expect(slow.tracer.recorded[0]!.annotations[0]?.tags).toEqual({ keep_reason: 'slow' });
  });

  it('keeps every call with LLMOBS_KEEP=all, and the unremarkable ones with LLMOBS_KEEP_SHARE=1', async () => {
    for (const env of [{ LLMOBS_KEEP: 'all' }, { LLMOBS_KEEP_SHARE: '1' }] as Record<string, string>[]) {
      const { service, tracer } = await recording(env, { ok: 'Paris' }, { ok: 'Paris' });
      for (let i = 0; i < 2; i++) await answered(service.complete(input()));
      expect(kinds(tracer.recorded)).toEqual(['workflow:kept', 'llm:kept', 'workflow:kept', 'llm:kept']);
      expect(tracer.evaluations.filter((e) => e.label === 'quality_score')).toHaveLength(4);
    }
  });

  it('keeps at most LLMOBS_KEEP_MAX_PER_S calls a second for share or slowness, and always the faults', async () => {
    const { service, tracer, metrics } = await recording(
      { LLMOBS_KEEP_SHARE: '1', LLMOBS_KEEP_MAX_PER_S: '1' },
      ...Array.from({ length: 10 }, () => ({ ok: 'Paris' })),
      { fail: 'server', status: 503 },
      { ok: 'Paris' },
      { ok: 'Paris' },
    );
    const workflows = () => tracer.recorded.filter((s) => s.kind === 'workflow');
    const started = performance.now();
    for (let i = 0; i < 10; i++) await answered(service.complete(input()));
    const seconds = (performance.now() - started) / 1000;
    // Ten unremarkable calls: one is kept, plus one per second they took; the rest end as APM spans only.
    const kept = workflows().filter((s) => s.tags['llm.llmobs_keep'] === 'share').length;
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(kept).toBeLessThanOrEqual(1 + Math.ceil(seconds));
    expect(kept).toBeLessThan(10);
    const over = workflows().filter((s) => s.tags['llm.llmobs_keep'] === 'dropped');
    expect(over).toHaveLength(10 - kept);
    for (const span of over) expect(span.tags['llm.llmobs_over_budget']).toBe('share');
    const counted = metrics.named('llm.llmobs.over_budget.count');
    expect(counted.reduce((sum, m) => sum + m.value, 0)).toBe(10 - kept);
    for (const m of counted) expect(m.tags).toEqual(['reason:share']);
    // A retried call is kept with the budget spent: faults never wait for it.
    await answered(service.complete(input()));
    expect(workflows().at(-1)!.tags['llm.llmobs_keep']).toBe('retry');
    // The budget refills: a second later, an unremarkable call is kept again.
    await new Promise((r) => setTimeout(r, 1100));
    await answered(service.complete(input()));
    expect(workflows().at(-1)!.tags['llm.llmobs_keep']).toBe('share');
  });

  it('keeps an abandoned stream, and records nothing for LLM Observability under LLMOBS_SAMPLE_RATE=0', async () => {
    const { service, tracer } = await recording(
      { LLMOBS_KEEP_SHARE: '0' },
      { ok: 'one two three four', chunkDelayMs: 5 },
    );
    const stream = await service.stream(input());
    for await (const item of stream) {
      if (item.type === 'delta') break; // the consumer stops reading: the client went away
    }
    expect(kinds(tracer.recorded)).toEqual(['workflow:kept', 'llm:kept']);
    expect(tracer.recorded[0]!.annotations[0]?.tags).toEqual({ keep_reason: 'abandoned' });

    const unsampled = await recording({ LLMOBS_SAMPLE_RATE: '0' }, { fail: 'server' }, { ok: 'Paris' });
    await answered(unsampled.service.complete(input()));
    expect(unsampled.tracer.recorded).toEqual([]);
    expect(unsampled.tracer.llmSpans.map((s) => [s.llmobs, s.held])).toEqual([
      [false, false],
      [false, false],
    ]);
  });
});

describe('keepReason', () => {
  const config = (env: Record<string, string> = {}) => testConfig({ HEALTH_LATENCY_SLO_MS: '1000', ...env });
  const ctx = { input: input() };
  const result = (over: Partial<LlmCallResult> = {}): { result: LlmCallResult } => ({
    result: {
      retryCount: 0,
      attempts: 1,
      fallbackUsed: false,
      latencyMs: 10,
      quality: { label: 'good', failureToAnswer: false },
      ...over,
    } as LlmCallResult,
  });

  it('names the first reason that applies, in order, and otherwise draws the share', () => {
    const c = config({ LLMOBS_KEEP_SHARE: '0.25' });
    expect(keepReason(config({ LLMOBS_KEEP: 'all' }), ctx, result())).toBe('all');
    expect(keepReason(c, ctx, { error: new Error('x') })).toBe('error');
    expect(keepReason(c, ctx, { error: new LlmCallAbandonedError({} as never) })).toBe('abandoned');
    expect(keepReason(c, ctx, result({ retryCount: 1, attempts: 2 }))).toBe('retry');
    expect(keepReason(c, ctx, result({ fallbackUsed: true, attempts: 2 }))).toBe('fallback');
    expect(keepReason(c, ctx, result({ quality: { label: 'degraded', failureToAnswer: false } as never }))).toBe(
      'quality',
    );
    expect(keepReason(c, ctx, result({ latencyMs: 1001 }))).toBe('slow');
    const report = { piiTypes: [], injection: { score: 0.9, flagged: true, signals: [] }, tokenAbuse: false };
    expect(keepReason(c, ctx, result({ inspection: { report, action: 'flagged', redacted: false } }))).toBe(
      'injection',
    );
    expect(keepReason(c, ctx, result(), () => 0.2)).toBe('share');
    expect(keepReason(c, ctx, result(), () => 0.3)).toBeUndefined();
    expect(keepReason(config({ LLMOBS_KEEP_SHARE: '0' }), ctx, result(), () => 0)).toBeUndefined();
  });

  it('defaults to interesting calls plus 10 % of the rest', () => {
    const defaults = testConfig({});
    expect(defaults.tracing.llmobsKeep).toBe('interesting');
    expect(defaults.tracing.llmobsKeepShare).toBe(0.1);
  });
});
