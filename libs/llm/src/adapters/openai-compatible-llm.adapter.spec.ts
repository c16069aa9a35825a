import {
  collectStream,
  OPENAI_TEST_API_KEY as API_KEY,
  openAiAdapter,
  providerFailure,
  requestFor,
  useLoopbackAdapter,
} from '../../../../test/support/llm-adapter-helpers';
import { FakeOpenAiServer } from '../../../../test/support/fake-openai-server';

const request = requestFor('llama3.2:3b');

describe('OpenAiCompatibleLlmAdapter against a loopback chat-completions server', () => {
  const context = useLoopbackAdapter(
    () => new FakeOpenAiServer().start(),
    (baseUrl) => openAiAdapter({ OPENAI_BASE_URL: baseUrl, OPENAI_API_KEY: API_KEY }),
  );

  it('is a real provider named openai', () => {
    expect(context.adapter.name).toBe('openai');
    expect(context.adapter.simulated).toBe(false);
  });

  it('answers and maps usage: cached input, and reasoning taken out of completion tokens', async () => {
    context.server.enqueue({
      type: 'answer',
      text: 'Four.',
      usage: { prompt: 120, cached: 48, output: 7, reasoning: 33 },
      model: 'llama3.2:3b-instruct-q4',
    });

    const result = await context.adapter.generate(request());

    // The wire said completion_tokens = 40 (7 visible + 33 reasoning), total_tokens = 160.
    expect(result).toEqual({
      text: 'Four.',
      model: 'llama3.2:3b-instruct-q4',
      finishReason: 'stop',
      rawFinishReason: 'stop',
      usage: {
        inputTokens: 120,
        outputTokens: 7,
        reasoningTokens: 33,
        cachedTokens: 48,
        totalTokens: 160,
        estimated: false,
      },
    });
  });

  it('posts the chat-completions body with the model, messages and generation settings, and the bearer key', async () => {
    await context.adapter.generate(request());
    const [sent] = context.server.requests;
    expect(sent!.method).toBe('POST');
    expect(sent!.path).toBe('/v1/chat/completions');
    expect(sent!.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(sent!.headers['content-type']).toBe('application/json');
    expect(sent!.body).toEqual({
      model: 'llama3.2:3b',
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'What is two plus two?' },
      ],
      temperature: 0.2,
      max_tokens: 256,
    });
  });

  it("keeps the base URL's query on every call (a gateway versioned by query: ?api-version=)", async () => {
    const adapter = openAiAdapter({
      OPENAI_BASE_URL: `${context.server.url}/v1?api-version=2024-10-21`,
      OPENAI_API_KEY: API_KEY,
    });
    await adapter.generate(request());
    const sent = context.server.requests.at(-1)!;
    expect(sent.query).toEqual({ 'api-version': '2024-10-21' });
  });

  it('reports no usage when the server sends none, and no finish reason as other', async () => {
    context.server.enqueue({ type: 'answer', text: 'ok', usage: null, finishReason: 'tool_calls' });
    const result = await context.adapter.generate(request());
    expect(result.usage).toBeUndefined();
    expect(result.finishReason).toBe('other');
    expect(result.rawFinishReason).toBe('tool_calls');
  });

  it('does not trust the types of a response: odd counts are estimated instead, a non-text answer fails', async () => {
    const completion = (message: unknown, extra: Record<string, unknown>): Record<string, unknown> => ({
      id: 'chatcmpl-odd',
      object: 'chat.completion',
      choices: [{ index: 0, message, finish_reason: 'stop' }],
      ...extra,
    });
    const text = { role: 'assistant', content: 'fine' };
    context.server.enqueue({
      type: 'error',
      status: 200,
      body: completion(text, {
        model: 12345,
        usage: { prompt_tokens: 'a', completion_tokens: -5, total_tokens: 'a-5' },
      }),
    });
    const odd = await context.adapter.generate(request());
    expect(odd).toMatchObject({ text: 'fine', model: 'llama3.2:3b', finishReason: 'stop' });
    expect(odd.usage).toBeUndefined(); // the service estimates and marks it
    for (const usage of [
      { prompt_tokens: 10, completion_tokens: 2.5 },
      { prompt_tokens: 10 },
      { prompt_tokens: 10, completion_tokens: 2, completion_tokens_details: { reasoning_tokens: '1' } },
    ]) {
      context.server.enqueue({ type: 'error', status: 200, body: completion(text, { model: ' ', usage }) });
      const result = await context.adapter.generate(request());
      expect(result.usage).toBeUndefined();
      expect(result.model).toBe('llama3.2:3b');
    }
    context.server.enqueue({
      type: 'error',
      status: 200,
      body: completion(text, { usage: { prompt_tokens: 10, completion_tokens: 2, prompt_tokens_details: null } }),
    });
    expect((await context.adapter.generate(request())).usage).toMatchObject({
      inputTokens: 10,
      outputTokens: 2,
      cachedTokens: 0,
    });
    context.server.enqueue({ type: 'error', status: 200, body: completion({ role: 'assistant', content: 42 }, {}) });
    expect(await providerFailure(context.adapter.generate(request()))).toMatchObject({ kind: 'invalid_response' });
  });

  it('normalises length', async () => {
    context.server.enqueue({ type: 'answer', text: 'The answer is', finishReason: 'length' });
    expect((await context.adapter.generate(request())).finishReason).toBe('length');
  });

  it("takes a streamed tool call's name as the SDK does: a server that repeats it in every piece names the call once", async () => {
    // Some servers send the id, type and name with every piece of a call, the arguments growing. The openai SDK takes
    // the name each piece gives; before, the adapter appended it: `get_weatherget_weather`, a tool the app never had.
    const piece = (args: string, finish: string | null = null): unknown => ({
      id: 'chatcmpl-pieces',
      object: 'chat.completion.chunk',
      model: 'llama3.2:3b',
      choices: [
        {
          index: 0,
          delta: {
            tool_calls: [
              { index: 0, id: 'call_7', type: 'function', function: { name: 'get_weather', arguments: args } },
            ],
          },
          finish_reason: finish,
        },
      ],
    });
    context.server.enqueue({
      type: 'raw',
      sse: [piece('{"city":'), piece('"Oslo"}'), piece('', 'tool_calls'), '[DONE]'],
    });

    const { result } = await collectStream(context.adapter.stream(request()));

    expect(result.toolCalls).toEqual([{ id: 'call_7', name: 'get_weather', arguments: '{"city":"Oslo"}' }]);
    expect(result.finishReason).toBe('tool_calls');
  });

  it('streams SSE deltas, then one done event with the full text and the usage chunk', async () => {
    context.server.enqueue({
      type: 'answer',
      chunks: ['The answer ', 'is ', 'four.'],
      usage: { prompt: 50, cached: 10, output: 4, reasoning: 12 },
      model: 'qwen3:8b',
    });

    const { deltas, result } = await collectStream(context.adapter.stream(request()));

    expect(deltas).toEqual(['The answer ', 'is ', 'four.']);
    expect(result).toEqual({
      text: 'The answer is four.',
      model: 'qwen3:8b',
      finishReason: 'stop',
      rawFinishReason: 'stop',
      usage: {
        inputTokens: 50,
        outputTokens: 4,
        reasoningTokens: 12,
        cachedTokens: 10,
        totalTokens: 66,
        estimated: false,
      },
    });
    const [sent] = context.server.requests;
    expect(sent!.headers.accept).toBe('text/event-stream');
    expect(sent!.body).toMatchObject({ stream: true, stream_options: { include_usage: true }, max_tokens: 256 });
  });

  it('names the reasoning models by OPENAI_REASONING_MODELS (none: none)', async () => {
    const plain = openAiAdapter({ OPENAI_BASE_URL: context.server.url, OPENAI_REASONING_MODELS: 'none' });
    const custom = openAiAdapter({ OPENAI_BASE_URL: context.server.url, OPENAI_REASONING_MODELS: ' deepseek-r1 , o3' });
    try {
      await plain.generate(request({ model: 'o4-mini', temperatureDefaulted: true }));
      await custom.generate(request({ model: 'deepseek-r1:14b', temperatureDefaulted: true }));
      await custom.generate(request({ model: 'o4-mini', temperatureDefaulted: true }));
    } finally {
      await plain.close();
      await custom.close();
    }
    const [o4, r1, o4Custom] = context.server.requests.map((sent) => sent.body as Record<string, unknown>);
    expect(o4).toMatchObject({ max_tokens: 256, temperature: 0.2 });
    expect(r1).toMatchObject({ max_completion_tokens: 256 });
    expect(r1).not.toHaveProperty('temperature');
    expect(o4Custom).toMatchObject({ max_tokens: 256, temperature: 0.2 });
  });

  it.each(['o4-mini', 'o3', 'o1-2024-12-17', 'gpt-5', 'gpt-5-mini', 'gpt-5.1'])(
    'sends %s (an OpenAI reasoning model) max_completion_tokens, and no default temperature',
    async (model) => {
      await collectStream(context.adapter.stream(request({ model, temperatureDefaulted: true })));
      await context.adapter.generate(request({ model, temperatureDefaulted: true }));
      for (const sent of context.server.requests) {
        expect(sent.body).toMatchObject({ model, max_completion_tokens: 256 });
        expect(sent.body).not.toHaveProperty('max_tokens');
        expect(sent.body).not.toHaveProperty('temperature');
      }
    },
  );

  it("sends a reasoning model the caller's own temperature (the upstream judges it)", async () => {
    await context.adapter.generate(request({ model: 'o4-mini', temperature: 1 }));
    expect(context.server.requests[0]!.body).toMatchObject({ temperature: 1, max_completion_tokens: 256 });
  });

  it.each(['llama3.2:3b', 'gpt-4o-mini', 'o1x', 'gpt-50', 'qwen3:8b'])(
    'sends %s (not a reasoning model) max_tokens and the default temperature, as Ollama and vLLM read them',
    async (model) => {
      await context.adapter.generate(request({ model, temperatureDefaulted: true }));
      const body = context.server.requests[0]!.body;
      expect(body).toMatchObject({ model, max_tokens: 256, temperature: 0.2 });
      expect(body).not.toHaveProperty('max_completion_tokens');
    },
  );

  it.each(['generate', 'stream'] as const)('reports a prompt rejected by a content filter (%s)', async (how) => {
    context.server.enqueue({ type: 'prompt_block' });
    const result =
      how === 'generate'
        ? await context.adapter.generate(request())
        : (await collectStream(context.adapter.stream(request()))).result;
    expect(result).toMatchObject({
      text: '',
      finishReason: 'safety',
      safetyBlock: { stage: 'prompt', reason: 'content_filter' },
    });
  });

  it.each(['generate', 'stream'] as const)(
    'reports finish_reason content_filter as a candidate block (%s)',
    async (how) => {
      context.server.enqueue({ type: 'candidate_block', text: 'Here is how' });
      const result =
        how === 'generate'
          ? await context.adapter.generate(request())
          : (await collectStream(context.adapter.stream(request()))).result;
      expect(result).toMatchObject({
        text: 'Here is how',
        finishReason: 'safety',
        rawFinishReason: 'content_filter',
        safetyBlock: { stage: 'candidate', reason: 'content_filter' },
      });
    },
  );
});
