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
    const { service, metrics, ledger, ledgerStore } = await build({ LLM_TIMEOUT_MS: '150' }, provider);
    const started = Date.now();
    const seen: string[] = [];
    const error = await (async () => {
      for await (const item of await service.stream(input())) if (item.type === 'delta') seen.push(item.text);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['first words ']);
    expect(error).toBeInstanceOf(LlmCallFailedError);
    expect((error as LlmCallFailedError).code).toBe('UPSTREAM_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(10_000); // a hang guard: a silent stream without the timeout never ends
    expect(named(metrics, 'llm.error.count')[0]!.tags).toContain('error_type:timeout');
    // Its ledger row says what its client received before the failure.
    await settled();
    await ledger.flush();
    const [row] = await ledgerStore.records(0, Date.now() + 1, 10);
    expect(row).toMatchObject({ status: 'error', errorType: 'timeout', answerChars: 'first words '.length });
  });
});

/** Counts the stream events the pipeline took from the provider. */
class CountingProvider extends ScriptedProvider {
  pulled = 0;

  override async *stream(request: Parameters<ScriptedProvider['stream']>[0]) {
    for await (const event of super.stream(request)) {
      this.pulled++;
      yield event;
    }
  }
}

describe('ProviderAttempts: a reader that is behind', () => {
  // 400 words of 1,000 characters: 400 KB of text, six times the stream's buffer.
  const longAnswer = Array.from({ length: 400 }, (_, i) => `${i}`.padEnd(1000, 'x')).join(' ');
  const turns = (n: number): Promise<void> =>
    Array.from({ length: n }).reduce<Promise<void>>(
      (p) => p.then(() => new Promise((r) => setImmediate(r))),
      Promise.resolve(),
    );

  it('stops reading the provider while its reader takes nothing, and reads on when it does', async () => {
    const provider = new CountingProvider().script('gemini-2.5-flash', { ok: longAnswer });
    const { service } = await build({}, provider);
    const stream = await service.stream(input());
    const items = stream[Symbol.asyncIterator]();
    await items.next();
    await turns(200);
    // At most the buffer's worth (64 Ki characters: 66 events) beyond what was taken, not the whole answer.
    expect(provider.pulled).toBeLessThan(100);
    let text = '';
    for (let next = await items.next(); !next.done; next = await items.next()) {
      if (next.value.type === 'done') text = next.value.result.answer;
    }
    expect(text).toBe(longAnswer);
    expect(provider.pulled).toBe(401);
  });

  it("does not time the provider out for the reader's pause (the idle timeout is the provider's)", async () => {
    const provider = new CountingProvider().script('gemini-2.5-flash', { ok: longAnswer });
    const { service } = await build({ LLM_TIMEOUT_MS: '100' }, provider);
    const items = (await service.stream(input()))[Symbol.asyncIterator]();
    await items.next();
    // The reader takes nothing for several idle timeouts.
    await new Promise((r) => setTimeout(r, 500));
    let last: unknown;
    for (let next = await items.next(); !next.done; next = await items.next()) last = next.value;
    expect(last).toMatchObject({ type: 'done', result: { answer: longAnswer } });
  });
});
