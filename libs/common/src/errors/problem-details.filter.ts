import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger, Optional } from '@nestjs/common';
import { DomainError, type ProblemExtensions } from './domain-error';
import { codeForStatus, ERROR_TITLES, type ErrorCode, problemType } from './error-codes';
import { unsupportedMediaType } from '../http/json-body';
import { RequestOutcomeRecorder } from './request-outcome.recorder';
import { TraceIdProvider } from './trace-id.provider';
import { ROUTED_MARK } from './routed-mark';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** Fastify's own request errors carry a code and a 4xx status (body too large, bad JSON, media type). */
interface FrameworkError {
  statusCode?: number;
  code?: string;
  message?: string;
}

interface MinimalRequest {
  method: string;
  url: string;
  headers?: Record<string, string | string[] | undefined>;
  /** Fastify's instance: its router tells whether the path exists for another method (405 rather than 404). */
  server?: { findRoute?(options: { method: string; url: string }): unknown };
  routeOptions?: { url?: string };
  [ROUTED_MARK]?: boolean;
}

interface MinimalReply {
  sent?: boolean;
  raw?: { headersSent?: boolean; writableEnded?: boolean; end?: () => void };
  elapsedTime?: number;
  status(code: number): MinimalReply;
  header(name: string, value: string): MinimalReply;
  send(payload: string): unknown;
}

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

const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_REQUEST',
};

/**
 * The one global exception filter. Every error leaves as RFC 9457 problem details with `code` and
 * `traceId`; unknown errors become a generic 500 whose detail reveals nothing internal.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetailsFilter');

  constructor(
    @Optional() private readonly traceIds?: TraceIdProvider,
    @Optional() private readonly recorder?: RequestOutcomeRecorder,
  ) {}

  catch(thrown: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw thrown;
    const http = host.switchToHttp();
    const request = http.getRequest<MinimalRequest>();
    const reply = http.getResponse<MinimalReply>();

    const exception = methodNotAllowed(thrown, request) ?? thrown;
    const problem = this.toProblem(exception, request);
    if (problem.status >= 500 && !(exception instanceof DomainError)) {
      this.logger.error(
        {
          err:
            exception instanceof Error
              ? { name: exception.name, message: exception.message, stack: exception.stack }
              : exception,
        },
        'unhandled error',
      );
    }
    if (!request[ROUTED_MARK]) {
      this.recorder?.recordUnrouted({
        method: request.method,
        route: request.routeOptions?.url,
        status: problem.status,
        code: problem.code,
        durationMs: reply.elapsedTime,
      });
    }
    if (reply.sent || reply.raw?.headersSent) {
      // A stream already started (SSE); the error was reported in-band. Close the connection.
      if (!reply.raw?.writableEnded) reply.raw?.end?.();
      return;
    }
    reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE);
    if (exception instanceof DomainError) {
      for (const [name, value] of Object.entries(exception.headers)) reply.header(name, value);
    }
    reply.send(JSON.stringify(problem));
  }

  toProblem(thrown: unknown, request: Pick<MinimalRequest, 'url' | 'headers'>): Problem {
    const instance = request.url.split('?')[0];
    const traceId = this.traceIds?.currentTraceId();
    const build = (
      code: string,
      status: number,
      title: string,
      detail: string,
      ext: ProblemExtensions = {},
    ): Problem => ({
      type: code in ERROR_TITLES ? problemType(code as ErrorCode) : 'about:blank',
      title,
      status,
      detail,
      instance,
      code,
      ...(traceId ? { traceId } : {}),
      ...ext,
    });

    // Fastify found no parser for the body's type: say which type came and which one is accepted.
    const contentType = request.headers?.['content-type'];
    const exception =
      frameworkCodeOf(thrown) === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? unsupportedMediaType(Array.isArray(contentType) ? contentType.join(', ') : contentType)
        : thrown;
    if (exception instanceof DomainError) {
      return build(
        exception.code,
        exception.status,
        ERROR_TITLES[exception.code],
        exception.detail,
        exception.extensions,
      );
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const framework = frameworkCodeOf(exception);
      const code = (framework ? FRAMEWORK_CODES[framework] : undefined) ?? codeForStatus(status);
      const response = exception.getResponse();
      const message =
        typeof response === 'string'
          ? response
          : typeof (response as { message?: unknown }).message === 'string'
            ? (response as { message: string }).message
            : exception.message;
      return build(code, status, ERROR_TITLES[code], status >= 500 ? ERROR_TITLES[code] : message);
    }
    const framework = exception as FrameworkError | null;
    if (
      framework &&
      typeof framework.statusCode === 'number' &&
      framework.statusCode >= 400 &&
      framework.statusCode < 500
    ) {
      const code: ErrorCode =
        (framework.code ? FRAMEWORK_CODES[framework.code] : undefined) ?? codeForStatus(framework.statusCode);
      return build(code, framework.statusCode, ERROR_TITLES[code], framework.message ?? ERROR_TITLES[code]);
    }
    return build(
      'INTERNAL',
      500,
      ERROR_TITLES.INTERNAL,
      'An unexpected error occurred. Quote the traceId when reporting it.',
    );
  }
}

/** The code of a Fastify request error, thrown as is or wrapped by Nest's adapter in an HttpException (its cause). */
function frameworkCodeOf(thrown: unknown): string | undefined {
  if (thrown instanceof HttpException) return (thrown.cause as FrameworkError | undefined)?.code;
  return (thrown as FrameworkError | null)?.code;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * A request that matched no route (Nest's 404) on a path that exists for other methods: 405 with `Allow`
 * (`GET /reason` answers "use POST", not "no such route"). Undefined otherwise.
 */
function methodNotAllowed(thrown: unknown, request: MinimalRequest): DomainError | undefined {
  const router = request.server;
  if (request[ROUTED_MARK] || !(thrown instanceof HttpException) || thrown.getStatus() !== 404) return undefined;
  if (typeof router?.findRoute !== 'function') return undefined;
  const path = request.url.split('?')[0] ?? '/';
  const allowed = METHODS.filter((method) => method !== request.method && router.findRoute!({ method, url: path }));
  if (allowed.length === 0) return undefined;
  return new DomainError(
    'METHOD_NOT_ALLOWED',
    `${request.method} is not allowed on ${path}: use ${allowed.join(' or ')}.`,
    { allow: allowed },
    { allow: allowed.join(', ') },
  );
}
