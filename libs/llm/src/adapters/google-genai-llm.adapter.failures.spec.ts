import { describeAdapterFailureContract } from '../../../../test/support/llm-adapter-contract';
import { RESPONSE_LIMIT_HEADER } from '@app/common';
import {
  collectStream,
  GEMINI_TEST,
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

      it('keeps the Google Cloud project (its id, its number) out of the error message: it reaches the problem detail', async () => {
        const denied = {
          error: {
            code: 403,
            message: `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/projects/${GEMINI_TEST.project}/locations/europe-west4/publishers/google/models/gemini-2.5-flash' (or it may not exist).`,
            status: 'PERMISSION_DENIED',
          },
        };
        const missing = {
          error: {
            code: 404,
            message: `Publisher Model \`projects/${GEMINI_TEST.project}/locations/europe-west4/publishers/google/models/gemini-2.5-flash\` was not found or your project ${GEMINI_TEST.project} does not have access to it.`,
            status: 'NOT_FOUND',
          },
        };
        const disabled = {
          error: {
            code: 403,
            message:
              'Vertex AI API has not been used in project 123456789012 before or it is disabled. Enable it by visiting http://localhost/apis/api/aiplatform.googleapis.com/overview?project=123456789012 then retry.',
            status: 'PERMISSION_DENIED',
          },
        };
        for (const body of [denied, missing, disabled]) {
          context.server.enqueue({ type: 'error', status: body.error.code, body });
          const error = await providerFailure(context.adapter.generate(request()));
          expect(error.details.status).toBe(body.error.code);
          expect(error.message).not.toContain(GEMINI_TEST.project);
          expect(error.message).not.toContain('123456789012');
          expect(error.message).toContain('<project>');
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
