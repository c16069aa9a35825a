import {
  type CallHandler,
  type ExecutionContext,
  HttpStatus,
  Injectable,
  type NestInterceptor,
  RequestMethod,
  StreamableFile,
} from '@nestjs/common';
import { HTTP_CODE_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { PinoLogger } from 'nestjs-pino';
import { type Observable, tap } from 'rxjs';
import { codeOfError, CUT_AT_SHUTDOWN_STATUS, cutAtShutdown, ROUTED_MARK, statusOfError } from '@app/common';
import { LogSanitizer } from '../logging/log-sanitizer';
import { TracerPort } from '../tracing/tracer.port';
import { RequestTelemetry, round } from './request-telemetry.service';
import { SKIP_TELEMETRY } from './skip-telemetry.decorator';

/** The status of a request whose client closed the connection before the answer (nginx's convention). */
const CLIENT_CLOSED_REQUEST = 499;

interface HandlerInfo {
  skip: boolean;
  /** `Controller.handler`: the log line's `handler` and the span's `nest.*` tags. */
  resource: string;
  controller: string;
  handler: string;
  successStatus: number;
  /** The span resource, `METHOD /route` as Datadog users search for it, built for the first route seen. */
  method?: string;
  route?: string;
  spanResource?: string;
}

/** The raw Node response under Fastify's reply: a stream's request ends when it closes. */
interface RawResponseLike {
  writableFinished: boolean;
  destroyed: boolean;
  once(event: 'close', listener: () => void): unknown;
}

interface FastifyLikeRequest {
  method: string;
  url: string;
  body?: unknown;
  routeOptions?: { url?: string };
  raw?: { socket?: object };
  [ROUTED_MARK]?: boolean;
}

/**
 * Adds to every controller call: the trace span (its resource `METHOD /route`, tagged with route, method,
 * `Controller.handler` as `nest.controller`/`nest.handler`, status and error), the request metrics, and one truncated, redacted log line. One interceptor
 * does all three, so each request pays for one rxjs operator and one clock read. A handler whose work writes the
 * request's line itself takes it over explicitly (`RequestTelemetry.handOffLogLine`): then the interceptor writes
 * none on success.
 */
@Injectable()
export class TelemetryInterceptor implements NestInterceptor {
  private readonly handlers = new WeakMap<object, HandlerInfo>();

  constructor(
    private readonly reflector: Reflector,
    private readonly tracer: TracerPort,
    private readonly requests: RequestTelemetry,
    private readonly sanitizer: LogSanitizer,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('Http');
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const info = this.describe(context);
    if (info.skip) {
      // No span, metrics or line of its own (probes come every second), but the server span is found by its route.
      const request = context.switchToHttp().getRequest<FastifyLikeRequest>();
      const route = request.routeOptions?.url ?? 'unmatched';
      this.tracer.nameRequest(spanResource(info, request.method, route), { 'http.route': route });
      return next.handle();
    }

    const request = context.switchToHttp().getRequest<FastifyLikeRequest>();
    request[ROUTED_MARK] = true;
    const started = performance.now();
    const route = request.routeOptions?.url ?? 'unmatched';
    const method = request.method;
    this.requests.openLogLine(request, { method, route, status_code: info.successStatus });
    const span = this.tracer.requestSpan('nestjs.request', spanResource(info, method, route), {
      'http.route': route,
      'http.method': method,
      'nest.controller': info.controller,
      'nest.handler': info.handler,
    });

    const done = (answeredStatus: number, error?: unknown): void => {
      const durationMs = performance.now() - started;
      // A connection closed before the answer: the client's doing (499), unless the server's shutdown cut it (503;
      // a JSON answer is then answered 503 just before its connection is cut).
      const cut =
        (answeredStatus === CLIENT_CLOSED_REQUEST || answeredStatus === CUT_AT_SHUTDOWN_STATUS) &&
        cutAtShutdown(request.raw?.socket);
      const status = cut ? CUT_AT_SHUTDOWN_STATUS : answeredStatus;
      span.setTag('http.status_code', String(status));
      if (error !== undefined && status >= 500) span.setError(error);
      if (error !== undefined) span.setTag('error.code', codeOfError(error));
      span.finish();
      this.requests.record({ route, method, status, durationMs });
      // Handed off (RequestTelemetry.handOffLogLine): the owner writes the success line, with these HTTP fields, and
      // the line of a stream its client abandoned (499) or the shutdown cut; refusals and failures keep the
      // interceptor's own line.
      const handedOff = this.requests.logLineOwner(request) !== undefined;
      if (handedOff && (status < 400 || answeredStatus === CLIENT_CLOSED_REQUEST)) return;
      const line = {
        http: { method, route, status_code: status },
        handler: info.resource,
        duration_ms: round(durationMs),
        ...(request.body !== undefined ? { body: this.sanitizer.value(request.body) } : {}),
        ...(error !== undefined
          ? { error: { code: codeOfError(error), message: this.sanitizer.text(errorMessage(error)) } }
          : {}),
      };
      if (cut) this.logger.warn(line, 'connection cut at shutdown (SHUTDOWN_GRACE_MS)');
      else if (status >= 500) this.logger.error(line, 'request failed');
      // The client went away (499): routine (timeouts, closed tabs), neither the server's fault nor a refusal.
      else if (status === CLIENT_CLOSED_REQUEST) this.logger.info(line, 'client closed request');
      else if (status >= 400) this.logger.warn(line, 'request refused');
      else this.logger.info(line, 'request completed');
    };

    let settled = false;
    let stream: RawResponseLike | undefined;
    // A handler answering a web Response sets its own status (an incident: 201, 200 or 202), not the route's.
    let answered: number | undefined;
    return next.handle().pipe(
      tap({
        next: (value: unknown) => {
          if (value instanceof StreamableFile) {
            stream = context.switchToHttp().getResponse<{ raw?: RawResponseLike }>().raw;
          } else if (value instanceof Response) {
            answered = value.status;
          }
        },
        complete: () => {
          if (settled) return;
          settled = true;
          const raw = stream;
          if (!raw) {
            done(answered ?? info.successStatus);
            return;
          }
          // A streamed answer (SSE): the request ends when the stream does. Its span, metrics and line say how it
          // ended (closed before the end: the client went away, 499) and how long the whole stream took.
          const ended = (): void => done(raw.writableFinished ? info.successStatus : CLIENT_CLOSED_REQUEST);
          if (raw.writableFinished || raw.destroyed) ended();
          else raw.once('close', ended);
        },
        error: (error: unknown) => {
          if (!settled) {
            settled = true;
            done(statusOfError(error), error);
          }
        },
        finalize: () => {
          // Unsubscribed before completion: the client went away (e.g. an SSE stream closed early).
          if (!settled) {
            settled = true;
            done(CLIENT_CLOSED_REQUEST);
          }
        },
      }),
    );
  }

  private describe(context: ExecutionContext): HandlerInfo {
    const handler = context.getHandler();
    let info = this.handlers.get(handler);
    if (!info) {
      const controller = context.getClass();
      const skip = this.reflector.getAllAndOverride<boolean>(SKIP_TELEMETRY, [handler, controller]) ?? false;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      const explicit = Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined;
      info = {
        skip,
        resource: `${controller.name}.${handler.name}`,
        controller: controller.name,
        handler: handler.name,
        successStatus: explicit ?? (method === RequestMethod.POST ? HttpStatus.CREATED : HttpStatus.OK),
      };
      this.handlers.set(handler, info);
    }
    return info;
  }
}

/**
 * The span resource of a routed request, `POST /qa` (what dd-trace's own web integrations use, and what Datadog
 * users search APM by), built once per handler; the handler stays in the `nest.controller`/`nest.handler` tags.
 */
function spanResource(info: HandlerInfo, method: string, route: string): string {
  if (info.spanResource !== undefined && info.route === route && info.method === method) return info.spanResource;
  const resource = `${method} ${route}`;
  info.method = method;
  info.route = route;
  info.spanResource = resource;
  return resource;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
