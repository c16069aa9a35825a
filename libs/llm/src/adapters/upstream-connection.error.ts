/**
 * The request never got an HTTP answer (refused, reset, DNS, TLS, a connect guard...). Wraps the transport's
 * error, which is kept as `cause` (its `code`, when it has one, still decides timeout vs connection).
 */
export class UpstreamConnectionError extends Error {
  constructor(cause: unknown) {
    super(`no answer from upstream: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'UpstreamConnectionError';
  }
}
