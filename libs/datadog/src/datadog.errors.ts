/**
 * A call to the Datadog API failed: not configured, refused or unreadable. Thrown to callers of the lib's ports
 * (command-line imports, background jobs, the incidents outbox); the message names the operation and never a key.
 * `status` is Datadog's HTTP status when it answered; `retryable` says whether the same call can succeed later:
 * true for no answer (refused, reset, timeout), 401/403 (keys can be fixed), 408, 429 and 5xx, and for an
 * unconfigured API; false for any other 4xx (the request itself is wrong).
 */
export class DatadogApiError extends Error {
  readonly status?: number;
  readonly retryable: boolean;

  constructor(
    readonly operation: string,
    message: string,
    options?: { cause?: unknown; status?: number; retryable?: boolean },
  ) {
    super(`Datadog ${operation}: ${message}`, options);
    this.name = 'DatadogApiError';
    this.status = options?.status;
    this.retryable = options?.retryable ?? isRetryableStatus(options?.status);
  }
}

/** Whether a Datadog HTTP status (or none: no answer) is worth retrying. */
export function isRetryableStatus(status: number | undefined): boolean {
  if (status === undefined) return true;
  return status === 401 || status === 403 || status === 408 || status === 429 || status >= 500;
}
