/**
 * A non-2xx answer from a model provider, as the adapters' HTTP layer reports it before it is mapped to an
 * `LlmProviderError`. It carries what the SDK's own error types drop: the `Retry-After` delay.
 */
export class UpstreamHttpError extends Error {
  constructor(
    readonly status: number,
    /** The provider's error message (truncated), never the request. */
    readonly upstreamMessage: string,
    /** From `Retry-After` / `retry-after-ms`, or Google's `RetryInfo.retryDelay` in the error body. */
    readonly retryAfterMs: number | undefined,
  ) {
    super(`upstream answered HTTP ${status}${upstreamMessage ? `: ${upstreamMessage}` : ''}`);
    this.name = 'UpstreamHttpError';
  }
}
