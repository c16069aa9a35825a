import {
  type ArgumentsHost,
  BadRequestException,
  ForbiddenException,
  HttpException,
  NotFoundException,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DomainError, RequestValidationError } from './domain-error';
import { defineErrorCodes } from './error-codes';
import { ErrorRenderers } from './error-renderers';
import { buildProblem, MAX_QUOTED_PATH_CHARS, PROBLEM_CONTENT_TYPE, type Problem, quotedPath } from './problem';
import { ProblemDetailsFilter } from './problem-details.filter';
import { RequestOutcomeRecorder, type UnroutedOutcome } from './request-outcome.recorder';
import { ROUTED_MARK } from './routed-mark';
import { TraceIdProvider } from './trace-id.provider';

const TRACE_ID = '6b0b4fc40000000046dd909b029c389c';

const LIB_ERRORS = defineErrorCodes({
  CIRCUIT_OPEN: { status: 503, title: 'Circuit breaker open' },
  BUDGET_EXCEEDED: { status: 429, title: 'Daily budget exceeded' },
});

interface FakeRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  server?: { findRoute(options: { method: string; url: string }): unknown };
  routeOptions?: { url?: string };
  [ROUTED_MARK]?: boolean;
}

/** What the filter sent: status, headers and the parsed body. */
class FakeReply {
  statusCode?: number;
  readonly headers: Record<string, string> = {};
  payload?: string;
  sent = false;
  raw = { headersSent: false, writableEnded: false, ended: 0, end: () => void this.raw.ended++ };
  elapsedTime = 12.5;

  status(code: number): this {
    this.statusCode = code;
    return this;
  }
  header(name: string, value: string): this {
    this.headers[name] = value;
    return this;
  }
  send(payload: string): void {
    this.payload = payload;
    this.sent = true;
  }
  get body(): Problem {
    return JSON.parse(this.payload!) as Problem;
  }
}

function hostFor(request: FakeRequest, reply: FakeReply): ArgumentsHost {
  return {
    getType: () => 'http',
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply, getNext: () => undefined }),
  } as unknown as ArgumentsHost;
}

function routed(method: string, url: string): FakeRequest {
  return { method, url, headers: {}, routeOptions: { url: url.split('?')[0] }, [ROUTED_MARK]: true };
}

describe('ProblemDetailsFilter', () => {
  let filter: ProblemDetailsFilter;
  let unrouted: UnroutedOutcome[];
  let traceId: string | undefined;
  let renderers: ErrorRenderers;

  beforeEach(async () => {
    unrouted = [];
    traceId = TRACE_ID;
    const module = await Test.createTestingModule({
      providers: [
        ProblemDetailsFilter,
        ErrorRenderers,
        { provide: TraceIdProvider, useValue: { currentTraceId: () => traceId } satisfies TraceIdProvider },
        {
          provide: RequestOutcomeRecorder,
          useValue: { recordUnrouted: (o: UnroutedOutcome) => void unrouted.push(o) } satisfies RequestOutcomeRecorder,
        },
      ],
    }).compile();
    filter = module.get(ProblemDetailsFilter);
    renderers = module.get(ErrorRenderers);
  });

  const answer = (thrown: unknown, request: FakeRequest): FakeReply => {
    const reply = new FakeReply();
    filter.catch(thrown, hostFor(request, reply));
    return reply;
  };

  it('renders the errors of a registered path prefix with its renderer, even those no controller saw', () => {
    renderers.register('/v1/', (thrown, problem) => ({
      status: problem.status,
      contentType: 'application/json; charset=utf-8',
      headers: { ...problem.headers, 'x-code': problem.body.code },
      body: JSON.stringify({ error: { message: problem.body.detail, thrown: (thrown as Error).name } }),
    }));
    const notFound = answer(new NotFoundException('Cannot GET /v1/nope'), { method: 'GET', url: '/v1/nope?x=1' });
    expect(notFound.statusCode).toBe(404);
    expect(notFound.headers).toEqual({ 'content-type': 'application/json; charset=utf-8', 'x-code': 'NOT_FOUND' });
    expect(JSON.parse(notFound.payload!)).toEqual({
      error: { message: 'Cannot GET /v1/nope', thrown: 'NotFoundException' },
    });
    // An unrouted request is still counted.
    expect(unrouted).toHaveLength(1);
    expect(answer(new NotFoundException(), { method: 'GET', url: '/v1' }).headers['x-code']).toBe('NOT_FOUND');
    // Elsewhere (and on a path that only starts like the prefix): problem+json.
    for (const url of ['/qa', '/v10/x', '/api/v1/x']) {
      expect(answer(new NotFoundException(), { method: 'GET', url }).headers['content-type']).toBe(
        PROBLEM_CONTENT_TYPE,
      );
    }
  });

  it("renders a lib's DomainError with its code's status, type and title, its extensions and headers", () => {
    const error = new DomainError(LIB_ERRORS.BUDGET_EXCEEDED, 'spent', { dailyBudgetUsd: 1 }, { 'retry-after': '60' });
    const reply = answer(error, routed('POST', '/qa?simulate_retry=true'));
    expect(reply.statusCode).toBe(429);
    expect(reply.headers).toEqual({ 'content-type': PROBLEM_CONTENT_TYPE, 'retry-after': '60' });
    // Byte for byte: the members and their order are the wire format (docs/errors.md).
    expect(reply.payload).toBe(
      JSON.stringify({
        type: 'urn:lrcp:problem:budget-exceeded',
        title: 'Daily budget exceeded',
        status: 429,
        detail: 'spent',
        instance: '/qa',
        code: 'BUDGET_EXCEEDED',
        traceId: TRACE_ID,
        dailyBudgetUsd: 1,
      }),
    );
  });

  it('an extension adds members, never replaces a standard one (status, code, type, ...)', () => {
    const error = new DomainError(LIB_ERRORS.BUDGET_EXCEEDED, 'spent', { status: 'pending', code: 'X', extra: 1 });
    const body = buildProblem(error, { instance: '/qa' }).body;
    expect(body).toMatchObject({ status: 429, code: 'BUDGET_EXCEEDED', extra: 1 });
  });

  it('builds its body with buildProblem, the builder of the SSE error event: same members for the same failure', () => {
    const error = new DomainError(LIB_ERRORS.CIRCUIT_OPEN, 'every circuit is open', { attempts: 0 });
    const reply = answer(error, routed('POST', '/reason'));
    const sse = buildProblem(error, { instance: '/reason', traceId: TRACE_ID });
    expect(reply.body).toEqual(sse.body);
    expect(reply.statusCode).toBe(sse.status);
  });

  it('passes an HttpException through: its status and message, with the generic code of that status', () => {
    const reply = answer(new ForbiddenException('not yours'), routed('GET', '/forecast/cost'));
    expect(reply.statusCode).toBe(403);
    expect(reply.body).toEqual({
      type: 'urn:lrcp:problem:forbidden',
      title: 'Forbidden',
      status: 403,
      detail: 'not yours',
      instance: '/forecast/cost',
      code: 'FORBIDDEN',
      traceId: TRACE_ID,
    });
    const teapot = answer(new HttpException('short and stout', 418), routed('GET', '/x'));
    expect(teapot.statusCode).toBe(418);
    expect(teapot.body).toMatchObject({ status: 418, code: 'MALFORMED_REQUEST', detail: 'short and stout' });
    // A 5xx HttpException does not echo its message.
    const gateway = answer(new HttpException('db at 10.0.0.7 refused', 502), routed('GET', '/x'));
    expect(gateway.body).toMatchObject({
      status: 502,
      code: 'UPSTREAM_ERROR',
      detail: 'Upstream model provider failed',
    });
  });

  it('answers anything unknown with a generic 500 that reveals nothing of the error', () => {
    const reply = answer(new Error('password=hunter2 at /srv/app/secret.ts:12'), routed('POST', '/qa'));
    expect(reply.statusCode).toBe(500);
    expect(reply.body).toEqual({
      type: 'urn:lrcp:problem:internal',
      title: 'Internal server error',
      status: 500,
      detail: 'An unexpected error occurred. Quote the traceId when reporting it.',
      instance: '/qa',
      code: 'INTERNAL',
      traceId: TRACE_ID,
    });
    expect(reply.payload).not.toContain('hunter2');
    expect(answer('a string', routed('POST', '/qa')).body.code).toBe('INTERNAL');
  });

  it('answers 405 with Allow when the path exists for other methods, 404 when it does not', () => {
    const server = {
      findRoute: ({ method, url }: { method: string; url: string }) => method === 'POST' && url === '/reason',
    };
    const wrongMethod = answer(new NotFoundException(), { method: 'GET', url: '/reason?x=1', headers: {}, server });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
    expect(wrongMethod.body).toMatchObject({
      type: 'urn:lrcp:problem:method-not-allowed',
      code: 'METHOD_NOT_ALLOWED',
      allow: ['POST'],
      detail: 'GET is not allowed on /reason: use POST.',
    });
    const missing = answer(new NotFoundException('Cannot GET /nowhere'), {
      method: 'GET',
      url: '/nowhere',
      headers: {},
      server,
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers.allow).toBeUndefined();
    expect(missing.body.code).toBe('NOT_FOUND');
  });

  it("answers 404, not 405, when a route of the request's own method matched and found nothing", () => {
    // The `/docs/*` static route is registered for GET and HEAD: a missing file is "not found" for both, whatever
    // other methods the router also has for the path.
    const server = {
      findRoute: ({ method, url }: { method: string; url: string }) =>
        (method === 'GET' || method === 'HEAD') && url.startsWith('/docs/'),
    };
    for (const method of ['GET', 'HEAD']) {
      const reply = answer(new NotFoundException(`Cannot ${method} /docs/nope.js`), {
        method,
        url: '/docs/nope.js',
        headers: {},
        server,
      });
      expect(reply.statusCode).toBe(404);
      expect(reply.headers.allow).toBeUndefined();
      expect(reply.body.code).toBe('NOT_FOUND');
    }
    expect(
      answer(new NotFoundException(), { method: 'POST', url: '/docs/nope.js', headers: {}, server }).headers.allow,
    ).toBe('GET, HEAD');
  });

  it('quotes at most 256 characters of the path, in instance and in the detail of a 404 or 405, never the query', () => {
    const long = `/qa/${'a'.repeat(8000)}`;
    const cut = `/qa/${'a'.repeat(MAX_QUOTED_PATH_CHARS - 4)}…`;
    const server = {
      findRoute: ({ method, url }: { method: string; url: string }) => method === 'POST' && url === long,
    };
    // Nest's own 404 for a request no route matched quotes the URL as sent.
    const url = `${long.replace('/qa/', '/nope/')}?token=s3cret`;
    const missing = answer(new NotFoundException(`Cannot DELETE ${url}`), { method: 'DELETE', url, headers: {} });
    expect(missing.statusCode).toBe(404);
    expect(missing.body.instance).toBe(`${url.slice(0, MAX_QUOTED_PATH_CHARS)}…`);
    expect(missing.body.detail).toBe(`Cannot DELETE ${missing.body.instance}`);
    expect(missing.payload).not.toContain('s3cret');
    expect(missing.payload!.length).toBeLessThan(1000);
    // The short one reads as Nest's, without the query string.
    expect(answer(new NotFoundException('Cannot GET /x?a=1'), { method: 'GET', url: '/x?a=1' }).body).toMatchObject({
      code: 'NOT_FOUND',
      detail: 'Cannot GET /x',
      instance: '/x',
    });
    // A controller's own 404 keeps its detail.
    expect(answer(new NotFoundException('No such thing.'), routed('GET', '/x')).body.detail).toBe('No such thing.');
    // The router is asked with the whole path; the answer quotes it cut.
    const wrong = answer(new NotFoundException(`Cannot GET ${long}`), {
      method: 'GET',
      url: long,
      headers: {},
      server,
    });
    expect(wrong.statusCode).toBe(405);
    expect(wrong.body.instance).toBe(cut);
    expect(wrong.body.detail).toBe(`GET is not allowed on ${cut}: use POST.`);
    // The builder cuts whatever instance it is given (the SSE error event too).
    expect(buildProblem(new Error('x'), { instance: long }).body.instance).toBe(cut);
  });

  it('cuts a quoted path at 256 characters with an ellipsis, never inside a surrogate pair', () => {
    expect(quotedPath('/qa')).toBe('/qa');
    const exact = `/${'b'.repeat(MAX_QUOTED_PATH_CHARS - 1)}`;
    expect(quotedPath(exact)).toBe(exact);
    expect(quotedPath(`${exact}c`)).toBe(`${exact}…`);
    const pair = `/${'b'.repeat(MAX_QUOTED_PATH_CHARS - 2)}😀tail`;
    expect(quotedPath(pair)).toBe(`/${'b'.repeat(MAX_QUOTED_PATH_CHARS - 2)}…`);
  });

  it('lists every invalid field of a validation error', () => {
    const error = new RequestValidationError([
      { field: 'question', reason: 'is required' },
      { field: 'repetitions', reason: 'must not be greater than 100' },
    ]);
    const reply = answer(error, routed('POST', '/stress'));
    expect(reply.statusCode).toBe(400);
    expect(reply.body).toMatchObject({
      type: 'urn:lrcp:problem:validation-failed',
      code: 'VALIDATION_FAILED',
      detail: '2 fields are invalid: question, repetitions',
      errors: [
        { field: 'question', reason: 'is required' },
        { field: 'repetitions', reason: 'must not be greater than 100' },
      ],
    });
  });

  it("maps Fastify's request errors to their codes, and names the media type sent", () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), {
      statusCode: 413,
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
    });
    expect(answer(tooLarge, { method: 'POST', url: '/qa', headers: {} }).body).toMatchObject({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
      detail: 'Request body is too large',
    });
    const media = new BadRequestException('unsupported', {
      cause: Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }),
    });
    const reply = answer(media, { method: 'POST', url: '/qa', headers: { 'content-type': 'text/plain' } });
    expect(reply.statusCode).toBe(415);
    expect(reply.body).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(reply.body.detail).toContain("'text/plain'");
  });

  it('carries the trace id when there is one, and leaves it out when tracing is off', () => {
    expect(answer(new NotFoundException(), routed('GET', '/x')).body.traceId).toBe(TRACE_ID);
    traceId = undefined;
    expect('traceId' in answer(new NotFoundException(), routed('GET', '/x')).body).toBe(false);
  });

  it('records a request no controller saw (the interceptor did not), and only such a request', () => {
    answer(new NotFoundException(), { method: 'GET', url: '/nowhere', headers: {} });
    answer(new NotFoundException(), routed('GET', '/forecast/cost'));
    expect(unrouted).toEqual([{ method: 'GET', route: undefined, status: 404, code: 'NOT_FOUND', durationMs: 12.5 }]);
  });

  it('only closes a stream that already started (its error went in-band as an SSE event)', () => {
    const reply = new FakeReply();
    reply.raw.headersSent = true;
    filter.catch(new Error('late'), hostFor(routed('POST', '/qa'), reply));
    expect(reply.payload).toBeUndefined();
    expect(reply.raw.ended).toBe(1);
  });
});
