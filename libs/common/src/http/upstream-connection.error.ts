/**
 * The request never got an HTTP answer (refused, reset, DNS, TLS, a connect guard...). Wraps the transport's
 * error, which is kept as `cause` (its `code`, when it has one, still decides timeout vs connection).
 */
export class UpstreamConnectionError extends Error {
  constructor(cause: unknown) {
    super(`no answer from upstream: ${messageOf(cause)}`, { cause });
    this.name = 'UpstreamConnectionError';
  }
}

function messageOf(cause: unknown): string {
  const message = (cause as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(cause);
}
