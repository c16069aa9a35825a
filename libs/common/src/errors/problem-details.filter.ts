import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger, Optional } from '@nestjs/common';
import { DomainError } from './domain-error';
import { ErrorRenderers } from './error-renderers';
import { unsupportedMediaType } from '../http/json-body';
import { buildProblem, PROBLEM_CONTENT_TYPE, problemInstance, quotedPath } from './problem';
import { RequestOutcomeRecorder } from './request-outcome.recorder';
import { TraceIdProvider } from './trace-id.provider';
import { ROUTED_MARK } from './routed-mark';

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

/**
 * The one global exception filter. Every error leaves as RFC 9457 problem details with `code` and `traceId`,
 * built by `buildProblem` (as the SSE `error` event is); unknown errors become a generic 500 whose detail
 * reveals nothing internal, and their stack is logged.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemDetailsFilter');

  constructor(
    @Optional() private readonly traceIds?: TraceIdProvider,
    @Optional() private readonly recorder?: RequestOutcomeRecorder,
    @Optional() private readonly renderers?: ErrorRenderers,
  ) {}

  catch(thrown: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw thrown;
    const http = host.switchToHttp();
    const request = http.getRequest<MinimalRequest>();
    const reply = http.getResponse<MinimalReply>();

    const exception =
      methodNotAllowed(thrown, request) ??
      routeNotFound(thrown, request) ??
      mediaTypeRefused(thrown, request) ??
      thrown;
    const problem = buildProblem(exception, {
      instance: problemInstance(request.url),
      traceId: this.traceIds?.currentTraceId(),
    });
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
        code: problem.body.code,
        durationMs: reply.elapsedTime,
      });
    }
    if (reply.sent || reply.raw?.headersSent) {
      // A stream already started (SSE); the error was reported in-band. Close the connection.
      if (!reply.raw?.writableEnded) reply.raw?.end?.();
      return;
    }
    // A route family with its own error contract (the OpenAI-compatible /v1) answers in it.
    const render = this.renderers?.for(request.url);
    if (render) {
      const rendered = render(exception, problem);
      reply.status(rendered.status).header('content-type', rendered.contentType);
      for (const [name, value] of Object.entries(rendered.headers)) reply.header(name, value);
      reply.send(rendered.body);
      return;
    }
    reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE);
    for (const [name, value] of Object.entries(problem.headers)) reply.header(name, value);
    reply.send(JSON.stringify(problem.body));
  }
}

/** The code of a Fastify request error, thrown as is or wrapped by Nest's adapter in an HttpException (its cause). */
function frameworkCodeOf(thrown: unknown): string | undefined {
  if (thrown instanceof HttpException) return (thrown.cause as { code?: string } | undefined)?.code;
  return (thrown as { code?: string } | null)?.code;
}

/** Fastify found no parser for the body's type: say which type came and which one is accepted. */
function mediaTypeRefused(thrown: unknown, request: Pick<MinimalRequest, 'headers'>): DomainError | undefined {
  if (frameworkCodeOf(thrown) !== 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return undefined;
  const contentType = request.headers?.['content-type'];
  return unsupportedMediaType(Array.isArray(contentType) ? contentType.join(', ') : contentType);
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * A request that matched no route (Nest's 404) on a path that exists for other methods: 405 with `Allow`
 * (`GET /reason` answers "use POST", not "no such route"). Undefined otherwise, and when a route of the request's
 * own method matches the path: its handler found nothing there (a missing file under the `/docs/*` static route,
 * registered for GET and HEAD), which is a 404, whatever other methods the path has.
 */
function methodNotAllowed(
  thrown: unknown,
  request: Pick<MinimalRequest, 'method' | 'url' | 'server' | typeof ROUTED_MARK>,
): DomainError | undefined {
  const router = request.server;
  if (request[ROUTED_MARK] || !(thrown instanceof HttpException) || thrown.getStatus() !== 404) return undefined;
  if (typeof router?.findRoute !== 'function') return undefined;
  const path = problemInstance(request.url);
  if (router.findRoute({ method: request.method, url: path })) return undefined;
  const allowed = METHODS.filter((method) => method !== request.method && router.findRoute!({ method, url: path }));
  if (allowed.length === 0) return undefined;
  return new DomainError(
    'METHOD_NOT_ALLOWED',
    `${request.method} is not allowed on ${quotedPath(path)}: use ${allowed.join(' or ')}.`,
    { allow: allowed },
    { allow: allowed.join(', ') },
  );
}

/**
 * Nest's 404 for a request no route matched (`Cannot GET /x?token=…`) quotes the URL as sent: the query string,
 * and the whole of an 8 KB path, which `instance` repeated. The same words with the path as a problem quotes it.
 * Undefined for any other error, a controller's 404 included.
 */
function routeNotFound(
  thrown: unknown,
  request: Pick<MinimalRequest, 'method' | 'url' | typeof ROUTED_MARK>,
): DomainError | undefined {
  if (request[ROUTED_MARK] || !(thrown instanceof HttpException) || thrown.getStatus() !== 404) return undefined;
  if (thrown.message !== `Cannot ${request.method} ${request.url}`) return undefined;
  return new DomainError('NOT_FOUND', `Cannot ${request.method} ${quotedPath(problemInstance(request.url))}`);
}
