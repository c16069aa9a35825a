import { testConfig } from '../../../../test/support/app-config';
import { closedPort, collectStream, llmRequest, providerFailure } from '../../../../test/support/llm-adapter-helpers';
import { FakeOpenAiServer } from '../../../../test/support/fake-openai-server';
import { type LlmGenerateRequest } from '../ports/llm-provider.port';
import { OpenAiCompatibleLlmAdapter } from './openai-compatible-llm.adapter';

const API_KEY = 'sk-test-openai-compatible';

const request = (overrides: Partial<LlmGenerateRequest> = {}): LlmGenerateRequest =>
  llmRequest('llama3.2:3b', overrides);

async function waitFor(predicate: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function makeAdapter(env: Record<string, string>): OpenAiCompatibleLlmAdapter {
  return new OpenAiCompatibleLlmAdapter(testConfig({ LLM_PROVIDER: 'openai', LLM_TIMEOUT_MS: '2000', ...env }));
}

describe('OpenAiCompatibleLlmAdapter against a loopback chat-completions server: failures, timeouts, connections', () => {
  let server: FakeOpenAiServer;
  let adapter: OpenAiCompatibleLlmAdapter;

  beforeAll(async () => {
    server = await new FakeOpenAiServer().start();
    adapter = makeAdapter({ OPENAI_BASE_URL: server.url, OPENAI_API_KEY: API_KEY });
  });

  afterEach(() => {
    server.reset();
  });

  afterAll(async () => {
    await adapter.close();
    await server.close();
  });

  it('maps 429 with Retry-After seconds to a retryable rate_limit with retryAfterMs', async () => {
    server.enqueue({ type: 'error', status: 429, retryAfter: '7' });
    const error = await providerFailure(adapter.generate(request()));
    expect(error).toMatchObject({
      kind: 'rate_limit',
      retryable: true,
      details: { provider: 'openai', model: 'llama3.2:3b', status: 429, retryAfterMs: 7_000 },
    });
    expect(error.message).toContain('fake upstream error 429');
    expect(server.requests).toHaveLength(1);
  });

  it('reads Retry-After given as an HTTP date, and retry-after-ms first when both are sent', async () => {
    server.enqueue({ type: 'error', status: 429, retryAfter: new Date(Date.now() + 30_000).toUTCString() });
    const dated = await providerFailure(adapter.generate(request()));
    expect(dated.details.retryAfterMs).toBeGreaterThan(28_000);
    expect(dated.details.retryAfterMs).toBeLessThanOrEqual(30_000);

    server.enqueue({ type: 'error', status: 429, retryAfter: '9', headers: { 'retry-after-ms': '1500' } });
    expect((await providerFailure(adapter.generate(request()))).details.retryAfterMs).toBe(1_500);
  });

  it('maps 429 on a stream request the same way', async () => {
    server.enqueue({ type: 'error', status: 429, retryAfter: '2' });
    const error = await providerFailure(collectStream(adapter.stream(request())));
    expect(error).toMatchObject({ kind: 'rate_limit', details: { status: 429, retryAfterMs: 2_000 } });
  });

  it.each([
    [500, 'server', true],
    [503, 'server', true],
    [502, 'server', true],
    [504, 'timeout', true],
    [408, 'timeout', true],
    [401, 'auth', false],
    [403, 'auth', false],
    [404, 'not_found', false],
    [400, 'bad_request', false],
    [422, 'bad_request', false],
  ] as const)('maps HTTP %i to %s (retryable: %s)', async (status, kind, retryable) => {
    server.enqueue({ type: 'error', status });
    const error = await providerFailure(adapter.generate(request()));
    expect(error).toMatchObject({ kind, retryable, details: { status, model: 'llama3.2:3b' } });
    expect(error.details.retryAfterMs).toBeUndefined();
  });

  it.each([
    [500, 'server'],
    [429, 'rate_limit'],
  ] as const)(
    'maps an error event (code %i) in the middle of a stream to %s, after the deltas',
    async (status, kind) => {
      server.enqueue({ type: 'stream_error', text: 'partial answer', status });
      const deltas: string[] = [];
      const error = await providerFailure(
        (async () => {
          for await (const event of adapter.stream(request())) if (event.type === 'delta') deltas.push(event.text);
        })(),
      );
      expect(deltas.join('')).toBe('partial answer');
      expect(error).toMatchObject({ kind, details: { status } });
    },
  );

  it('times out a slow answer through the AbortSignal, within a bounded time, and cancels the upstream call', async () => {
    server.enqueue({ type: 'answer', delayMs: 10_000 });
    const started = performance.now();
    const error = await providerFailure(
      adapter.generate(request({ signal: AbortSignal.timeout(250), timeoutMs: 250 })),
    );
    expect(error).toMatchObject({ kind: 'timeout', retryable: true });
    expect(performance.now() - started).toBeLessThan(2_000);
    await waitFor(() => server.requests[0]?.outcome === 'client_closed');
  });

  it('times out a stream that stalls after its first delta', async () => {
    server.enqueue({ type: 'answer', chunks: ['first ', 'second'], chunkDelayMs: 10_000 });
    const deltas: string[] = [];
    const started = performance.now();
    const error = await providerFailure(
      (async () => {
        for await (const event of adapter.stream(request({ signal: AbortSignal.timeout(300), timeoutMs: 300 }))) {
          if (event.type === 'delta') deltas.push(event.text);
        }
      })(),
    );
    expect(deltas).toEqual(['first ']);
    expect(error.kind).toBe('timeout');
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('tells a caller abort (client gone) from a timeout', async () => {
    server.enqueue({ type: 'hang' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('client disconnected')), 100);
    const error = await providerFailure(adapter.generate(request({ signal: controller.signal })));
    expect(error).toMatchObject({ kind: 'aborted', retryable: false });
  });

  it('maps a 200 with an unreadable body to invalid_response (JSON and SSE)', async () => {
    server.enqueue({ type: 'malformed' });
    expect((await providerFailure(adapter.generate(request()))).kind).toBe('invalid_response');
    server.enqueue({ type: 'malformed' });
    expect((await providerFailure(collectStream(adapter.stream(request())))).kind).toBe('invalid_response');
  });

  it('maps a dropped connection to connection', async () => {
    server.enqueue({ type: 'reset' });
    expect(await providerFailure(adapter.generate(request()))).toMatchObject({ kind: 'connection', retryable: true });
  });

  it('releases the upstream stream when the consumer stops early', async () => {
    server.enqueue({ type: 'answer', chunks: ['a', 'b', 'c'], chunkDelayMs: 200 });
    for await (const event of adapter.stream(request())) {
      expect(event).toEqual({ type: 'delta', text: 'a' });
      break;
    }
    await waitFor(() => server.requests[0]?.outcome === 'client_closed');
  });

  it('sends concurrent requests for different models with their own model (no shared model state)', async () => {
    server.setDefault((req) => ({ type: 'answer', text: `answer from ${req.model}`, delayMs: 30 }));
    const models = ['llama3.2:3b', 'qwen3:8b', 'mistral-small:24b'];
    const calls = Array.from({ length: 12 }, (_, i) => models[i % models.length]!);

    const results = await Promise.all(
      calls.map((model, i) =>
        i % 2 === 0
          ? adapter.generate(request({ model }))
          : collectStream(adapter.stream(request({ model }))).then(({ result }) => result),
      ),
    );

    results.forEach((result, i) => {
      expect(result.text).toBe(`answer from ${calls[i]}`);
      expect(result.model).toBe(calls[i]);
    });
    for (const model of models) expect(server.requests.filter((r) => r.model === model)).toHaveLength(4);
  });

  it('keeps connections alive: sequential calls reuse pooled sockets, streams included', async () => {
    const fresh = makeAdapter({ OPENAI_BASE_URL: server.url });
    try {
      await fresh.generate(request());
      await collectStream(fresh.stream(request()));
      await fresh.generate(request());
      await collectStream(fresh.stream(request()));
    } finally {
      await fresh.close();
    }
    const ports = server.requests.map((r) => r.remotePort);
    expect(ports).toHaveLength(4);
    expect(new Set(ports.slice(0, 2)).has(ports[2])).toBe(true);
    expect(new Set(ports.slice(0, 2)).has(ports[3])).toBe(true);
  });

  it('sends every request to loopback only', async () => {
    await adapter.generate(request());
    await collectStream(adapter.stream(request()));
    for (const sent of server.requests) {
      expect(sent.remoteAddress).toMatch(/^(127\.|::ffff:127\.|::1$)/);
      expect(sent.headers.host).toBe(`127.0.0.1:${server.port}`);
    }
  });

  it('sends no Authorization header without OPENAI_API_KEY, accepts a base ending in /v1, and LLM_BASE_URL wins', async () => {
    const keyless = makeAdapter({ OPENAI_BASE_URL: 'http://127.0.0.1:9', LLM_BASE_URL: `${server.url}/v1/` });
    try {
      await keyless.generate(request());
    } finally {
      await keyless.close();
    }
    expect(server.requests[0]!.path).toBe('/v1/chat/completions');
    expect(server.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('maps a refused connection to connection', async () => {
    const refused = makeAdapter({ OPENAI_BASE_URL: `http://127.0.0.1:${await closedPort()}` });
    try {
      const error = await providerFailure(refused.generate(request()));
      expect(error).toMatchObject({ kind: 'connection', retryable: true, details: { provider: 'openai' } });
      expect(error.message).toContain('ECONNREFUSED');
      expect((await providerFailure(collectStream(refused.stream(request())))).kind).toBe('connection');
    } finally {
      await refused.close();
    }
  });

  it('refuses to start without a base URL', () => {
    expect(() => new OpenAiCompatibleLlmAdapter(testConfig({ LLM_PROVIDER: 'simulated' }))).toThrow(/OPENAI_BASE_URL/);
  });
});
