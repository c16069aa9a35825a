import { testConfig } from '../../../../test/support/app-config';
import {
  collectStream,
  GEMINI_TEST,
  geminiAdapter,
  providerFailure,
  requestFor,
  useLoopbackAdapter,
} from '../../../../test/support/llm-adapter-helpers';
import { FakeGeminiServer } from '../../../../test/support/fake-gemini-server';
import { GoogleGenAI } from '@google/genai';
import { OAuth2Client } from 'google-auth-library';
import { createServer } from 'node:http';
import { googleEndpoint } from '@app/common';
import { GoogleGenAiLlmAdapter, type GoogleGenAiMode, toUsage } from './google-genai-llm.adapter';

const { project: PROJECT, location: LOCATION, accessToken: ACCESS_TOKEN, apiKey: API_KEY } = GEMINI_TEST;
const request = requestFor('gemini-2.5-flash');

describe.each<GoogleGenAiMode>(['vertex', 'gemini'])(
  'GoogleGenAiLlmAdapter (%s) against a loopback Gemini server',
  (mode) => {
    const context = useLoopbackAdapter(
      () => new FakeGeminiServer().start(),
      (baseUrl) => geminiAdapter(mode, baseUrl),
    );
    const pathFor = (model: string, verb: 'generateContent' | 'streamGenerateContent'): string =>
      mode === 'vertex'
        ? `/v1beta1/projects/${PROJECT}/locations/${LOCATION}/publishers/google/models/${model}:${verb}`
        : `/v1beta/models/${model}:${verb}`;

    it('is a real provider named after its mode', () => {
      expect(context.adapter.name).toBe(mode);
      expect(context.adapter.simulated).toBe(false);
    });

    it('answers, maps usage with cached and thinking tokens, and sends the generation config', async () => {
      context.server.enqueue({
        type: 'answer',
        text: 'Four.',
        thoughts: 'The user asks for a sum; 2 + 2 = 4.',
        usage: { prompt: 120, cached: 48, output: 7, reasoning: 33 },
        model: 'gemini-2.5-flash-001',
      });

      const result = await context.adapter.generate(request());

      expect(result).toEqual({
        text: 'Four.',
        model: 'gemini-2.5-flash-001',
        finishReason: 'stop',
        rawFinishReason: 'STOP',
        usage: {
          inputTokens: 120,
          outputTokens: 7,
          reasoningTokens: 33,
          cachedTokens: 48,
          totalTokens: 160,
          estimated: false,
        },
      });
      expect(context.server.requests).toHaveLength(1);
      const [sent] = context.server.requests;
      expect(sent!.api).toBe(mode);
      expect(sent!.path).toBe(pathFor('gemini-2.5-flash', 'generateContent'));
      expect(sent!.body).toMatchObject({
        contents: [{ role: 'user', parts: [{ text: 'What is two plus two?' }] }],
        systemInstruction: { parts: [{ text: 'Answer briefly.' }] },
        generationConfig: { temperature: 0.2, maxOutputTokens: 256 },
      });
    });

    it(
      mode === 'vertex'
        ? 'authenticates with the OAuth bearer token and no API key'
        : 'authenticates with the API key header and no bearer token',
      async () => {
        await context.adapter.generate(request());
        const { headers } = context.server.requests[0]!;
        if (mode === 'vertex') {
          expect(headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
          expect(headers['x-goog-api-key']).toBeUndefined();
        } else {
          expect(headers['x-goog-api-key']).toBe(API_KEY);
          expect(headers.authorization).toBeUndefined();
        }
      },
    );

    it('reports no usage when the provider sends none (the service estimates)', async () => {
      context.server.enqueue({ type: 'answer', text: 'ok', usage: null });
      const result = await context.adapter.generate(request());
      expect(result.usage).toBeUndefined();
      expect(result.model).toBe('gemini-2.5-flash');
    });

    it('normalises MAX_TOKENS to length', async () => {
      context.server.enqueue({ type: 'answer', text: 'The answer is', finishReason: 'MAX_TOKENS' });
      const result = await context.adapter.generate(request());
      expect(result.finishReason).toBe('length');
      expect(result.rawFinishReason).toBe('MAX_TOKENS');
    });

    it('finishes a function call cut by the output limit (MAX_TOKENS) as length, not tool_calls', async () => {
      context.server.enqueue({
        type: 'raw',
        json: {
          candidates: [
            {
              content: { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Oslo' } } }] },
              finishReason: 'MAX_TOKENS',
              index: 0,
            },
          ],
          usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
        },
      });
      const result = await context.adapter.generate(request());
      expect(result.finishReason).toBe('length');
      expect(result.toolCalls).toEqual([expect.objectContaining({ name: 'get_weather' })]);
    });

    it('streams deltas over SSE, then one done event with the full text and the final usage', async () => {
      context.server.enqueue({
        type: 'answer',
        chunks: ['The answer ', 'is ', 'four.'],
        thoughts: 'thinking out loud',
        usage: { prompt: 50, cached: 10, output: 4, reasoning: 12 },
        model: 'gemini-2.5-flash-002',
      });

      const { deltas, result } = await collectStream(context.adapter.stream(request()));

      expect(deltas).toEqual(['The answer ', 'is ', 'four.']);
      expect(result).toEqual({
        text: 'The answer is four.',
        model: 'gemini-2.5-flash-002',
        finishReason: 'stop',
        rawFinishReason: 'STOP',
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
      expect(sent!.path).toBe(pathFor('gemini-2.5-flash', 'streamGenerateContent'));
      expect(sent!.query.alt).toBe('sse');
      expect(sent!.body).toMatchObject({ generationConfig: { temperature: 0.2, maxOutputTokens: 256 } });
    });

    it.each(['generate', 'stream'] as const)('reports a prompt blocked by safety (%s)', async (how) => {
      context.server.enqueue({ type: 'prompt_block', reason: 'PROHIBITED_CONTENT' });
      const result =
        how === 'generate'
          ? await context.adapter.generate(request())
          : (await collectStream(context.adapter.stream(request()))).result;
      expect(result).toMatchObject({
        text: '',
        finishReason: 'safety',
        safetyBlock: { stage: 'prompt', reason: 'PROHIBITED_CONTENT' },
      });
    });

    it.each(['SAFETY', 'RECITATION', 'SPII', 'BLOCKLIST', 'PROHIBITED_CONTENT'])(
      'reports an answer withheld with finish reason %s as a candidate safety block',
      async (reason) => {
        context.server.enqueue({ type: 'candidate_block', reason });
        const result = await context.adapter.generate(request());
        expect(result).toMatchObject({
          finishReason: 'safety',
          rawFinishReason: reason,
          safetyBlock: { stage: 'candidate', reason },
        });
      },
    );

    it('streams the text sent before a candidate block, then reports the block', async () => {
      context.server.enqueue({ type: 'candidate_block', reason: 'SAFETY', text: 'Here is how you' });
      const { deltas, result } = await collectStream(context.adapter.stream(request()));
      expect(deltas.join('')).toBe('Here is how you');
      expect(result.safetyBlock).toEqual({ stage: 'candidate', reason: 'SAFETY' });
      expect(result.finishReason).toBe('safety');
    });

    it('fails a stream that ends without a finish reason (cut in transit) as invalid_response, after its deltas', async () => {
      const chunk = (text: string): unknown => ({
        candidates: [{ content: { role: 'model', parts: [{ text }] }, index: 0 }],
        usageMetadata: { promptTokenCount: 20, totalTokenCount: 20 },
        modelVersion: 'gemini-2.5-flash',
      });
      context.server.enqueue({ type: 'raw', sse: [chunk('The first half '), chunk('and the second')] });
      const deltas: string[] = [];
      const error = await providerFailure(
        (async () => {
          for await (const event of context.adapter.stream(request())) {
            if (event.type === 'delta') deltas.push(event.text);
          }
        })(),
      );
      expect(deltas).toEqual(['The first half ', 'and the second']);
      expect(error).toMatchObject({ kind: 'invalid_response', details: { provider: mode, status: 200 } });
      expect(error.message).toMatch(/ended before the answer finished/);
    });

    it.each(['generate', 'stream'] as const)(
      'refuses a conversation with no content (one empty user message) as the caller’s bad_request, sending nothing (%s)',
      async (how) => {
        // Not an unreadable answer (invalid_response), which counts towards the model's circuit for every caller.
        const empty = request({ messages: [{ role: 'user', content: '' }] });
        const error = await providerFailure(
          how === 'generate' ? context.adapter.generate(empty) : collectStream(context.adapter.stream(empty)),
        );
        expect(error).toMatchObject({
          kind: 'bad_request',
          retryable: false,
          details: { provider: mode, param: 'messages' },
        });
        expect(context.server.requests).toHaveLength(0);
      },
    );

    it("reads the RetryInfo delay of an error chunk in a stream, as of a whole 429's body", async () => {
      const exhausted = {
        error: {
          code: 429,
          message: 'Resource exhausted. Please try again later.',
          status: 'RESOURCE_EXHAUSTED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }],
        },
      };
      context.server.enqueue({ type: 'raw', sse: [exhausted] });
      const error = await providerFailure(collectStream(context.adapter.stream(request())));
      expect(error).toMatchObject({
        kind: 'rate_limit',
        details: { status: 429, providerCode: 'RESOURCE_EXHAUSTED', retryAfterMs: 7000 },
      });
    });
  },
);

describe('GoogleGenAiLlmAdapter configuration', () => {
  it('uses Application Default Credentials without an authClient, and maps unusable ones to auth', async () => {
    // GOOGLE_APPLICATION_CREDENTIALS is read by google-auth-library itself; a missing file is deterministic.
    const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
    process.env.GOOGLE_APPLICATION_CREDENTIALS = '/nonexistent/application_default_credentials.json';
    const server = await new FakeGeminiServer().start();
    const adc = new GoogleGenAiLlmAdapter(
      testConfig({ LLM_PROVIDER: 'vertex', GOOGLE_CLOUD_PROJECT: PROJECT, LLM_BASE_URL: server.url }),
      'vertex',
    );
    try {
      const error = await providerFailure(adc.generate(request()));
      expect(error).toMatchObject({ kind: 'auth', retryable: false, details: { provider: 'vertex' } });
      expect(server.requests).toHaveLength(0);
    } finally {
      if (saved === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
      else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
      await adc.close();
      await server.close();
    }
  });

  it.each([
    [503, 'server', true],
    [500, 'server', true],
    [429, 'server', true],
    [400, 'auth', false],
  ] as const)(
    'maps a token server that answers %i (refreshing the credentials) to %s, retryable: %s',
    async (status, kind, retryable) => {
      // A real OAuth client refreshing its token at a loopback token endpoint: on Google Cloud the metadata server
      // plays that part, and its 5xx is a blip (retried), not a refusal of our credentials (a 4xx).
      const tokens = createServer((_req, res) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'backend_error', error_description: 'try again' }));
      });
      await new Promise<void>((resolve) => tokens.listen(0, '127.0.0.1', resolve));
      const tokenUrl = `http://127.0.0.1:${(tokens.address() as { port: number }).port}/token`;
      const server = await new FakeGeminiServer().start();
      const authClient = new OAuth2Client({
        clientId: 'test-client',
        clientSecret: 'test-secret',
        endpoints: { oauth2TokenUrl: tokenUrl },
      });
      authClient.setCredentials({ refresh_token: 'test-refresh-token' });
      const adapter = new GoogleGenAiLlmAdapter(
        testConfig({ LLM_PROVIDER: 'vertex', GOOGLE_CLOUD_PROJECT: PROJECT, LLM_BASE_URL: server.url }),
        'vertex',
        { authClient },
      );
      try {
        const error = await providerFailure(adapter.generate(request()));
        expect(error).toMatchObject({ kind, retryable, details: { provider: 'vertex' } });
        expect(server.requests).toHaveLength(0);
      } finally {
        await adapter.close();
        await server.close();
        await new Promise((resolve) => tokens.close(resolve));
      }
    },
  );

  it('refuses vertex mode without a project and gemini mode without a key', () => {
    const config = testConfig({ LLM_PROVIDER: 'simulated' });
    expect(() => new GoogleGenAiLlmAdapter(config, 'vertex')).toThrow(/GOOGLE_CLOUD_PROJECT/);
    expect(() => new GoogleGenAiLlmAdapter(config, 'gemini')).toThrow(/GEMINI_API_KEY/);
  });

  it.each(['us-central1', 'europe-west4', 'global', 'us', 'eu'])(
    "names Google's endpoint for %s as the SDK picks it when given none (it is always passed explicitly)",
    (location) => {
      // No base URL and none in the environment (see the failures spec): the SDK's own choice. Nothing is sent.
      expect(process.env.GOOGLE_VERTEX_BASE_URL).toBeUndefined();
      expect(process.env.GOOGLE_GEMINI_BASE_URL).toBeUndefined();
      const sdkEndpoint = (client: GoogleGenAI): string =>
        (client as unknown as { apiClient: { getBaseUrl(): string } }).apiClient.getBaseUrl();
      const vertex = new GoogleGenAI({ vertexai: true, project: PROJECT, location });
      expect(googleEndpoint('vertex', location)).toBe(sdkEndpoint(vertex));
      expect(googleEndpoint('gemini', location)).toBe(sdkEndpoint(new GoogleGenAI({ apiKey: API_KEY })));
    },
  );
});

describe('Gemini usage metadata', () => {
  it('reads the counts, 0 for the ones Gemini leaves out, and nothing (estimate) for any unreadable one', () => {
    expect(
      toUsage({ promptTokenCount: 100, cachedContentTokenCount: 40, candidatesTokenCount: 7, thoughtsTokenCount: 30 }),
    ).toEqual({
      inputTokens: 100,
      outputTokens: 7,
      reasoningTokens: 30,
      cachedTokens: 40,
      totalTokens: 137,
      estimated: false,
    });
    // A blocked prompt: no candidates count.
    expect(toUsage({ promptTokenCount: 9, totalTokenCount: 9 })).toMatchObject({ outputTokens: 0, totalTokens: 9 });
    for (const odd of [
      { candidatesTokenCount: 3 },
      { promptTokenCount: '9', candidatesTokenCount: 3 },
      { promptTokenCount: 9, candidatesTokenCount: -3 },
      { promptTokenCount: 9, candidatesTokenCount: 3, thoughtsTokenCount: 1.5 },
      { promptTokenCount: 9, candidatesTokenCount: 3, totalTokenCount: Number.POSITIVE_INFINITY },
    ]) {
      expect(toUsage(odd as Parameters<typeof toUsage>[0])).toBeUndefined();
    }
  });
});
