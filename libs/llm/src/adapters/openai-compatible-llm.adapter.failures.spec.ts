import { testConfig } from '../../../../test/support/app-config';
import { describeAdapterFailureContract } from '../../../../test/support/llm-adapter-contract';
import {
  OPENAI_TEST_API_KEY,
  openAiAdapter,
  providerFailure,
  requestFor,
} from '../../../../test/support/llm-adapter-helpers';
import { FakeOpenAiServer } from '../../../../test/support/fake-openai-server';
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

    it('refuses to start without a base URL', () => {
      expect(() => new OpenAiCompatibleLlmAdapter(testConfig({ LLM_PROVIDER: 'simulated' }))).toThrow(
        /OPENAI_BASE_URL/,
      );
    });
  },
);
