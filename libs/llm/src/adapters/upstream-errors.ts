import { headOf, UpstreamConnectionError, UpstreamResponseTooLargeError } from '@app/common';
import type { LlmProviderName } from '@app/config';
import type { IncomingHttpHeaders } from 'node:http';
import { type LlmErrorKind, LlmProviderError, type LlmProviderErrorDetails } from '../ports/llm-provider.port';
import { type UpstreamErrorBody, UpstreamHttpError } from './upstream-http.error';

const MAX_MESSAGE_CHARS = 300;
/** A Retry-After beyond this is treated as this (a provider asking for a day is not waited for). */
const MAX_RETRY_AFTER_MS = 24 * 3600 * 1000;

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The error kind for an HTTP status (only called for non-2xx). */
export function kindForStatus(status: number): LlmErrorKind {
  if (status === 429) return 'rate_limit';
  if (status === 408 || status === 504) return 'timeout';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not_found';
  if (status >= 500) return 'server';
  if (status >= 400) return 'bad_request';
  return 'invalid_response'; // 1xx/3xx: nothing an LLM call should answer
}

/**
 * Parses `Retry-After` (delta-seconds or an HTTP date) into milliseconds from `now`; undefined when absent
 * or unreadable. A date in the past gives 0.
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return clampDelay(Number(trimmed) * 1000);
  // An HTTP date always names its day and month ("Wed, 21 Oct 2015 07:28:00 GMT"); anything else, such as a
  // negative number that Date.parse would read as a year, is not one.
  if (!/^[a-z]{3},/i.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : clampDelay(at - now);
}

/**
 * The retry delay of a failed response: `retry-after-ms` (OpenAI), then `Retry-After`, then Google's
 * `google.rpc.RetryInfo` detail in a JSON error body (`"retryDelay": "17s"`, what the Gemini API sends on 429), then
 * OpenAI's `x-ratelimit-reset-requests` / `-tokens` (`"1m30s"`, `"250ms"`: when the exhausted limit is whole again;
 * the one whose `x-ratelimit-remaining-*` is 0, else the sooner).
 */
export function retryAfterFrom(headers: IncomingHttpHeaders, body: string, now = Date.now()): number | undefined {
  const ms = firstHeader(headers['retry-after-ms']);
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return clampDelay(Number(ms.trim()));
  const header = parseRetryAfter(firstHeader(headers['retry-after']), now);
  if (header !== undefined) return header;
  const match = body.includes('RetryInfo') ? /"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"/.exec(body) : null;
  if (match?.[1] !== undefined) return clampDelay(Number(match[1]) * 1000);
  return rateLimitReset(headers);
}

/** OpenAI's `x-ratelimit-reset-*` headers (see `retryAfterFrom`); undefined when none is readable. */
function rateLimitReset(headers: IncomingHttpHeaders): number | undefined {
  const limits = ['requests', 'tokens'].flatMap((limit) => {
    const reset = parseGoDuration(firstHeader(headers[`x-ratelimit-reset-${limit}`]));
    if (reset === undefined) return [];
    return [{ reset, exhausted: firstHeader(headers[`x-ratelimit-remaining-${limit}`])?.trim() === '0' }];
  });
  const exhausted = limits.filter((limit) => limit.exhausted);
  const resets = (exhausted.length > 0 ? exhausted : limits).map((limit) => limit.reset);
  if (resets.length === 0) return undefined;
  return clampDelay(exhausted.length > 0 ? Math.max(...resets) : Math.min(...resets));
}

/** A duration as OpenAI writes it (Go's format): `6m0s`, `1.5s`, `250ms`, `1h2m3s`; undefined otherwise. */
export function parseGoDuration(value: string | undefined): number | undefined {
  const match = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/.exec(
    value?.trim() ?? '',
  );
  if (match === null || match.slice(1).every((part) => part === undefined)) return undefined;
  const [h = 0, m = 0, sec = 0, msec = 0] = match.slice(1).map((part) => (part === undefined ? 0 : Number(part)));
  return ((h * 60 + m) * 60 + sec) * 1000 + msec;
}

/**
 * The human part of a provider's error body: `error.message` of a JSON body, else the text (of an HTML page, such as a
 * proxy's 502, its title, else its text without the markup), truncated.
 */
export function upstreamMessage(body: string): string {
  let message = body;
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
    if (typeof parsed.error === 'string') message = parsed.error;
    else if (typeof parsed.error?.message === 'string') message = parsed.error.message;
    else if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    if (/^\s*<(!doctype|html|head|body)\b/i.test(body)) message = htmlText(body);
  }
  message = message.replace(/\s+/g, ' ').trim();
  return message.length > MAX_MESSAGE_CHARS ? `${headOf(message, MAX_MESSAGE_CHARS)}…` : message;
}

/** An HTML error page as text: its `<title>`, else its text without tags, scripts or styles. */
function htmlText(html: string): string {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(html)?.[1]?.trim();
  const text =
    title !== undefined && title !== ''
      ? title
      : html
          .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
          .replace(/<[^>]*>/g, ' ')
          .trim();
  return `${text.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>')} (an HTML page: a proxy in front of the provider?)`;
}

/** What the messages of a prompt over the model's context window say, across providers and servers. */
const CONTEXT_LENGTH_MESSAGE =
  /maximum context length|context[ _]length[ _]exceeded|exceeds? the (available )?context (size|window|length)|input token count.*exceeds the maximum|prompt is too long/i;

/**
 * What a JSON error body says beyond its status: the provider's code (OpenAI `error.code`, else `error.type`; Google
 * `ErrorInfo.reason`, else `error.status`), the field it names (`error.param`), and the kind when the body changes it:
 * - a 429 `insufficient_quota` (OpenAI: billing, no credit left) is `quota_exhausted`: waiting does not clear it;
 * - a 400 that refuses our API key (Google `API_KEY_INVALID`) or our account (`FAILED_PRECONDITION`: billing or region)
 *   is `auth`: our configuration, not the caller's request.
 * A prompt over the model's window is `providerCode: context_length_exceeded`, whichever words the provider used.
 */
export function classifyErrorBody(status: number, body: string): UpstreamErrorBody {
  let error: Record<string, unknown> | undefined;
  try {
    const parsed = JSON.parse(body) as unknown;
    const candidate = (Array.isArray(parsed) ? parsed[0] : parsed) as { error?: unknown } | null;
    if (candidate !== null && typeof candidate === 'object' && typeof candidate.error === 'object') {
      error = (candidate.error ?? undefined) as Record<string, unknown> | undefined;
    }
  } catch {
    // not JSON
  }
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' && value.trim() !== '' ? headOf(value.trim(), 100) : undefined;
  const details = Array.isArray(error?.details) ? (error.details as unknown[]) : [];
  const reason = details
    .map((detail) => text((detail as { reason?: unknown } | null)?.reason))
    .find((value) => value !== undefined);
  const googleStatus = text(error?.status);
  let providerCode = text(error?.code) ?? reason ?? text(error?.type) ?? googleStatus;
  const message = typeof error?.message === 'string' ? error.message : upstreamMessage(body);
  if (
    status >= 400 &&
    status < 500 &&
    status !== 429 &&
    (CONTEXT_LENGTH_MESSAGE.test(message) || providerCode === 'exceed_context_size_error')
  ) {
    providerCode = 'context_length_exceeded';
  }
  const param = text(error?.param);
  let kind: LlmErrorKind | undefined;
  if (status === 429 && (providerCode === 'insufficient_quota' || text(error?.type) === 'insufficient_quota')) {
    kind = 'quota_exhausted';
  } else if (status === 400 && (reason === 'API_KEY_INVALID' || googleStatus === 'FAILED_PRECONDITION')) {
    kind = 'auth';
  }
  return {
    ...(kind !== undefined ? { kind } : {}),
    ...(providerCode !== undefined ? { providerCode } : {}),
    ...(param !== undefined ? { param } : {}),
  };
}

/**
 * How the caller's signal was aborted: `timeout` when its reason is a `TimeoutError` (what
 * `AbortSignal.timeout()` uses, also through `AbortSignal.any`) or an `LlmProviderError` of kind timeout;
 * otherwise `aborted` (the client went away). Undefined when the signal is not aborted.
 */
export function abortKind(signal: AbortSignal): 'timeout' | 'aborted' | undefined {
  if (!signal.aborted) return undefined;
  const reason: unknown = signal.reason;
  if (reason instanceof LlmProviderError) return reason.kind === 'timeout' ? 'timeout' : 'aborted';
  return (reason as { name?: unknown } | undefined)?.name === 'TimeoutError' ? 'timeout' : 'aborted';
}

/**
 * What ended a timed-out attempt, in its timer's own words (which timeout, how long, which setting: "attempt timed
 * out after 30000 ms (LLM_TIMEOUT_MS)", "no stream event for …"), else "the attempt timed out".
 */
export function timeoutText(signal: AbortSignal): string {
  const message = (signal.reason as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && message.length > 0 ? message : 'the attempt timed out';
}

/** The first Node/undici error code found on the error or its `cause` chain. */
export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What an adapter makes of a failure `toProviderError` does not know (an SDK's own error types). */
type FailureDetails = Pick<LlmProviderErrorDetails, 'status' | 'retryAfterMs' | 'providerCode' | 'param'>;
export type AdapterFailure = FailureDetails & { kind: LlmErrorKind; message: string };

export interface ErrorContext {
  provider: LlmProviderName;
  model: string;
  signal: AbortSignal;
}

/**
 * Maps any failure of one call to an `LlmProviderError`. Order: an HTTP status wins (the upstream did answer);
 * then the caller's abort (timeout vs client gone); then socket-level errors; `fallback` decides the rest.
 */
export function toProviderError(
  error: unknown,
  context: ErrorContext,
  fallback: (error: unknown) => AdapterFailure | undefined = () => undefined,
): LlmProviderError {
  if (error instanceof LlmProviderError) return error;
  const { provider, model, signal } = context;
  if (error instanceof UpstreamHttpError) {
    const { kind, providerCode, param } = error.body;
    return new LlmProviderError(
      kind ?? kindForStatus(error.status),
      `${provider} ${model}: ${error.message}`,
      {
        provider,
        model,
        status: error.status,
        retryAfterMs: error.retryAfterMs,
        ...(providerCode !== undefined ? { providerCode } : {}),
        ...(param !== undefined ? { param } : {}),
      },
      { cause: error },
    );
  }
  const tooLarge = responseTooLarge(error);
  if (tooLarge !== undefined) {
    return new LlmProviderError(
      'invalid_response',
      `${provider} ${model}: ${tooLarge.message}, the limit of this call (1 KiB per max output token, at least 1 MiB, ` +
        'at most LLM_MAX_RESPONSE_BYTES); the connection was closed',
      { provider, model, status: 200 },
      { cause: error },
    );
  }
  const aborted = abortKind(signal);
  if (aborted !== undefined) {
    const message =
      aborted === 'timeout' ? `${timeoutText(signal)} (request aborted)` : 'the request was aborted by the caller';
    return new LlmProviderError(aborted, `${provider} ${model}: ${message}`, { provider, model }, { cause: error });
  }
  const code = errorCode(error);
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return new LlmProviderError(
      'timeout',
      `${provider} ${model}: upstream too slow (${code})`,
      { provider, model },
      {
        cause: error,
      },
    );
  }
  if (code !== undefined && CONNECTION_CODES.has(code)) {
    return new LlmProviderError(
      'connection',
      `${provider} ${model}: connection failed (${code})`,
      { provider, model },
      {
        cause: error,
      },
    );
  }
  if (error instanceof UpstreamConnectionError) {
    return new LlmProviderError(
      'connection',
      `${provider} ${model}: ${truncate(error.message)}`,
      { provider, model },
      {
        cause: error,
      },
    );
  }
  const mapped = fallback(error);
  if (mapped !== undefined) {
    return new LlmProviderError(
      mapped.kind,
      `${provider} ${model}: ${mapped.message}`,
      {
        provider,
        model,
        status: mapped.status,
        ...(mapped.retryAfterMs !== undefined ? { retryAfterMs: mapped.retryAfterMs } : {}),
        ...(mapped.providerCode !== undefined ? { providerCode: mapped.providerCode } : {}),
        ...(mapped.param !== undefined ? { param: mapped.param } : {}),
      },
      { cause: error },
    );
  }
  if ((error as { name?: unknown } | null)?.name === 'SyntaxError') {
    return new LlmProviderError(
      'invalid_response',
      `${provider} ${model}: unreadable response body`,
      { provider, model },
      {
        cause: error,
      },
    );
  }
  // Any other socket-level failure (it has a system or undici code) counts as a connection failure; a failure
  // with no code at all is something the adapter could not make sense of.
  const message = error instanceof Error ? error.message : String(error);
  return new LlmProviderError(
    code !== undefined ? 'connection' : 'invalid_response',
    `${provider} ${model}: ${truncate(message)}`,
    { provider, model },
    { cause: error },
  );
}

/** The response-limit failure, thrown as is or wrapped once (an SDK may keep it as `cause`). */
function responseTooLarge(error: unknown): UpstreamResponseTooLargeError | undefined {
  if (error instanceof UpstreamResponseTooLargeError) return error;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause instanceof UpstreamResponseTooLargeError ? cause : undefined;
}

function clampDelay(ms: number): number {
  return Math.min(Math.max(0, Math.round(ms)), MAX_RETRY_AFTER_MS);
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function truncate(text: string): string {
  return text.length > MAX_MESSAGE_CHARS ? `${headOf(text, MAX_MESSAGE_CHARS)}…` : text;
}

/** The LLM adapters' error for a non-2xx answer: the provider's message and its retry delay kept. */
export function upstreamHttpError(status: number, headers: IncomingHttpHeaders, body: string): UpstreamHttpError {
  return new UpstreamHttpError(
    status,
    upstreamMessage(body),
    retryAfterFrom(headers, body),
    classifyErrorBody(status, body),
  );
}
