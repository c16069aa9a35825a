import { LlmProviderError } from '../ports/llm-provider.port';
import {
  abortKind,
  timeoutText,
  classifyErrorBody,
  parseGoDuration,
  parseRetryAfter,
  retryAfterFrom,
  toProviderError,
  upstreamHttpError,
  upstreamMessage,
} from './upstream-errors';
import { UpstreamConnectionError } from '@app/common';
import { UpstreamHttpError } from './upstream-http.error';

const NOW = Date.parse('2026-11-28T12:00:00Z');

describe('Retry-After parsing', () => {
  it('reads delta-seconds, decimals included', () => {
    expect(parseRetryAfter('30', NOW)).toBe(30_000);
    expect(parseRetryAfter(' 1.5 ', NOW)).toBe(1_500);
  });

  it('reads an HTTP date relative to now, and a past date as 0', () => {
    expect(parseRetryAfter('Sat, 28 Nov 2026 12:00:45 GMT', NOW)).toBe(45_000);
    expect(parseRetryAfter('Sat, 28 Nov 2026 11:00:00 GMT', NOW)).toBe(0);
  });

  it('ignores absent or unreadable values and caps absurd ones at a day', () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfter('', NOW)).toBeUndefined();
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter('-5', NOW)).toBeUndefined();
    expect(parseRetryAfter('99999999', NOW)).toBe(24 * 3600 * 1000);
  });

  it('prefers retry-after-ms, then Retry-After, then RetryInfo in the body', () => {
    const body = '{"error":{"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"12.5s"}]}}';
    expect(retryAfterFrom({ 'retry-after-ms': '250', 'retry-after': '3' }, body, NOW)).toBe(250);
    expect(retryAfterFrom({ 'retry-after': '3' }, body, NOW)).toBe(3_000);
    expect(retryAfterFrom({}, body, NOW)).toBe(12_500);
    expect(retryAfterFrom({}, '{"error":{"message":"slow down"}}', NOW)).toBeUndefined();
  });
});

describe('upstreamMessage', () => {
  it('takes error.message from a JSON body and truncates long text', () => {
    expect(upstreamMessage('{"error":{"message":"quota  exceeded\\n for model"}}')).toBe('quota exceeded for model');
    expect(upstreamMessage('x'.repeat(1000))).toHaveLength(301);
  });
});

describe('toProviderError', () => {
  const live = new AbortController().signal;
  const context = { provider: 'openai' as const, model: 'm', signal: live };

  it('lets an HTTP status win over an aborted signal', () => {
    const error = toProviderError(new UpstreamHttpError(503, 'busy', 1_000), {
      ...context,
      signal: AbortSignal.abort(),
    });
    expect(error).toMatchObject({ kind: 'server', details: { status: 503, retryAfterMs: 1_000 } });
  });

  it('classifies aborts by the signal reason: TimeoutError or a timeout LlmProviderError is a timeout', () => {
    const timeoutReason = new DOMException('timed out', 'TimeoutError');
    const serviceReason = new LlmProviderError('timeout', 'attempt timed out', { provider: 'openai', model: 'm' });
    expect(abortKind(AbortSignal.abort(timeoutReason))).toBe('timeout');
    expect(abortKind(AbortSignal.abort(serviceReason))).toBe('timeout');
    expect(abortKind(AbortSignal.any([new AbortController().signal, AbortSignal.abort(timeoutReason)]))).toBe(
      'timeout',
    );
    expect(abortKind(AbortSignal.abort())).toBe('aborted');
    expect(abortKind(live)).toBeUndefined();
  });

  it("says which timeout cut the request, in its timer's words (the setting to raise)", () => {
    const reason = new DOMException('no stream event for 30000 ms (LLM_TIMEOUT_MS)', 'TimeoutError');
    const error = toProviderError(new Error('This operation was aborted'), {
      ...context,
      signal: AbortSignal.abort(reason),
    });
    expect(error.kind).toBe('timeout');
    expect(error.message).toBe('openai m: no stream event for 30000 ms (LLM_TIMEOUT_MS) (request aborted)');
    expect(timeoutText(AbortSignal.abort(new DOMException('', 'TimeoutError')))).toBe('the attempt timed out');
  });

  it('maps undici timeouts to timeout and transport failures to connection', () => {
    const headersTimeout = Object.assign(new Error('Headers Timeout Error'), { code: 'UND_ERR_HEADERS_TIMEOUT' });
    expect(toProviderError(new UpstreamConnectionError(headersTimeout), context).kind).toBe('timeout');
    expect(toProviderError(new UpstreamConnectionError(new Error('guard refused')), context).kind).toBe('connection');
    const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    expect(toProviderError(reset, context).kind).toBe('connection');
  });

  it('maps unreadable bodies and codeless surprises to invalid_response', () => {
    expect(toProviderError(new SyntaxError('Unexpected token'), context).kind).toBe('invalid_response');
    expect(toProviderError(new Error('weird'), context).kind).toBe('invalid_response');
  });
});

/** Error bodies as the providers send them (the words of their documentation and of reported answers). */
const OPENAI_CONTEXT = JSON.stringify({
  error: {
    message:
      "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. Please reduce the length of the messages.",
    type: 'invalid_request_error',
    param: 'messages',
    code: 'context_length_exceeded',
  },
});
const OPENAI_QUOTA = JSON.stringify({
  error: {
    message: 'You exceeded your current quota, please check your plan and billing details.',
    type: 'insufficient_quota',
    param: null,
    code: 'insufficient_quota',
  },
});
const GEMINI_CONTEXT = JSON.stringify({
  error: {
    code: 400,
    message: 'The input token count (1201234) exceeds the maximum number of tokens allowed (1048576).',
    status: 'INVALID_ARGUMENT',
  },
});
const GEMINI_BAD_KEY = JSON.stringify({
  error: {
    code: 400,
    message: 'API key not valid. Please pass a valid API key.',
    status: 'INVALID_ARGUMENT',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'API_KEY_INVALID',
        domain: 'googleapis.com',
        metadata: { service: 'generativelanguage.googleapis.com' },
      },
    ],
  },
});
const GEMINI_PRECONDITION = JSON.stringify({
  error: {
    code: 400,
    message: 'User location is not supported for the API use.',
    status: 'FAILED_PRECONDITION',
  },
});

const context = { provider: 'openai' as const, model: 'm', signal: new AbortController().signal };
const mapped = (status: number, body: string, headers = {}): LlmProviderError =>
  toProviderError(upstreamHttpError(status, headers, body), context);

describe('what an error body says beyond its status', () => {
  it("a prompt over the model's window is context_length_exceeded, in OpenAI's, Gemini's or llama.cpp's words", () => {
    expect(classifyErrorBody(400, OPENAI_CONTEXT)).toEqual({
      providerCode: 'context_length_exceeded',
      param: 'messages',
    });
    expect(classifyErrorBody(400, GEMINI_CONTEXT)).toEqual({ providerCode: 'context_length_exceeded' });
    const llamaCpp = JSON.stringify({
      error: {
        code: 400,
        message: 'the request exceeds the available context size',
        type: 'exceed_context_size_error',
      },
    });
    expect(classifyErrorBody(400, llamaCpp).providerCode).toBe('context_length_exceeded');
    const error = mapped(400, OPENAI_CONTEXT);
    expect(error).toMatchObject({ kind: 'bad_request', retryable: false });
    expect(error.details).toMatchObject({ status: 400, providerCode: 'context_length_exceeded', param: 'messages' });
  });

  it('an invalid argument keeps its code and param', () => {
    const body = JSON.stringify({
      error: {
        message: "Invalid value for 'temperature'",
        type: 'invalid_request_error',
        param: 'temperature',
        code: 'invalid_value',
      },
    });
    expect(mapped(400, body).details).toMatchObject({ providerCode: 'invalid_value', param: 'temperature' });
    expect(mapped(400, GEMINI_CONTEXT.replace('The input token count', 'Some count')).details.providerCode).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it("OpenAI's 429 insufficient_quota is quota_exhausted: not retried (waiting does not clear it)", () => {
    const error = mapped(429, OPENAI_QUOTA);
    expect(error).toMatchObject({ kind: 'quota_exhausted', retryable: false });
    expect(error.details.providerCode).toBe('insufficient_quota');
    const limited = JSON.stringify({
      error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' },
    });
    expect(mapped(429, limited)).toMatchObject({ kind: 'rate_limit', retryable: true });
  });

  it("Gemini's 400 API_KEY_INVALID and FAILED_PRECONDITION are ours (auth), not the caller's bad request", () => {
    expect(mapped(400, GEMINI_BAD_KEY)).toMatchObject({ kind: 'auth', retryable: false });
    expect(mapped(400, GEMINI_BAD_KEY).details.providerCode).toBe('API_KEY_INVALID');
    expect(mapped(400, GEMINI_PRECONDITION).kind).toBe('auth');
    expect(mapped(400, GEMINI_CONTEXT).kind).toBe('bad_request');
  });

  it('a body that is not JSON, or JSON without an error object, changes nothing', () => {
    expect(classifyErrorBody(502, '<html><title>502 Bad Gateway</title></html>')).toEqual({});
    expect(classifyErrorBody(400, '[1, 2]')).toEqual({});
    expect(classifyErrorBody(400, 'null')).toEqual({});
    expect(mapped(500, '{"error": "boom"}').kind).toBe('server');
  });
});

describe("OpenAI's x-ratelimit-reset headers", () => {
  it('reads Go durations', () => {
    expect(parseGoDuration('20s')).toBe(20_000);
    expect(parseGoDuration('1m30s')).toBe(90_000);
    expect(parseGoDuration('6m0s')).toBe(360_000);
    expect(parseGoDuration('250ms')).toBe(250);
    expect(parseGoDuration('1.5s')).toBe(1_500);
    expect(parseGoDuration('1h2m3s')).toBe(3_723_000);
    for (const bad of [undefined, '', 'soon', '5', '-3s', 's']) expect(parseGoDuration(bad)).toBeUndefined();
  });

  it('a 429 without Retry-After waits for the exhausted limit to reset (else the sooner one)', () => {
    const reset = { 'x-ratelimit-reset-requests': '2.5s', 'x-ratelimit-reset-tokens': '40ms' };
    expect(retryAfterFrom({ ...reset, 'x-ratelimit-remaining-requests': '0' }, '', NOW)).toBe(2_500);
    expect(retryAfterFrom({ ...reset, 'x-ratelimit-remaining-tokens': '0' }, '', NOW)).toBe(40);
    expect(retryAfterFrom(reset, '', NOW)).toBe(40);
    expect(retryAfterFrom({ ...reset, 'retry-after': '3' }, '', NOW)).toBe(3_000);
    expect(mapped(429, '{}', { ...reset, 'x-ratelimit-remaining-requests': '0' }).details.retryAfterMs).toBe(2_500);
  });
});

describe('an HTML error page (a proxy in front of the provider)', () => {
  it('is named by its title, or its text without markup', () => {
    const page =
      '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
    expect(upstreamMessage(page)).toBe('502 Bad Gateway (an HTML page: a proxy in front of the provider?)');
    expect(
      upstreamMessage('<!DOCTYPE html><html><body><h1>Service &amp; more</h1><script>x()</script></body></html>'),
    ).toBe('Service & more (an HTML page: a proxy in front of the provider?)');
    expect(upstreamMessage('plain text <b>kept</b>')).toBe('plain text <b>kept</b>');
  });
});
