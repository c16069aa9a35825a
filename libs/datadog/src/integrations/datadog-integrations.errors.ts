import { defineErrorCodes, DomainError, type TextRedactor } from '@app/common';
import { DatadogApiError } from '../datadog.errors';

/**
 * Why a call to Datadog failed: `unconfigured` (no keys: nothing was sent), `rejected` (Datadog answered 4xx or
 * 5xx; `status` is its status), `unreachable` (no answer: refused, reset, DNS), `timeout` (no answer in time),
 * `invalid_response` (a 2xx that is not what the API documents), `invalid_payload` (the payload file does not
 * match the API's model: nothing was sent).
 */
export type DatadogFailureKind =
  'unconfigured' | 'rejected' | 'unreachable' | 'timeout' | 'invalid_response' | 'invalid_payload';

/**
 * A `DatadogApiError` of the integrations port, with the kind of failure and Datadog's own error messages (its
 * `errors` list, each bounded; never a key: the adapter strips the configured keys from them).
 */
export class DatadogRequestError extends DatadogApiError {
  constructor(
    operation: string,
    readonly kind: DatadogFailureKind,
    message: string,
    options: { cause?: unknown; status?: number; datadogErrors?: readonly string[] } = {},
  ) {
    super(operation, message, {
      cause: options.cause,
      status: options.status,
      retryable: kind === 'invalid_payload' ? false : undefined,
    });
    this.name = 'DatadogRequestError';
    this.datadogErrors = options.datadogErrors ?? [];
  }

  readonly datadogErrors: readonly string[];
}

/**
 * The `/datadog/*` routes' error codes (docs/datadog-integrations.md). A Datadog 4xx is answered with the same
 * status and a code naming it; a Datadog 5xx with 502 (`DATADOG_UPSTREAM_ERROR`) and Datadog's status in
 * `datadogStatus`: a 500 from this service means a bug of its own (docs/errors.md), which it is not.
 */
export const DATADOG_INTEGRATION_ERRORS = defineErrorCodes({
  /** Datadog refused the request as malformed (400): the payload or an input of the workflow. */
  DATADOG_BAD_REQUEST: { status: 400, title: 'Datadog rejected the request' },
  /** Datadog refused the keys (401). */
  DATADOG_UNAUTHORIZED: { status: 401, title: 'Datadog refused the credentials' },
  /** Datadog refused the keys or their permissions (403: an invalid API key, or an application key without the scope). */
  DATADOG_FORBIDDEN: { status: 403, title: 'Datadog refused the operation' },
  /** Datadog does not know what was named (404: a workflow id). */
  DATADOG_NOT_FOUND: { status: 404, title: 'Datadog did not find the resource' },
  /** Datadog answered 409. */
  DATADOG_CONFLICT: { status: 409, title: 'Datadog reported a conflict' },
  /** Datadog answered 422. */
  DATADOG_UNPROCESSABLE: { status: 422, title: 'Datadog could not process the request' },
  /** Datadog rate-limited the call (429). */
  DATADOG_RATE_LIMITED: { status: 429, title: 'Datadog rate limit reached' },
  /** Another 4xx from Datadog: its status is in `datadogStatus`. */
  DATADOG_REQUEST_REJECTED: { status: 400, title: 'Datadog rejected the request' },
  /** Datadog failed (5xx, its status in `datadogStatus`) or answered something unreadable. */
  DATADOG_UPSTREAM_ERROR: { status: 502, title: 'Datadog API failed' },
  /** No answer from Datadog: connection refused or reset, DNS. */
  DATADOG_UNREACHABLE: { status: 502, title: 'Datadog API unreachable' },
  /** No answer from Datadog in time. */
  DATADOG_TIMEOUT: { status: 504, title: 'Datadog API timed out' },
  /** DD_API_KEY and DD_APP_KEY are not both set: nothing was sent. */
  DATADOG_NOT_CONFIGURED: { status: 503, title: 'Datadog API not configured' },
  /** PUBLIC_BASE_URL is not set: a synthetic test has nothing to target (never a URL from the request). */
  PUBLIC_BASE_URL_NOT_CONFIGURED: { status: 409, title: 'PUBLIC_BASE_URL not configured' },
});

const BY_STATUS: Readonly<
  Record<number, (typeof DATADOG_INTEGRATION_ERRORS)[keyof typeof DATADOG_INTEGRATION_ERRORS]>
> = {
  400: DATADOG_INTEGRATION_ERRORS.DATADOG_BAD_REQUEST,
  401: DATADOG_INTEGRATION_ERRORS.DATADOG_UNAUTHORIZED,
  403: DATADOG_INTEGRATION_ERRORS.DATADOG_FORBIDDEN,
  404: DATADOG_INTEGRATION_ERRORS.DATADOG_NOT_FOUND,
  409: DATADOG_INTEGRATION_ERRORS.DATADOG_CONFLICT,
  422: DATADOG_INTEGRATION_ERRORS.DATADOG_UNPROCESSABLE,
  429: DATADOG_INTEGRATION_ERRORS.DATADOG_RATE_LIMITED,
};

/** The most of Datadog's messages quoted, and the most characters of the detail. */
const MAX_DATADOG_ERRORS = 5;
const MAX_DETAIL_CHARS = 500;

function bounded(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * The problem a failed Datadog call answers with: Datadog's status (4xx as is, 5xx as 502 with `datadogStatus`),
 * 502/504 when it did not answer, 503 when not configured; its messages redacted and bounded. Anything that is
 * not a `DatadogApiError` is rethrown as it is (a bug: the filter answers 500).
 */
export function toDatadogProblem(error: unknown, redactor: TextRedactor): DomainError {
  if (!(error instanceof DatadogApiError)) throw error;
  const kind: DatadogFailureKind =
    error instanceof DatadogRequestError ? error.kind : error.status === undefined ? 'unreachable' : 'rejected';
  const messages = (error instanceof DatadogRequestError ? error.datadogErrors : [])
    .slice(0, MAX_DATADOG_ERRORS)
    .map((m) => bounded(redactor.redact(m), 300));
  const detail = bounded(redactor.redact(error.message), MAX_DETAIL_CHARS);
  const status = error.status ?? null;
  const extensions = { datadogStatus: status, datadogErrors: messages, operation: error.operation };
  switch (kind) {
    case 'unconfigured':
      return new DomainError(
        DATADOG_INTEGRATION_ERRORS.DATADOG_NOT_CONFIGURED,
        detail,
        extensions,
        {},
        { cause: error },
      );
    case 'timeout':
      return new DomainError(DATADOG_INTEGRATION_ERRORS.DATADOG_TIMEOUT, detail, extensions, {}, { cause: error });
    case 'unreachable':
      return new DomainError(DATADOG_INTEGRATION_ERRORS.DATADOG_UNREACHABLE, detail, extensions, {}, { cause: error });
    case 'invalid_response':
      return new DomainError(
        DATADOG_INTEGRATION_ERRORS.DATADOG_UPSTREAM_ERROR,
        detail,
        extensions,
        {},
        { cause: error },
      );
    case 'invalid_payload':
      // A payload file that does not match the API's model is this service's bug: 500, nothing was sent.
      return new DomainError('INTERNAL', detail, { operation: error.operation }, {}, { cause: error });
    case 'rejected': {
      const code =
        status === null || status >= 500
          ? DATADOG_INTEGRATION_ERRORS.DATADOG_UPSTREAM_ERROR
          : (BY_STATUS[status] ?? DATADOG_INTEGRATION_ERRORS.DATADOG_REQUEST_REJECTED);
      return new DomainError(code, detail, extensions, {}, { cause: error });
    }
  }
}
