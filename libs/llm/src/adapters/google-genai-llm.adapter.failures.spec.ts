import { OAuth2Client } from 'google-auth-library';
import { testConfig } from '../../../../test/support/app-config';
import { closedPort, collectStream, llmRequest, providerFailure } from '../../../../test/support/llm-adapter-helpers';
import { FakeGeminiServer } from '../../../../test/support/fake-gemini-server';
import { type LlmGenerateRequest } from '../ports/llm-provider.port';
import { GoogleGenAiLlmAdapter, type GoogleGenAiMode } from './google-genai-llm.adapter';

const PROJECT = 'test-project-42';
const LOCATION = 'europe-west4';
const ACCESS_TOKEN = 'ya29.test-access-token';
const API_KEY = 'test-gemini-api-key';

const request = (overrides: Partial<LlmGenerateRequest> = {}): LlmGenerateRequest =>
  llmRequest('gemini-2.5-flash', overrides);

function tokenClient(): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: ACCESS_TOKEN, expiry_date: Date.now() + 3_600_000 });
  return client;
}

function makeAdapter(mode: GoogleGenAiMode, baseUrl: string | undefined): GoogleGenAiLlmAdapter {
  const config = testConfig({
    LLM_PROVIDER: mode,
    ...(baseUrl !== undefined ? { LLM_BASE_URL: baseUrl } : {}),
    GOOGLE_CLOUD_PROJECT: PROJECT,
    GOOGLE_CLOUD_LOCATION: LOCATION,
    GEMINI_API_KEY: API_KEY,
    LLM_TIMEOUT_MS: '2000',
  });
  return new GoogleGenAiLlmAdapter(config, mode, mode === 'vertex' ? { authClient: tokenClient() } : {});
}

describe.each<GoogleGenAiMode>(['vertex', 'gemini'])(
  'GoogleGenAiLlmAdapter (%s) against a loopback Gemini server: failures, timeouts, connections',
  (mode) => {
    let server: FakeGeminiServer;
    let adapter: GoogleGenAiLlmAdapter;

    beforeAll(async () => {
      server = await new FakeGeminiServer().start();
      adapter = makeAdapter(mode, server.url);
    });

    afterEach(() => {
      server.reset();
    });

    afterAll(async () => {
      await adapter.close();
      await server.close();
    });

    it('maps 429 with Retry-After in seconds to a retryable rate_limit with retryAfterMs, sent once (no SDK retry)', async () => {
      server.enqueue({ type: 'error', status: 429, retryAfter: '7' });
      const error = await providerFailure(adapter.generate(request()));
      expect(error).toMatchObject({
        kind: 'rate_limit',
        retryable: true,
        details: { provider: mode, model: 'gemini-2.5-flash', status: 429, retryAfterMs: 7_000 },
      });
      expect(server.requests).toHaveLength(1);
    });

    it('reads Retry-After given as an HTTP date', async () => {
      server.enqueue({ type: 'error', status: 429, retryAfter: new Date(Date.now() + 30_000).toUTCString() });
      const error = await providerFailure(adapter.generate(request()));
      expect(error.kind).toBe('rate_limit');
      expect(error.details.retryAfterMs).toBeGreaterThan(28_000);
      expect(error.details.retryAfterMs).toBeLessThanOrEqual(30_000);
    });

    it("reads Google's RetryInfo.retryDelay from the error body when there is no Retry-After header", async () => {
      server.enqueue({ type: 'error', status: 429, retryDelay: '17s' });
      const error = await providerFailure(adapter.generate(request()));
      expect(error.details.retryAfterMs).toBe(17_000);
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
    ] as const)('maps HTTP %i to %s (retryable: %s), sending it once', async (status, kind, retryable) => {
      server.enqueue({ type: 'error', status });
      const error = await providerFailure(adapter.generate(request()));
      expect(error).toMatchObject({ kind, retryable, details: { status, model: 'gemini-2.5-flash' } });
      expect(error.details.retryAfterMs).toBeUndefined();
      expect(server.requests).toHaveLength(1);
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
      const elapsed = performance.now() - started;
      expect(error).toMatchObject({ kind: 'timeout', retryable: true });
      expect(elapsed).toBeLessThan(2_000);
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

    it('maps a 200 with an unreadable body to invalid_response', async () => {
      server.enqueue({ type: 'malformed' });
      expect((await providerFailure(adapter.generate(request()))).kind).toBe('invalid_response');
      server.enqueue({ type: 'malformed' });
      expect((await providerFailure(collectStream(adapter.stream(request())))).kind).toBe('invalid_response');
    });

    it('maps a dropped connection to connection', async () => {
      server.enqueue({ type: 'reset' });
      const error = await providerFailure(adapter.generate(request()));
      expect(error).toMatchObject({ kind: 'connection', retryable: true });
    });

    it('releases the upstream stream when the consumer stops early', async () => {
      server.enqueue({ type: 'answer', chunks: ['a', 'b', 'c'], chunkDelayMs: 200 });
      for await (const event of adapter.stream(request())) {
        expect(event).toEqual({ type: 'delta', text: 'a' });
        break;
      }
      await waitFor(() => server.requests[0]?.outcome === 'client_closed');
    });

    it('sends concurrent requests for different models to their own URLs (no shared model state)', async () => {
      server.setDefault((req) => ({ type: 'answer', text: `answer from ${req.model}`, delayMs: 30 }));
      const models = ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.5-flash-lite'];
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
      for (const model of models) {
        const paths = server.requests.filter((r) => r.model === model).map((r) => r.path);
        expect(paths).toHaveLength(4);
        for (const path of paths) expect(path).toMatch(new RegExp(`/models/${model.replace(/\./g, '\\.')}:`));
      }
    });

    it('keeps connections alive across calls (sequential calls reuse pooled sockets, streams included)', async () => {
      const fresh = makeAdapter(mode, server.url);
      try {
        await fresh.generate(request());
        await collectStream(fresh.stream(request()));
        await fresh.generate(request());
        await collectStream(fresh.stream(request()));
      } finally {
        await fresh.close();
      }
      expect(server.requests).toHaveLength(4);
      // undici may open a second socket when a call starts before the previous one's socket is released;
      // the later calls must reuse those sockets rather than open new ones.
      const ports = server.requests.map((r) => r.remotePort);
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

    it('maps a refused connection to connection', async () => {
      const refused = makeAdapter(mode, `http://127.0.0.1:${await closedPort()}`);
      try {
        const error = await providerFailure(refused.generate(request()));
        expect(error).toMatchObject({ kind: 'connection', retryable: true, details: { provider: mode } });
        expect(error.message).toContain('ECONNREFUSED');
      } finally {
        await refused.close();
      }
    });

    it("without LLM_BASE_URL targets Google's endpoint, which the test guard refuses (nothing leaves loopback)", async () => {
      const real = makeAdapter(mode, undefined);
      try {
        const error = await providerFailure(real.generate(request()));
        expect(error.kind).toBe('connection');
        expect(JSON.stringify(error.cause, Object.getOwnPropertyNames(error.cause ?? {}))).toMatch(
          mode === 'vertex' ? /europe-west4-aiplatform\.googleapis\.com/ : /generativelanguage\.googleapis\.com/,
        );
      } finally {
        await real.close();
      }
    });
  },
);

async function waitFor(predicate: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
