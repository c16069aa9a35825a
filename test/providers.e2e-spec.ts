import { FakeGeminiServer } from './support/fake-gemini-server';
import { FakeOpenAiServer } from './support/fake-openai-server';
import { type LlmBody, post } from './support/http';
import { ServiceProcess } from './support/service-process';

describe('the built service on the Gemini API adapter (@google/genai) against a loopback Gemini server', () => {
  let gemini: FakeGeminiServer;
  let service: ServiceProcess;

  beforeAll(async () => {
    gemini = await new FakeGeminiServer().start();
    service = await new ServiceProcess({
      DD_TRACE_ENABLED: 'false',
      LLM_PROVIDER: 'gemini',
      GEMINI_API_KEY: 'test-gemini-key-123',
      LLM_BASE_URL: gemini.url,
      LLM_MODEL: 'gemini-2.5-flash',
      LLM_FALLBACK_MODELS: 'gemini-2.5-flash-lite',
      LLM_MAX_RETRIES: '1',
      LLM_RETRY_BASE_MS: '5',
      LLM_RETRY_MAX_MS: '3000',
      LLM_TIMEOUT_MS: '500',
    }).start();
  });

  afterAll(async () => {
    await service?.stop();
    await gemini?.close();
  });

  it('answers with the provider’s usage (cached and thinking tokens) and the right cost', async () => {
    gemini.enqueue({
      type: 'answer',
      text: 'Paris is the capital of France.',
      usage: { prompt: 1000, cached: 400, output: 50, reasoning: 200 },
      model: 'gemini-2.5-flash-001',
    });
    const res = await post(`${service.url}/qa`, { question: 'What is the capital of France?' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as LlmBody;
    expect(body.answer).toBe('Paris is the capital of France.');
    expect(body.metadata).toMatchObject({
      provider: 'gemini',
      simulated: false,
      model: 'gemini-2.5-flash',
      model_version: 'gemini-2.5-flash-001',
      input_tokens: 1000,
      cached_tokens: 400,
      output_tokens: 50,
      reasoning_tokens: 200,
      tokens_estimated: false,
    });
    expect(body.metadata.cost_usd as number).toBeCloseTo((600 * 0.3 + 400 * 0.03 + 250 * 2.5) / 1e6, 12);
    const sent = gemini.requests[gemini.requests.length - 1]!;
    expect(sent.model).toBe('gemini-2.5-flash');
    expect(JSON.stringify(sent.headers)).toContain('test-gemini-key-123');
  });

  it('retries a 429 after its Retry-After, then answers', async () => {
    gemini.enqueue({ type: 'error', status: 429, retryAfter: '1' }, { type: 'answer', text: 'after the retry' });
    const started = Date.now();
    const body = (await (await post(`${service.url}/reason`, { prompt: 'hello' })).json()) as LlmBody;
    expect(body.answer).toBe('after the retry');
    expect(body.metadata.retry_count).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('falls back to the next model when the first keeps failing with 500', async () => {
    gemini.enqueue(
      { type: 'error', status: 500 },
      { type: 'error', status: 500 },
      { type: 'answer', text: 'lite answer' },
    );
    const body = (await (await post(`${service.url}/reason`, { prompt: 'hello' })).json()) as LlmBody;
    expect(body.answer).toBe('lite answer');
    expect(body.metadata).toMatchObject({
      fallback_used: true,
      model: 'gemini-2.5-flash-lite',
      models_tried: ['gemini-2.5-flash', 'gemini-2.5-flash-lite'],
    });
    expect(gemini.requests.slice(-1)[0]!.model).toBe('gemini-2.5-flash-lite');
  });

  it('reports a prompt safety block as 200 with safety_block and the reason', async () => {
    gemini.enqueue({ type: 'prompt_block', reason: 'PROHIBITED_CONTENT' });
    const body = (await (await post(`${service.url}/reason`, { prompt: 'something blocked' })).json()) as LlmBody;
    expect(body.metadata).toMatchObject({ safety_block: true, safety_block_stage: 'prompt', finish_reason: 'safety' });
    expect(String(body.metadata.safety_block_reason)).toContain('PROHIBITED_CONTENT');
  });

  it('answers a prompt over the context window with 400 naming it, each model tried once; a refused key with 502 auth', async () => {
    const tooLong = {
      error: {
        code: 400,
        message: 'The input token count (1201234) exceeds the maximum number of tokens allowed (1048576).',
        status: 'INVALID_ARGUMENT',
      },
    };
    gemini.enqueue({ type: 'error', status: 400, body: tooLong }, { type: 'error', status: 400, body: tooLong });
    const sent = gemini.requests.length;
    const res = await post(`${service.url}/reason`, { prompt: 'a very long prompt' });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({
      code: 'PROVIDER_REJECTED_REQUEST',
      errorType: 'bad_request',
      providerCode: 'context_length_exceeded',
      modelsTried: ['gemini-2.5-flash', 'gemini-2.5-flash-lite'],
      attempts: 2,
    });
    expect(problem.detail).toMatch(/longer than the model accepts.*input token count \(1201234\) exceeds/);
    expect(gemini.requests.length - sent).toBe(2);

    // The Gemini API refuses a bad key with a 400 INVALID_ARGUMENT: ours to fix, not the caller's.
    const badKey = {
      error: {
        code: 400,
        message: 'API key not valid. Please pass a valid API key.',
        status: 'INVALID_ARGUMENT',
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }],
      },
    };
    gemini.enqueue({ type: 'error', status: 400, body: badKey }, { type: 'error', status: 400, body: badKey });
    const refused = await post(`${service.url}/reason`, { prompt: 'hello' });
    expect(refused.status).toBe(502);
    expect(await refused.json()).toMatchObject({
      code: 'UPSTREAM_ERROR',
      errorType: 'auth',
      providerCode: 'API_KEY_INVALID',
    });
  });

  it('answers 504 when every attempt on every model outlasts the timeout', async () => {
    gemini.enqueue(
      { type: 'answer', delayMs: 2000 },
      { type: 'answer', delayMs: 2000 },
      { type: 'answer', delayMs: 2000 },
      { type: 'answer', delayMs: 2000 },
    );
    const res = await post(`${service.url}/reason`, { prompt: 'slow' });
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ code: 'UPSTREAM_TIMEOUT', provider: 'gemini', errorType: 'timeout' });
  });

  it('streams through streamGenerateContent with the final usage', async () => {
    gemini.enqueue({ type: 'answer', chunks: ['The sky ', 'is blue ', 'by day.'], usage: { prompt: 20, output: 6 } });
    const res = await post(`${service.url}/qa`, { question: 'Sky colour?' }, { accept: 'text/event-stream' });
    const text = await res.text();
    expect(text).toContain('event: delta');
    const done = JSON.parse(/event: done\ndata: (.*)/.exec(text)![1]!) as LlmBody;
    expect(done.answer).toBe('The sky is blue by day.');
    expect(done.metadata).toMatchObject({ input_tokens: 20, output_tokens: 6, tokens_estimated: false });
    expect(gemini.requests.slice(-1)[0]!.path).toContain('streamGenerateContent');
  });
});

describe('the built service on the OpenAI-compatible adapter against a loopback /v1/chat/completions', () => {
  let openai: FakeOpenAiServer;
  let service: ServiceProcess;

  beforeAll(async () => {
    openai = await new FakeOpenAiServer().start();
    service = await new ServiceProcess({
      DD_TRACE_ENABLED: 'false',
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: openai.url,
      OPENAI_API_KEY: 'sk-test-openai-key-000000',
      LLM_MODEL: 'gpt-4o-mini',
      LLM_MAX_RETRIES: '1',
      LLM_RETRY_BASE_MS: '5',
    }).start();
  });

  afterAll(async () => {
    await service?.stop();
    await openai?.close();
  });

  it('answers with usage and cost, sending the bearer key', async () => {
    openai.enqueue({ type: 'answer', text: 'Four.', usage: { prompt: 100, cached: 20, output: 10 } });
    const body = (await (await post(`${service.url}/reason`, { prompt: 'What is 2+2?' })).json()) as LlmBody;
    expect(body.answer).toBe('Four.');
    expect(body.metadata).toMatchObject({
      provider: 'openai',
      input_tokens: 100,
      cached_tokens: 20,
      output_tokens: 10,
    });
    expect(body.metadata.cost_usd as number).toBeCloseTo((80 * 0.15 + 20 * 0.075 + 10 * 0.6) / 1e6, 12);
    expect(openai.requests.slice(-1)[0]!.headers.authorization).toBe('Bearer sk-test-openai-key-000000');
  });

  it('answers context_length_exceeded as OpenAI does (400, its code and param), on /v1 and /reason', async () => {
    const tooLong = {
      error: {
        message:
          "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. Please reduce the length of the messages.",
        type: 'invalid_request_error',
        param: 'messages',
        code: 'context_length_exceeded',
      },
    };
    openai.enqueue({ type: 'error', status: 400, body: tooLong }, { type: 'error', status: 400, body: tooLong });
    const sent = openai.requests.length;
    const v1 = await post(`${service.url}/v1/chat/completions`, {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'a very long conversation' }],
    });
    expect(v1.status).toBe(400);
    expect(v1.headers.get('x-control-plane-error-code')).toBe('PROVIDER_REJECTED_REQUEST');
    const body = (await v1.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
      param: 'messages',
    });
    expect(body.error.message).toMatch(/maximum context length is 128000 tokens/);
    // Not retried: one request (the chain has one model).
    expect(openai.requests.length - sent).toBe(1);
    const reason = await post(`${service.url}/reason`, { prompt: 'a very long prompt' });
    expect(reason.status).toBe(400);
    expect(await reason.json()).toMatchObject({
      code: 'PROVIDER_REJECTED_REQUEST',
      providerCode: 'context_length_exceeded',
    });
  });

  it('does not retry an exhausted quota (insufficient_quota): one request, 502 quota_exhausted, no Retry-After', async () => {
    openai.enqueue({
      type: 'error',
      status: 429,
      body: {
        error: {
          message: 'You exceeded your current quota, please check your plan and billing details.',
          type: 'insufficient_quota',
          param: null,
          code: 'insufficient_quota',
        },
      },
    });
    const sent = openai.requests.length;
    const res = await post(`${service.url}/reason`, { prompt: 'hello' });
    expect(res.status).toBe(502);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(await res.json()).toMatchObject({
      errorType: 'quota_exhausted',
      providerCode: 'insufficient_quota',
      attempts: 1,
    });
    expect(openai.requests.length - sent).toBe(1);
  });

  it('answers 502 with the upstream status after retrying two 500s', async () => {
    openai.enqueue({ type: 'error', status: 500 }, { type: 'error', status: 500 });
    const res = await post(`${service.url}/reason`, { prompt: 'fail' });
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({
      code: 'UPSTREAM_ERROR',
      attempts: 2,
      lastUpstreamStatus: 500,
      provider: 'openai',
    });
  });
});
