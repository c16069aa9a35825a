/** What a lib declares for each of its error codes: the HTTP status it answers with and the problem's title. */
export interface ErrorCodeSpec {
  readonly status: number;
  readonly title: string;
}

/**
 * One error code, as a lib's table defines it. A problem+json body carries `code`; clients switch on it, not on
 * `title` or `detail`. `type` is the problem's URI (`urn:lrcp:problem:<code in kebab case>`, see docs/errors.md).
 */
export interface ErrorCodeDef<C extends string = string> extends ErrorCodeSpec {
  readonly code: C;
  readonly type: string;
}

/** A lib's error table: each code with its status, title and type URI. */
export type ErrorCodeTable<T extends Record<string, ErrorCodeSpec>> = {
  readonly [K in keyof T & string]: ErrorCodeDef<K>;
};

/** The `type` URI of a problem: a stable identifier, documented in docs/errors.md. */
export function problemType(code: string): string {
  return `urn:lrcp:problem:${code.toLowerCase().replace(/_/g, '-')}`;
}

/**
 * Declares a lib's error codes (its `<lib>.errors.ts`), each with the HTTP status and the title it answers with:
 * `defineErrorCodes({ BUDGET_EXCEEDED: { status: 429, title: 'Daily budget exceeded' } })`. A `DomainError` raised
 * with one of them carries its status, title and type, so the filter needs no table of every module's codes.
 */
export function defineErrorCodes<const T extends Record<string, ErrorCodeSpec>>(table: T): ErrorCodeTable<T> {
  const defs: Record<string, ErrorCodeDef> = {};
  for (const [code, spec] of Object.entries(table)) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(code)) throw new Error(`error code ${code} is not UPPER_SNAKE_CASE`);
    if (!Number.isInteger(spec.status) || spec.status < 400 || spec.status > 599) {
      throw new Error(`error code ${code}: status ${spec.status} is not a 4xx or 5xx`);
    }
    defs[code] = Object.freeze({ code, status: spec.status, title: spec.title, type: problemType(code) });
  }
  return Object.freeze(defs) as ErrorCodeTable<T>;
}

/**
 * The generic HTTP error codes: request errors every route can answer with, and the code of each status class
 * for errors that carry only a status (framework errors, HttpException, unknown errors). Each lib declares its
 * own codes in its `<lib>.errors.ts`.
 */
export const HTTP_ERRORS = defineErrorCodes({
  VALIDATION_FAILED: { status: 400, title: 'Request validation failed' },
  MALFORMED_REQUEST: { status: 400, title: 'Malformed request' },
  UNAUTHORIZED: { status: 401, title: 'Unauthorized' },
  FORBIDDEN: { status: 403, title: 'Forbidden' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  NOT_ACCEPTABLE: { status: 406, title: 'Not acceptable' },
  REQUEST_TIMEOUT: { status: 408, title: 'Request timeout' },
  CONFLICT: { status: 409, title: 'Conflict' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  URI_TOO_LONG: { status: 414, title: 'URI too long' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  HEADERS_TOO_LARGE: { status: 431, title: 'Request header fields too large' },
  INTERNAL: { status: 500, title: 'Internal server error' },
  NOT_IMPLEMENTED: { status: 501, title: 'Not implemented' },
  // The gateway statuses: an upstream answered badly (502) or not in time (504). Libs that call upstreams use them.
  UPSTREAM_ERROR: { status: 502, title: 'Upstream model provider failed' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'Service unavailable' },
  /**
   * The server is stopping: a request that arrived after the stop signal on a connection still open (`Retry-After: 1`,
   * `Connection: close`), or a call still open when SHUTDOWN_GRACE_MS ran out (its `promptId`). Another instance can
   * take the retry.
   */
  SERVER_SHUTTING_DOWN: { status: 503, title: 'Server shutting down' },
  UPSTREAM_TIMEOUT: { status: 504, title: 'Upstream model provider timed out' },
});

/** A generic HTTP error code (see HTTP_ERRORS). */
export type HttpErrorCode = keyof typeof HTTP_ERRORS;

const STATUS_TO_CODE: Readonly<Record<number, HttpErrorCode>> = {
  400: 'MALFORMED_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'VALIDATION_FAILED',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  502: 'UPSTREAM_ERROR',
  503: 'SERVICE_UNAVAILABLE',
  504: 'UPSTREAM_TIMEOUT',
};

/** The generic code of an error that carries only a status. */
export function codeForStatus(status: number): HttpErrorCode {
  return STATUS_TO_CODE[status] ?? (status >= 500 ? 'INTERNAL' : 'MALFORMED_REQUEST');
}
