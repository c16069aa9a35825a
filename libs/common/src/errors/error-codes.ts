/**
 * Every error code the API answers with, and its HTTP status. A problem+json body carries the code in
 * `code`; clients switch on it, not on `title` or `detail`.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  MALFORMED_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  NOT_ACCEPTABLE: 406,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PROMPT_INJECTION: 422,
  INPUT_TOO_LARGE: 422,
  COST_CAP_EXCEEDED: 422,
  RATE_LIMITED: 429,
  BUDGET_EXCEEDED: 429,
  INTERNAL: 500,
  NOT_IMPLEMENTED: 501,
  UPSTREAM_ERROR: 502,
  UPSTREAM_UNAVAILABLE: 503,
  CIRCUIT_OPEN: 503,
  NO_CAPACITY: 503,
  SERVICE_UNAVAILABLE: 503,
  UPSTREAM_TIMEOUT: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_TITLES: Record<ErrorCode, string> = {
  VALIDATION_FAILED: 'Request validation failed',
  MALFORMED_REQUEST: 'Malformed request',
  UNAUTHORIZED: 'Unauthorized',
  FORBIDDEN: 'Forbidden',
  NOT_FOUND: 'Not found',
  METHOD_NOT_ALLOWED: 'Method not allowed',
  NOT_ACCEPTABLE: 'Not acceptable',
  CONFLICT: 'Conflict',
  PAYLOAD_TOO_LARGE: 'Payload too large',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type',
  PROMPT_INJECTION: 'Prompt injection detected',
  INPUT_TOO_LARGE: 'Input too large',
  COST_CAP_EXCEEDED: 'Cost cap exceeded',
  RATE_LIMITED: 'Too many requests',
  BUDGET_EXCEEDED: 'Daily budget exceeded',
  INTERNAL: 'Internal server error',
  NOT_IMPLEMENTED: 'Not implemented',
  UPSTREAM_ERROR: 'Upstream model provider failed',
  UPSTREAM_UNAVAILABLE: 'Upstream model provider unavailable',
  CIRCUIT_OPEN: 'Circuit breaker open',
  NO_CAPACITY: 'No capacity',
  SERVICE_UNAVAILABLE: 'Service unavailable',
  UPSTREAM_TIMEOUT: 'Upstream model provider timed out',
};

/** The `type` URI of a problem: a stable, dereferenceable-by-docs identifier (see docs/errors.md). */
export function problemType(code: ErrorCode): string {
  return `urn:lrcp:problem:${code.toLowerCase().replace(/_/g, '-')}`;
}

const STATUS_TO_CODE: Record<number, ErrorCode> = {
  400: 'MALFORMED_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'VALIDATION_FAILED',
  429: 'RATE_LIMITED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  502: 'UPSTREAM_ERROR',
  503: 'SERVICE_UNAVAILABLE',
  504: 'UPSTREAM_TIMEOUT',
};

export function codeForStatus(status: number): ErrorCode {
  return STATUS_TO_CODE[status] ?? (status >= 500 ? 'INTERNAL' : 'MALFORMED_REQUEST');
}
