import type { ArgumentsHost } from '@nestjs/common';
import { ErrorRenderers } from './error-renderers';
import { ProblemDetailsFilter } from './problem-details.filter';
import { RequestOutcomeRecorder } from './request-outcome.recorder';
import { TraceIdProvider } from './trace-id.provider';

/** What Fastify hands its `frameworkErrors` handler of the request (no route matched, no hook ran). */
interface RouterRequest {
  raw: { method?: string; url?: string; headers?: Record<string, string | string[] | undefined> };
}

/** What Fastify hands its `frameworkErrors` handler to answer with. */
interface RouterReply {
  sent?: boolean;
  elapsedTime?: number;
  status(code: number): RouterReply;
  header(name: string, value: string): RouterReply;
  send(payload: string): unknown;
}

/** Resolves the app's providers once it exists (`app.get(token, { strict: false })`). */
interface ProviderSource {
  get(token: unknown, options: { strict: boolean }): unknown;
}

/**
 * Fastify's `frameworkErrors` option: its router answers some requests before any route, hook or Nest filter runs
 * (a path with a percent-encoded sequence that is not UTF-8, `%FF` or `%zz`: 400; a path parameter longer than
 * 100 characters: 414), by default with its own JSON quoting the whole path. This answers them with the global
 * `ProblemDetailsFilter` instead: problem+json, `traceId`, and the metrics and log line of an unrouted request.
 * The adapter is built before the app, so `bind(app)` supplies the filter's dependencies afterwards.
 */
export class FrameworkErrorResponder {
  private traceIds?: TraceIdProvider;
  private recorder?: RequestOutcomeRecorder;
  private renderers?: ErrorRenderers;

  /** The `frameworkErrors` function to give the FastifyAdapter (Fastify's request and reply, typed loosely). */
  readonly handler = (error: Error, fastifyRequest: unknown, fastifyReply: unknown): void => {
    const request = fastifyRequest as RouterRequest;
    const reply = fastifyReply as RouterReply;
    const filter = new ProblemDetailsFilter(this.traceIds, this.recorder, this.renderers);
    const minimal = {
      method: request.raw.method ?? 'GET',
      url: request.raw.url ?? '/',
      headers: request.raw.headers,
    };
    const http = { getRequest: () => minimal, getResponse: () => reply, getNext: () => undefined };
    const host = { getType: () => 'http', switchToHttp: () => http } as unknown as ArgumentsHost;
    filter.catch(error, host);
  };

  bind(app: ProviderSource): void {
    this.traceIds = resolve(app, TraceIdProvider) as TraceIdProvider | undefined;
    this.recorder = resolve(app, RequestOutcomeRecorder) as RequestOutcomeRecorder | undefined;
    this.renderers = resolve(app, ErrorRenderers) as ErrorRenderers | undefined;
  }
}

function resolve(app: ProviderSource, token: unknown): unknown {
  try {
    return app.get(token, { strict: false });
  } catch {
    return undefined; // not provided (an app without telemetry): problems without traceId, no unrouted metrics
  }
}
