import { answered, buildLlmPipeline as build, input, settled } from '../../../../test/support/llm-pipeline-harness';
import { ScriptedProvider } from '../../../../test/support/scripted-provider';
import { INPUT_HEAP_BYTES_PER_CHAR, inputChars } from './load-shedder';

const MODEL = 'gemini-2.5-flash';
const failure = (call: Promise<unknown>): Promise<{ code?: string; context?: { resource?: string } }> =>
  call.then(
    () => ({}),
    (error: unknown) => error as { code?: string; context?: { resource?: string } },
  );

describe("LoadShedder: the heap of the calls' inputs, counted while they are in flight", () => {
  it('counts a call in flight and gives it back however the call ends: answered, failed, streamed, abandoned, cached', async () => {
    const provider = new ScriptedProvider().script(
      MODEL,
      { ok: 'Paris', delayMs: 20 },
      { fail: 'bad_request' },
      { ok: 'one two three', chunkDelayMs: 1 },
      { ok: 'one two three four five six', chunkDelayMs: 5 },
      { ok: 'Cached answer' },
    );
    const { service, shedder } = await build({ CACHE_MODE: 'exact', LLM_MAX_RETRIES: '0' }, provider);
    const prompt = 'What is the capital of France?';

    const inFlight = service.complete(input(prompt));
    await new Promise((resolve) => setImmediate(resolve));
    expect(shedder.heldBytes).toBe(INPUT_HEAP_BYTES_PER_CHAR * prompt.length);
    await answered(inFlight);
    expect(shedder.heldBytes).toBe(0);

    expect(await failure(service.complete(input('A question the provider refuses')))).toMatchObject({
      code: 'PROVIDER_REJECTED_REQUEST',
    });
    await settled();
    expect(shedder.heldBytes).toBe(0);

    const stream = await service.stream(input('Stream it'));
    for await (const item of stream) void item;
    await settled();
    expect(shedder.heldBytes).toBe(0);

    const abandoned = await service.stream(input('Stream it, then leave'));
    for await (const item of abandoned) if (item.type === 'delta') break;
    await settled();
    expect(shedder.heldBytes).toBe(0);

    await answered(service.complete(input('Cache me')));
    await answered(service.complete(input('Cache me'))); // a hit
    expect(provider.calls.filter((c) => c.prompt.includes('Cache me'))).toHaveLength(1);
    expect(shedder.heldBytes).toBe(0);
  });

  it('gives back a call refused after its admission (the daily budget)', async () => {
    const { service, shedder } = await build(
      { DAILY_BUDGET_USD: '0.001', BUDGET_POLICY: 'enforce' },
      new ScriptedProvider(),
    );
    expect(await failure(service.complete(input()))).toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect(await failure(service.stream(input()))).toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect(shedder.heldBytes).toBe(0);
  });

  it('refuses a call whose input would not fit beside those in flight: 503 NO_CAPACITY naming the heap', async () => {
    const provider = new ScriptedProvider().script(MODEL, { hang: true });
    // A ratio that leaves about 4 MB for the inputs of the calls in flight, whatever the test's heap limit.
    const { getHeapStatistics } = await import('node:v8');
    const ratio = (8 * 2 ** 20) / getHeapStatistics().heap_size_limit;
    const { service, shedder } = await build({ LLM_SHED_HEAP_RATIO: ratio.toFixed(6) }, provider);
    const big = 'word '.repeat(200_000); // 1 MB of prompt: 4 MB counted
    const controller = new AbortController();
    const held = service.complete({ ...input(big), signal: controller.signal }).catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    expect(shedder.heldBytes).toBe(INPUT_HEAP_BYTES_PER_CHAR * big.length);
    const refused = await failure(service.complete(input(big)));
    expect(refused).toMatchObject({ code: 'NO_CAPACITY', context: { resource: 'heap' } });
    expect(shedder.heldBytes).toBe(INPUT_HEAP_BYTES_PER_CHAR * big.length);
    controller.abort();
    await held;
    await settled();
    expect(shedder.heldBytes).toBe(0);
  });

  it("counts a chat call's tool definitions and response schema with its conversation", () => {
    const description = 'Looks up the weather. '.repeat(300);
    const chat = {
      ...input('weather?'),
      endpoint: 'chat' as const,
      chat: {
        model: MODEL,
        messages: [{ role: 'user' as const, content: 'weather?' }],
        tools: Array.from({ length: 128 }, (_v, i) => ({
          name: `tool_${i}`,
          description,
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        })),
      },
    };
    expect(inputChars(chat)).toBeGreaterThan(128 * description.length);
    expect(inputChars(input('weather?'))).toBe('weather?'.length);
  });
});
