import { LlmProviderError } from '../ports/llm-provider.port';
import { abortKind, parseRetryAfter, retryAfterFrom, toProviderError, upstreamMessage } from './upstream-errors';
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
