import { headOf, scrubKnownSecrets } from '@app/common';

/** The longest message kept from a failure (Datadog's error lists, an SDK's message with the whole answer). */
const MAX_MESSAGE_CHARS = 500;

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
    // Scrubbed here, whoever builds it: an SDK's message quotes Datadog's whole answer, which may quote the keys
    // sent (DD_API_KEY, DD_APP_KEY); the message reaches problem+json details, spans and logs.
    const scrubbed = scrubKnownSecrets(message);
    super(
      `Datadog ${operation}: ${scrubbed.length > MAX_MESSAGE_CHARS ? `${headOf(scrubbed, MAX_MESSAGE_CHARS)}…` : scrubbed}`,
      options,
    );
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

/** Datadog's HTTP status in an SDK failure (`ApiException.code`); undefined when it did not answer. */
export function statusOfSdkError(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code >= 100 && code < 600 ? code : undefined;
}

/** An SDK failure in words: `HTTP 403: ` and Datadog's `errors` list when it sent one, else the error's message. */
export function describeSdkError(error: unknown, status = statusOfSdkError(error)): string {
  const errors = ((error as { body?: unknown } | null)?.body as { errors?: unknown } | null | undefined)?.errors;
  const detail = Array.isArray(errors)
    ? errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('; ')
    : error instanceof Error
      ? error.message
      : String(error);
  return status === undefined ? detail : `HTTP ${status}: ${detail}`;
}
