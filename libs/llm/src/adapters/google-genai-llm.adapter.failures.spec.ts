import { describeAdapterFailureContract } from '../../../../test/support/llm-adapter-contract';
import { RESPONSE_LIMIT_HEADER } from '@app/common';
import {
  collectStream,
  geminiAdapter,
  providerFailure,
  requestFor,
} from '../../../../test/support/llm-adapter-helpers';
import { FakeGeminiServer, GEMINI_FLOOD_FORMAT } from '../../../../test/support/fake-gemini-server';
import { type GoogleGenAiMode } from './google-genai-llm.adapter';

const request = requestFor('gemini-2.5-flash');
const escaped = (model: string): string => model.replace(/\./g, '\\.');

for (const mode of ['vertex', 'gemini'] as const satisfies readonly GoogleGenAiMode[]) {
  describeAdapterFailureContract(
    `GoogleGenAiLlmAdapter (${mode}) against a loopback Gemini server`,
    {
      provider: mode,
      model: 'gemini-2.5-flash',
      concurrentModels: ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.5-flash-lite'],
      requestPath: (model) => new RegExp(`/models/${escaped(model)}:`),
      startServer: () => new FakeGeminiServer().start(),
      floodFormat: GEMINI_FLOOD_FORMAT,
      makeAdapter: (baseUrl) => geminiAdapter(mode, baseUrl),
    },
    (context) => {
      it('hands its response limit to the fetch only: the limit header is never sent, nor the option in the body', async () => {
        await context.adapter.generate(request());
        await collectStream(context.adapter.stream(request()));
        for (const sent of context.server.requests) {
          expect(sent.headers[RESPONSE_LIMIT_HEADER]).toBeUndefined();
          expect(sent.rawBody).not.toMatch(/httpOptions|x-lrcp/i);
        }
      });

      it("reads Google's RetryInfo.retryDelay from the error body when there is no Retry-After header", async () => {
        context.server.enqueue({ type: 'error', status: 429, retryDelay: '17s' });
        const error = await providerFailure(context.adapter.generate(request()));
        expect(error.details.retryAfterMs).toBe(17_000);
      });

      it("without LLM_BASE_URL targets Google's endpoint, which the test guard refuses (nothing leaves loopback)", async () => {
        const real = geminiAdapter(mode, undefined);
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

      it("without LLM_BASE_URL ignores the SDK's own base URL variables (GOOGLE_VERTEX_BASE_URL, GOOGLE_GEMINI_BASE_URL)", async () => {
        // Read by @google/genai from the process environment when it is given no base URL: they would send every
        // prompt and credential to a host that no setting of the service names (and the startup line would not show).
        const saved = { vertex: process.env.GOOGLE_VERTEX_BASE_URL, gemini: process.env.GOOGLE_GEMINI_BASE_URL };
        process.env.GOOGLE_VERTEX_BASE_URL = context.server.url;
        process.env.GOOGLE_GEMINI_BASE_URL = context.server.url;
        const real = geminiAdapter(mode, undefined);
        try {
          const error = await providerFailure(real.generate(request()));
          expect(context.server.requests).toHaveLength(0);
          expect(error.kind).toBe('connection');
          expect(JSON.stringify(error.cause, Object.getOwnPropertyNames(error.cause ?? {}))).toMatch(
            mode === 'vertex' ? /europe-west4-aiplatform\.googleapis\.com/ : /generativelanguage\.googleapis\.com/,
          );
        } finally {
          await real.close();
          for (const [name, value] of [
            ['GOOGLE_VERTEX_BASE_URL', saved.vertex],
            ['GOOGLE_GEMINI_BASE_URL', saved.gemini],
          ] as const) {
            if (value === undefined) delete process.env[name];
            else process.env[name] = value;
          }
        }
      });
    },
  );
}
