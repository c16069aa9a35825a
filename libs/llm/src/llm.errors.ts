import { DomainError, type ErrorCode } from '@app/common';
import type { LlmErrorKind } from './ports/llm-provider.port';

/** Context every failed-call problem carries (RFC 9457 extension members). */
export interface FailureContext {
  provider: string;
  model: string;
  modelsTried: string[];
  attempts: number;
  lastUpstreamStatus: number | null;
  lastErrorKind: LlmErrorKind | 'circuit_open' | 'no_capacity' | null;
  retryAfterSeconds: number | null;
}

/**
 * A call that failed after retries and fallbacks. 504 when the last failure was a timeout; 503 when the
 * circuits were open, no capacity was free, or the upstream kept rate-limiting (with Retry-After); 502
 * for any other upstream failure.
 */
export class LlmCallFailedError extends DomainError {
  constructor(
    code: Extract<
      ErrorCode,
      'UPSTREAM_ERROR' | 'UPSTREAM_TIMEOUT' | 'UPSTREAM_UNAVAILABLE' | 'CIRCUIT_OPEN' | 'NO_CAPACITY'
    >,
    detail: string,
    readonly context: FailureContext,
    options?: { cause?: unknown },
  ) {
    super(
      code,
      detail,
      {
        provider: context.provider,
        model: context.model,
        modelsTried: context.modelsTried,
        attempts: context.attempts,
        lastUpstreamStatus: context.lastUpstreamStatus,
        errorType: context.lastErrorKind,
        retryAfterSeconds: context.retryAfterSeconds,
      },
      context.retryAfterSeconds !== null ? { 'retry-after': String(context.retryAfterSeconds) } : {},
      options,
    );
  }
}
