import { badHostHeader, buildProblem, parseJsonBody } from '@app/common';
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
