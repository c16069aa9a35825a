import { testConfig } from '../../../../test/support/app-config';
import { describeAdapterFailureContract } from '../../../../test/support/llm-adapter-contract';
import {
  collectStream,
  HostileUpstream,
  OPENAI_TEST_API_KEY,
  openAiAdapter,
  providerFailure,
  requestFor,
} from '../../../../test/support/llm-adapter-helpers';
import { FakeOpenAiServer, OPENAI_FLOOD_FORMAT } from '../../../../test/support/fake-openai-server';
import { OpenAiCompatibleLlmAdapter } from './openai-compatible-llm.adapter';

const request = requestFor('llama3.2:3b');

describeAdapterFailureContract(
  'OpenAiCompatibleLlmAdapter against a loopback chat-completions server',
  {
    provider: 'openai',
    model: 'llama3.2:3b',
    concurrentModels: ['llama3.2:3b', 'qwen3:8b', 'mistral-small:24b'],
    requestPath: () => /^\/v1\/chat\/completions$/,
    startServer: () => new FakeOpenAiServer().start(),
    floodFormat: OPENAI_FLOOD_FORMAT,
    makeAdapter: (baseUrl) => openAiAdapter({ OPENAI_BASE_URL: baseUrl, OPENAI_API_KEY: OPENAI_TEST_API_KEY }),
    extraStatuses: [[422, 'bad_request', false]],
  },
  (context) => {
    it('reads retry-after-ms first when both it and Retry-After are sent', async () => {
      context.server.enqueue({ type: 'error', status: 429, retryAfter: '9', headers: { 'retry-after-ms': '1500' } });
      expect((await providerFailure(context.adapter.generate(request()))).details.retryAfterMs).toBe(1_500);
    });

    it('sends no Authorization header without OPENAI_API_KEY, accepts a base ending in /v1, and LLM_BASE_URL wins', async () => {
      const keyless = openAiAdapter({
        OPENAI_BASE_URL: 'http://127.0.0.1:9',
        LLM_BASE_URL: `${context.server.url}/v1/`,
      });
      try {
        await keyless.generate(request());
      } finally {
        await keyless.close();
      }
      expect(context.server.requests[0]!.path).toBe('/v1/chat/completions');
      expect(context.server.requests[0]!.headers.authorization).toBeUndefined();
    });

    it('caps every call with LLM_MAX_RESPONSE_BYTES, and the error names it', async () => {
      const hostile = await new HostileUpstream(OPENAI_FLOOD_FORMAT).start();
      const capped = openAiAdapter({ OPENAI_BASE_URL: hostile.url, LLM_MAX_RESPONSE_BYTES: '65536' });
      try {
        hostile.serve({ kind: 'json', bytes: 1024 * 1024 });
        const error = await providerFailure(capped.generate(request({ maxOutputTokens: 8192 })));
        expect(error.kind).toBe('invalid_response');
        expect(error.message).toMatch(/exceeded 65536 bytes.*LLM_MAX_RESPONSE_BYTES/);
        hostile.serve({ kind: 'sse' });
        const streamed = await providerFailure(collectStream(capped.stream(request({ maxOutputTokens: 8192 }))));
        expect(streamed.message).toMatch(/stream exceeded 65536 bytes/);
      } finally {
        await capped.close();
        await hostile.close();
      }
    });

    it('refuses to start without a base URL', () => {
      expect(() => new OpenAiCompatibleLlmAdapter(testConfig({ LLM_PROVIDER: 'simulated' }))).toThrow(
        /OPENAI_BASE_URL/,
      );
    });
  },
);
