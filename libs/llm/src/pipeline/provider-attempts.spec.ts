import { buildLlmPipeline as build, input, named, settled } from '../../../../test/support/llm-pipeline-harness';
import { ScriptedProvider } from '../../../../test/support/scripted-provider';
import { LlmCallFailedError } from '../llm.errors';

describe('ProviderAttempts: streams', () => {
  it('retries a stream that ends without any text before its first token, so the client sees no empty answer', async () => {
    const provider = new ScriptedProvider().script('gemini-2.5-flash', { ok: '' }, { ok: 'Lyon' });
    const { service } = await build({ LLM_MAX_RETRIES: '1' }, provider);
    const items = [];
    for await (const item of await service.stream(input())) items.push(item);
    expect(items.at(-1)).toMatchObject({ type: 'done', result: { answer: 'Lyon', retryCount: 1 } });
    expect(provider.calls).toHaveLength(2);
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
});
