import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { Controller, type ExecutionContext, Get, HttpCode, HttpException, Post, StreamableFile } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { PinoLogger } from 'nestjs-pino';
import { lastValueFrom, Observable, of, throwError } from 'rxjs';
import { AppConfig } from '@app/config';
import {
  BasicTextRedactor,
  DomainError,
  defineErrorCodes,
  markCutAtShutdown,
  ROUTED_MARK,
  TextRedactor,
} from '@app/common';
import { testConfig } from '../../../../test/support/app-config';
import { LogSanitizer } from '../logging/log-sanitizer';
import { InMemoryMetrics } from '../metrics/in-memory-metrics';
import { MetricsPort } from '../metrics/metrics.port';
import {
  type LlmSpanHandle,
  type LlmSpanOptions,
  NoopTracer,
  type SpanHandle,
  type SpanOptions,
  type SpanTags,
  type SpanTagValue,
  TracerPort,
  type TracerStatus,
  type WorkflowSpanOptions,
} from '../tracing/tracer.port';
import { RequestTelemetry } from './request-telemetry.service';
import { SkipTelemetry } from './skip-telemetry.decorator';
import { TelemetryInterceptor } from './telemetry.interceptor';

/** A span that remembers what the interceptor did to it. */
class RecordedSpan implements SpanHandle {
  readonly owned = true;
  readonly tags: Record<string, SpanTagValue> = {};
  errors: unknown[] = [];
  finished = 0;

  constructor(
    readonly operation: string,
    readonly resource: string,
    initial: SpanTags,
  ) {
    Object.assign(this.tags, initial);
  }
  setTag(key: string, value: SpanTagValue): void {
    this.tags[key] = value;
  }
  addTags(tags: SpanTags): void {
    Object.assign(this.tags, tags);
  }
  setError(error: unknown): void {
    this.errors.push(error);
  }
  finish(): void {
    this.finished++;
  }
}

/** A TracerPort that records request spans; everything else is the no-op tracer's. */
class RecordingTracer extends TracerPort {
  readonly spans: RecordedSpan[] = [];
  /** The server spans named without a span of the interceptor's own (`nameRequest`). */
  readonly named: { resource: string; tags: SpanTags }[] = [];
  private readonly noop = new NoopTracer();
  status(): TracerStatus {
    return this.noop.status();
  }
  probeAgent(): Promise<undefined> {
    return this.noop.probeAgent();
  }
  currentTraceId(): undefined {
    return undefined;
  }
  requestSpan(operation: string, resource: string, tags: SpanTags): SpanHandle {
    const span = new RecordedSpan(operation, resource, tags);
    this.spans.push(span);
    return span;
  }
  nameRequest(resource: string, tags: SpanTags): void {
    this.named.push({ resource, tags });
  }
  tagRequest(): void {}
  trace<T>(name: string, options: SpanOptions, fn: (span: SpanHandle) => Promise<T>): Promise<T> {
    return this.noop.trace(name, options, fn);
  }
  llmSpan<T>(options: LlmSpanOptions, fn: (span: LlmSpanHandle) => Promise<T>): Promise<T> {
    return this.noop.llmSpan(options, fn);
  }
  workflowSpan<T>(options: WorkflowSpanOptions, fn: (span: LlmSpanHandle) => T): T {
    return this.noop.workflowSpan(options, fn);
  }
  submitEvaluation(): void {}
}

interface LogLine {
  level: 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A strict PinoLogger stand-in: the levels the interceptor uses are recorded, any other call throws. */
function recordingLogger(lines: LogLine[]): PinoLogger {
  const record =
    (level: LogLine['level']) =>
    (fields: Record<string, unknown>, message: string): void => {
      lines.push({ level, fields, message });
    };
  const known: Record<string, unknown> = {
    setContext: () => undefined,
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
  return new Proxy(known, {
    get(target, key) {
      if (typeof key === 'string' && key in target) return target[key];
      if (key === 'then') return undefined;
      throw new Error(`unexpected PinoLogger.${String(key)}`);
    },
  }) as unknown as PinoLogger;
}

const ERRORS = defineErrorCodes({ BUSY: { status: 503, title: 'Busy' } });

@Controller()
class ProbeController {
  @Post('answer')
  @HttpCode(200)
  answer(): string {
    return 'ok';
  }

  @Post('things')
  create(): string {
    return 'created';
  }

  @Get('health')
  @SkipTelemetry()
  health(): string {
    return 'ok';
  }
}

interface FakeRequest {
  method: string;
  url: string;
  body?: unknown;
  routeOptions: { url: string };
  [ROUTED_MARK]?: boolean;
}

function contextFor(handler: keyof ProbeController, request: FakeRequest, response: object = {}): ExecutionContext {
  return {
    getType: () => 'http',
    getClass: () => ProbeController,
    getHandler: () => ProbeController.prototype[handler],
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => response, getNext: () => undefined }),
    getArgs: () => [request],
    getArgByIndex: () => request,
    switchToRpc: () => {
      throw new Error('not rpc');
    },
    switchToWs: () => {
      throw new Error('not ws');
    },
  } as unknown as ExecutionContext;
}

function post(path: string, body?: unknown): FakeRequest {
  return { method: 'POST', url: `${path}?x=1`, routeOptions: { url: path }, body };
}

describe('TelemetryInterceptor', () => {
  let interceptor: TelemetryInterceptor;
  let requests: RequestTelemetry;
  let metrics: InMemoryMetrics;
  let tracer: RecordingTracer;
  let lines: LogLine[];

  beforeEach(async () => {
    metrics = new InMemoryMetrics();
    tracer = new RecordingTracer();
    lines = [];
    const module = await Test.createTestingModule({
      providers: [
        TelemetryInterceptor,
        RequestTelemetry,
        LogSanitizer,
        Reflector,
        { provide: AppConfig, useValue: testConfig({ LOG_TRUNCATE_CHARS: '40' }) },
        { provide: TextRedactor, useClass: BasicTextRedactor },
        { provide: MetricsPort, useValue: metrics },
        { provide: TracerPort, useValue: tracer },
        { provide: PinoLogger, useValue: recordingLogger(lines) },
      ],
    }).compile();
    interceptor = module.get(TelemetryInterceptor);
    requests = module.get(RequestTelemetry);
  });

  const run = (context: ExecutionContext, result: Observable<unknown>): Promise<unknown> =>
    lastValueFrom(interceptor.intercept(context, { handle: () => result }));

  it('names the span METHOD /route, keeps Controller.handler in nest.* tags, with route, method and status', async () => {
    await run(contextFor('answer', post('/answer')), of('ok'));
    await run(contextFor('create', post('/things')), of('created'));
    expect(tracer.spans).toHaveLength(2);
    const span = tracer.spans[0]!;
    // What Datadog users search APM by (and what dd-trace's web integrations name it), not the class and method.
    expect(span.resource).toBe('POST /answer');
    expect(tracer.spans[1]!.resource).toBe('POST /things');
    expect(span.tags).toMatchObject({
      'http.route': '/answer',
      'http.method': 'POST',
      'nest.controller': 'ProbeController',
      'nest.handler': 'answer',
      'http.status_code': '200',
    });
    expect(span.finished).toBe(1);
    expect(span.errors).toEqual([]);
  });

  it('counts the request and its duration with bounded tags: route template, method, status class', async () => {
    await run(contextFor('answer', post('/answer')), of('ok'));
    await run(contextFor('create', post('/things')), of('created'));
    const count = metrics.named('http.request.count');
    expect(count.map((m) => m.tags)).toEqual([
      ['route:/answer', 'method:post', 'status_class:2xx'],
      ['route:/things', 'method:post', 'status_class:2xx'],
    ]);
    const durations = metrics.named('http.request.duration_ms');
    expect(durations).toHaveLength(2);
    expect(durations[0]!.value).toBeGreaterThanOrEqual(0);
    // Never the raw URL (its query string is unbounded).
    expect(metrics.recorded.flatMap((m) => m.tags).some((t) => t.includes('?'))).toBe(false);
    // A POST without @HttpCode answers 201.
    expect(tracer.spans[1]!.tags['http.status_code']).toBe('201');
  });

  it("takes the status of a web Response the handler answers (an incident's 202), not the route's declared one", async () => {
    await run(contextFor('create', post('/things')), of(new Response('{}', { status: 202 })));
    expect(tracer.spans[0]!.tags['http.status_code']).toBe('202');
    expect(lines[0]!.fields).toMatchObject({ http: { status_code: 202 } });
  });

  it('writes one log line per call, with the body redacted and truncated', async () => {
    const body = { question: `mail me at someone@example.com ${'x'.repeat(100)}`, n: 3 };
    await run(contextFor('answer', post('/answer', body)), of('ok'));
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(line!.level).toBe('info');
    expect(line!.message).toBe('request completed');
    expect(line!.fields).toMatchObject({
      http: { method: 'POST', route: '/answer', status_code: 200 },
      handler: 'ProbeController.answer',
    });
    const logged = line!.fields.body as { question: string; n: number };
    expect(logged.n).toBe(3);
    expect(logged.question).not.toContain('someone@example.com');
    expect(logged.question).toContain('[REDACTED:EMAIL]');
    expect(logged.question.length).toBeLessThanOrEqual(40 + 20);
  });

  it('counts a failure with its status and code, tags the span with the code and logs it at the right level', async () => {
    const busy = new DomainError(ERRORS.BUSY, 'try later sk-abcdefghijklmnopqrstuvwxyz');
    await expect(
      run(
        contextFor('answer', post('/answer')),
        throwError(() => busy),
      ),
    ).rejects.toBe(busy);
    await expect(
      run(
        contextFor('answer', post('/answer')),
        throwError(() => new HttpException('nope', 404)),
      ),
    ).rejects.toBeInstanceOf(HttpException);

    expect(metrics.named('http.request.count').map((m) => m.tags)).toEqual([
      ['route:/answer', 'method:post', 'status_class:5xx'],
      ['route:/answer', 'method:post', 'status_class:4xx'],
    ]);
    expect(tracer.spans[0]!.tags).toMatchObject({ 'http.status_code': '503', 'error.code': 'BUSY' });
    expect(tracer.spans[0]!.errors).toEqual([busy]);
    expect(tracer.spans[1]!.tags).toMatchObject({ 'http.status_code': '404', 'error.code': 'NOT_FOUND' });
    expect(tracer.spans[1]!.errors).toEqual([]); // a 4xx is not a span error
    expect(lines.map((l) => [l.level, l.message, (l.fields.error as { code: string }).code])).toEqual([
      ['error', 'request failed', 'BUSY'],
      ['warn', 'request refused', 'NOT_FOUND'],
    ]);
    // The error message is redacted too.
    expect((lines[0]!.fields.error as { message: string }).message).toContain('[REDACTED:API_KEY]');
  });

  it('records 499 when the client goes away before the handler answers', () => {
    const never = new Observable<unknown>(() => undefined);
    const subscription = interceptor
      .intercept(contextFor('answer', post('/answer')), { handle: () => never })
      .subscribe();
    subscription.unsubscribe();
    expect(tracer.spans[0]!.tags['http.status_code']).toBe('499');
    expect(metrics.named('http.request.count')[0]!.tags).toContain('status_class:4xx');
    expect(lines.map((l) => [l.level, (l.fields.http as { status_code: number }).status_code])).toEqual([
      ['info', 499],
    ]);
  });

  it("records 503, not 499, when the server's shutdown cut the connection (SHUTDOWN_GRACE_MS ran out)", () => {
    const never = new Observable<unknown>(() => undefined);
    const socket = {};
    const cut = { ...post('/answer'), raw: { socket } };
    markCutAtShutdown([socket]);
    interceptor
      .intercept(contextFor('answer', cut), { handle: () => never })
      .subscribe()
      .unsubscribe();
    // Another connection closed by its own client at the same time is still the client's 499.
    const other = { ...post('/answer'), raw: { socket: {} } };
    interceptor
      .intercept(contextFor('answer', other), { handle: () => never })
      .subscribe()
      .unsubscribe();
    expect(tracer.spans.map((s) => s.tags['http.status_code'])).toEqual(['503', '499']);
    expect(metrics.named('http.request.count').map((m) => m.tags.find((t) => t.startsWith('status_class')))).toEqual([
      'status_class:5xx',
      'status_class:4xx',
    ]);
    expect(lines.map((l) => [l.level, l.message, (l.fields.http as { status_code: number }).status_code])).toEqual([
      ['warn', 'connection cut at shutdown (SHUTDOWN_GRACE_MS)', 503],
      ['info', 'client closed request', 499],
    ]);
  });

  describe('a streamed answer (SSE)', () => {
    /** Fastify's reply with the raw response a stream is written to. */
    const streamingReply = () => {
      const raw = Object.assign(new EventEmitter(), { writableFinished: false, destroyed: false });
      return { raw };
    };

    it('ends the request when the stream ends: success status, the whole duration', async () => {
      const reply = streamingReply();
      await run(contextFor('answer', post('/answer'), reply), of(new StreamableFile(Readable.from(['a']))));
      expect(tracer.spans[0]!.finished).toBe(0);
      expect(metrics.named('http.request.count')).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      reply.raw.writableFinished = true;
      reply.raw.emit('close');
      expect(tracer.spans[0]!.tags['http.status_code']).toBe('200');
      expect(metrics.named('http.request.count')[0]!.tags).toContain('status_class:2xx');
      expect(metrics.named('http.request.duration_ms')[0]!.value).toBeGreaterThanOrEqual(15);
    });

    it('records 499 when the client closes the stream before its end; an owner of the line writes it', async () => {
      const reply = streamingReply();
      const request = post('/answer');
      await run(
        contextFor('answer', request, reply),
        new Observable((subscriber) => {
          requests.handOffLogLine(request, 'LlmCallInstrumentation');
          subscriber.next(new StreamableFile(Readable.from(['a'])));
          subscriber.complete();
        }),
      );
      reply.raw.destroyed = true;
      reply.raw.emit('close');
      expect(tracer.spans[0]!.tags['http.status_code']).toBe('499');
      expect(metrics.named('http.request.count')[0]!.tags).toContain('status_class:4xx');
      // The call that owns the request's line writes it (with 499); the interceptor adds none.
      expect(lines).toEqual([]);
    });
  });

  it('honours @SkipTelemetry: no span, no metric, no line, and the request is not marked as routed', async () => {
    const request: FakeRequest = { method: 'GET', url: '/health', routeOptions: { url: '/health' } };
    await run(contextFor('health', request), of('ok'));
    expect(tracer.spans).toEqual([]);
    // The server span, if the tracer has one, is still named after the route (not a bare `GET`).
    expect(tracer.named).toEqual([{ resource: 'GET /health', tags: { 'http.route': '/health' } }]);
    expect(metrics.recorded).toEqual([]);
    expect(lines).toEqual([]);
    expect(request[ROUTED_MARK]).toBeUndefined();
    expect(requests.handOffLogLine(request, 'Other')).toBeUndefined();
  });

  it('marks the request as routed, so the problem filter does not count it a second time', async () => {
    const request = post('/answer');
    await run(contextFor('answer', request), of('ok'));
    expect(request[ROUTED_MARK]).toBe(true);
  });

  describe('log line hand-off', () => {
    it('gives the owner its HTTP fields and writes no line of its own when the call succeeds', async () => {
      const request = post('/answer', { q: 'hi' });
      let handed: unknown;
      await run(
        contextFor('answer', request),
        new Observable((subscriber) => {
          handed = requests.handOffLogLine(request, 'LlmCallInstrumentation');
          subscriber.next('ok');
          subscriber.complete();
        }),
      );
      expect(handed).toEqual({ method: 'POST', route: '/answer', status_code: 200 });
      expect(requests.logLineOwner(request)).toBe('LlmCallInstrumentation');
      expect(lines).toEqual([]);
      // Span and metrics are not handed off.
      expect(tracer.spans).toHaveLength(1);
      expect(metrics.named('http.request.count')).toHaveLength(1);
    });

    it('still writes its own line when the call fails after the hand-off', async () => {
      const request = post('/answer');
      await expect(
        run(
          contextFor('answer', request),
          new Observable((subscriber) => {
            requests.handOffLogLine(request, 'LlmCallInstrumentation');
            subscriber.error(new DomainError(ERRORS.BUSY, 'busy'));
          }),
        ),
      ).rejects.toBeInstanceOf(DomainError);
      expect(lines.map((l) => l.message)).toEqual(['request failed']);
    });

    it('writes its own line when nothing took it over', async () => {
      const request = post('/answer');
      await run(contextFor('answer', request), of('ok'));
      expect(requests.logLineOwner(request)).toBeUndefined();
      expect(lines.map((l) => l.message)).toEqual(['request completed']);
    });
  });
});
