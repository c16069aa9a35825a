import type { LlmErrorKind } from '../ports/llm-provider.port';

/** What a provider's error body says beyond its status (see `classifyErrorBody`). */
export interface UpstreamErrorBody {
  /** Set when the body changes the kind its status alone would give (a 400 that refuses our API key...). */
  kind?: LlmErrorKind;
  providerCode?: string;
  param?: string;
}

/**
 * A non-2xx answer from a model provider, as the adapters' HTTP layer reports it before it is mapped to an
 * `LlmProviderError`. It carries what the SDK's own error types drop: the `Retry-After` delay, and what the error
 * body says (the provider's code and the field it names).
 */
export class UpstreamHttpError extends Error {
  constructor(
    readonly status: number,
    /** The provider's error message (truncated), never the request. */
    readonly upstreamMessage: string,
    /** From `Retry-After` / `retry-after-ms`, or Google's `RetryInfo.retryDelay` in the error body. */
    readonly retryAfterMs: number | undefined,
    readonly body: UpstreamErrorBody = {},
  ) {
    super(`upstream answered HTTP ${status}${upstreamMessage ? `: ${upstreamMessage}` : ''}`);
    this.name = 'UpstreamHttpError';
  }
}
