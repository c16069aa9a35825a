import { HttpException } from '@nestjs/common';
import { DomainError, type ProblemExtensions } from './domain-error';
import { codeForStatus, HTTP_ERRORS, type HttpErrorCode } from './error-codes';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** An RFC 9457 problem details body, with the service's `code` and the request's `traceId`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: string;
  traceId?: string;
  [extension: string]: unknown;
}

/** What the builder needs to know of the request a problem answers. */
export interface ProblemContext {
  /** The request path (without the query string): `problemInstance(url)`. The builder quotes it cut (`quotedPath`). */
  instance?: string;
  /** The request's trace id (TraceIdProvider); left out when tracing is off. */
  traceId?: string;
}

/** A problem and how to send it: the HTTP status and the response headers it needs (e.g. Retry-After, Allow). */
export interface ProblemResponse {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: Problem;
}

/** Fastify's own request errors carry a code and a 4xx status (body too large, bad JSON, media type). */
interface FrameworkError {
  statusCode?: number;
  code?: string;
  message?: string;
}

const FRAMEWORK_CODES: Readonly<Record<string, HttpErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_REQUEST',
  FST_ERR_BAD_URL: 'MALFORMED_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'URI_TOO_LONG',
};

/** The router's errors quote the whole path (2 KB of it, or whatever a client sent): say what is wrong instead. */
const FRAMEWORK_DETAILS: Readonly<Record<string, string>> = {
  FST_ERR_BAD_URL: 'The path holds a percent-encoded sequence that is not valid UTF-8 (%FF, %zz).',
  FST_ERR_MAX_PARAM_LENGTH: 'A path segment is longer than the router takes (100 characters).',
};

const INTERNAL_DETAIL = 'An unexpected error occurred. Quote the traceId when reporting it.';

/**
 * The one problem+json builder: the JSON error response (ProblemDetailsFilter) and the SSE `error` event are both
 * made by it, so they carry the same `type`, `title`, `status`, `detail`, `instance`, `code` and `traceId`.
 * - A DomainError brings its code's status, title and type, its detail, extensions and headers.
 * - An HttpException keeps its status (and its message below 500) with the generic code of that status.
 * - A framework request error (4xx with a Fastify code) gets its generic code.
 * - Anything else is a generic 500 whose detail reveals nothing internal.
 */
export function buildProblem(error: unknown, context: ProblemContext = {}): ProblemResponse {
  if (error instanceof DomainError) {
    return problem(error, error.detail, context, error.extensions, error.headers);
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const framework = (error.cause as FrameworkError | undefined)?.code;
    const def = HTTP_ERRORS[(framework ? FRAMEWORK_CODES[framework] : undefined) ?? codeForStatus(status)];
    const response = error.getResponse();
    const message =
      typeof response === 'string'
        ? response
        : typeof (response as { message?: unknown }).message === 'string'
          ? (response as { message: string }).message
          : error.message;
    return problem({ ...def, status }, status >= 500 ? def.title : message, context);
  }
  const framework = error as FrameworkError | null;
  if (
    framework &&
    typeof framework.statusCode === 'number' &&
    framework.statusCode >= 400 &&
    framework.statusCode < 500
  ) {
    const status = framework.statusCode;
    const def = HTTP_ERRORS[(framework.code ? FRAMEWORK_CODES[framework.code] : undefined) ?? codeForStatus(status)];
    const detail = (framework.code ? FRAMEWORK_DETAILS[framework.code] : undefined) ?? framework.message ?? def.title;
    return problem({ ...def, status }, detail, context);
  }
  return problem(HTTP_ERRORS.INTERNAL, INTERNAL_DETAIL, context);
}

/** The members of every problem: an extension may add members after them, never replace one. */
const STANDARD_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'instance', 'code', 'traceId']);

/** The extensions without the standard members (a `status` extension once replaced the HTTP status in the body). */
function ownMembers(extensions: ProblemExtensions): ProblemExtensions {
  return Object.fromEntries(Object.entries(extensions).filter(([key]) => !STANDARD_MEMBERS.has(key)));
}

function problem(
  kind: { type: string; title: string; status: number; code: string },
  detail: string,
  context: ProblemContext,
  extensions: ProblemExtensions = {},
  headers: Readonly<Record<string, string>> = {},
): ProblemResponse {
  return {
    status: kind.status,
    headers,
    body: {
      type: kind.type,
      title: kind.title,
      status: kind.status,
      detail,
      instance: context.instance === undefined ? undefined : quotedPath(context.instance),
      code: kind.code,
      ...(context.traceId ? { traceId: context.traceId } : {}),
      ...ownMembers(extensions),
    },
  };
}

/** The `instance` of a request's problem: its path, without the query string (whole: the builder cuts it). */
export function problemInstance(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * The most of a request path a problem quotes, in `instance` and in a detail that names the path. A path is
 * whatever the client sent, up to Node's 16 KB header limit: an 8 KB one was echoed whole, twice in a 404.
 */
export const MAX_QUOTED_PATH_CHARS = 256;

/** A path as a problem quotes it: at most MAX_QUOTED_PATH_CHARS, then `…`; a surrogate pair is never split. */
export function quotedPath(path: string): string {
  if (path.length <= MAX_QUOTED_PATH_CHARS) return path;
  let end = MAX_QUOTED_PATH_CHARS;
  const last = path.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${path.slice(0, end)}…`;
}
