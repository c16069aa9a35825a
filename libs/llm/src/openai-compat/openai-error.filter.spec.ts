import { badHostHeader, buildProblem, parseJsonBody } from '@app/common';
import { LlmCallFailedError, type FailureContext } from '../llm.errors';
import { toOpenAiError } from './openai-error.filter';

/** The OpenAI error a thrown failure leaves /v1 as. */
function openAiOf(thrown: unknown): { status: number; code: string | null; type: string; ours: string | undefined } {
  const response = toOpenAiError(thrown, buildProblem(thrown, { instance: '/v1/chat/completions' }));
  return {
    status: response.status,
    code: response.body.error.code,
    type: response.body.error.type,
    ours: response.headers['x-control-plane-error-code'],
  };
}

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('nothing was thrown');
}

/** Fastify's own request errors, as its router and body parser raise them (a code and a 4xx status). */
function fastifyError(code: string, status: number): Error {
  return Object.assign(new Error(code), { code, statusCode: status });
}

describe('toOpenAiError: what a malformed request is called', () => {
  it('a body that is not JSON is invalid_json', () => {
    const json = { headers: { 'content-type': 'application/json' } };
    expect(openAiOf(thrownBy(() => parseJsonBody(json, '{"model":')))).toEqual({
      status: 400,
      code: 'invalid_json',
      type: 'invalid_request_error',
      ours: 'MALFORMED_REQUEST',
    });
    expect(openAiOf(thrownBy(() => parseJsonBody(json, '  ')))).toMatchObject({ code: 'invalid_json' });
    expect(openAiOf(fastifyError('FST_ERR_CTP_INVALID_JSON_BODY', 400))).toMatchObject({ code: 'invalid_json' });
  });

  it('a path that is not UTF-8 is invalid_url, not invalid_json', () => {
    expect(openAiOf(fastifyError('FST_ERR_BAD_URL', 400))).toEqual({
      status: 400,
      code: 'invalid_url',
      type: 'invalid_request_error',
      ours: 'MALFORMED_REQUEST',
    });
  });

  it('a request without a Host, or with two, is invalid_request', () => {
    const noHost = badHostHeader({ headers: {}, raw: { httpVersionMajor: 1, httpVersionMinor: 1 } });
    const twoHosts = badHostHeader({
      headers: { host: '127.0.0.1' },
      raw: { httpVersionMajor: 1, httpVersionMinor: 1, rawHeaders: ['Host', '127.0.0.1', 'Host', 'localhost'] },
    });
    expect(openAiOf(noHost)).toMatchObject({ status: 400, code: 'invalid_request', ours: 'MALFORMED_REQUEST' });
    expect(openAiOf(twoHosts)).toMatchObject({ status: 400, code: 'invalid_request', ours: 'MALFORMED_REQUEST' });
  });
});

describe("toOpenAiError: a provider's refusal", () => {
  const failure = (code: 'PROVIDER_REJECTED_REQUEST' | 'UPSTREAM_ERROR', context: Partial<FailureContext>) =>
    new LlmCallFailedError(code, 'refused', {
      provider: 'openai',
      model: 'gpt-4o-mini',
      modelsTried: ['gpt-4o-mini'],
      attempts: 1,
      lastUpstreamStatus: 400,
      lastErrorKind: 'bad_request',
      retryAfterSeconds: null,
      ...context,
    });
  const render = (thrown: unknown) => toOpenAiError(thrown, buildProblem(thrown, { instance: '/v1/chat/completions' }));

  it("of the request itself is a 400 with the provider's code and param (context_length_exceeded)", () => {
    const response = render(
      failure('PROVIDER_REJECTED_REQUEST', { providerCode: 'context_length_exceeded', param: 'messages' }),
    );
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
      param: 'messages',
    });
    expect(response.headers['x-control-plane-error-code']).toBe('PROVIDER_REJECTED_REQUEST');
    expect(render(failure('PROVIDER_REJECTED_REQUEST', { providerCode: 'INVALID_ARGUMENT' })).body.error).toMatchObject(
      { code: 'invalid_argument', param: null },
    );
  });

  it('of our credentials or quota is a 502 the SDK must not retry', () => {
    for (const kind of ['auth', 'quota_exhausted'] as const) {
      const response = render(failure('UPSTREAM_ERROR', { lastErrorKind: kind, lastUpstreamStatus: 429 }));
      expect(response.status).toBe(502);
      expect(response.headers['x-should-retry']).toBe('false');
    }
    expect(render(failure('UPSTREAM_ERROR', { lastErrorKind: 'server' })).headers['x-should-retry']).toBeUndefined();
  });
});
