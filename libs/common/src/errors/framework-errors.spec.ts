import { plainToInstance } from 'class-transformer';
import { IsInt, IsOptional, Min, validateSync } from 'class-validator';
import { NumberFromText } from '../validation/number-from-text';
import { FrameworkErrorResponder } from './framework-errors';
import { PROBLEM_CONTENT_TYPE, type Problem } from './problem';
import { RequestOutcomeRecorder, type UnroutedOutcome } from './request-outcome.recorder';
import { TraceIdProvider } from './trace-id.provider';

/** Fastify's router errors, as its `frameworkErrors` option receives them. */
const routerError = (code: string, statusCode: number, message: string): Error =>
  Object.assign(new Error(message), { code, statusCode });

class FakeReply {
  statusCode?: number;
  readonly headers: Record<string, string> = {};
  payload?: string;
  elapsedTime = 0.4;
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
  }
}

describe('FrameworkErrorResponder', () => {
  const unrouted: UnroutedOutcome[] = [];
  const providers = new Map<unknown, unknown>([
    [TraceIdProvider, { currentTraceId: () => 'abc123' } satisfies TraceIdProvider],
    [RequestOutcomeRecorder, { recordUnrouted: (o: UnroutedOutcome) => void unrouted.push(o) }],
  ]);

  const answer = (responder: FrameworkErrorResponder, error: Error, url: string): FakeReply => {
    const reply = new FakeReply();
    responder.handler(error, { raw: { method: 'GET', url, headers: {} } }, reply);
    return reply;
  };

  it('answers a path that is not UTF-8 with a 400 problem, without quoting the path', () => {
    const responder = new FrameworkErrorResponder();
    responder.bind({ get: (token) => providers.get(token) });
    const path = '/v1/models/%FF';
    const reply = answer(
      responder,
      routerError('FST_ERR_BAD_URL', 400, `'${path}' is not a valid url component`),
      path,
    );
    expect(reply.statusCode).toBe(400);
    expect(reply.headers['content-type']).toBe(PROBLEM_CONTENT_TYPE);
    const body = JSON.parse(reply.payload!) as Problem;
    expect(body).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST', instance: path, traceId: 'abc123' });
    expect(body.detail).not.toContain(path);
    expect(unrouted.at(-1)).toMatchObject({ method: 'GET', status: 400, code: 'MALFORMED_REQUEST' });
  });

  it('answers an over-long path parameter with 414 URI_TOO_LONG, also before bind (no telemetry)', () => {
    const long = `/optimization/recommendations/${'x'.repeat(2000)}`;
    const reply = answer(
      new FrameworkErrorResponder(),
      routerError('FST_ERR_MAX_PARAM_LENGTH', 414, `'${long}' is exceeding the max param length`),
      long,
    );
    expect(reply.statusCode).toBe(414);
    const body = JSON.parse(reply.payload!) as Problem;
    expect(body).toMatchObject({ status: 414, code: 'URI_TOO_LONG', title: 'URI too long' });
    expect(body).not.toHaveProperty('traceId');
    expect(body.detail.length).toBeLessThan(200);
    // `instance` quotes 256 characters of the path, not the 2 KB sent.
    expect(body.instance).toBe(`${long.slice(0, 256)}…`);
  });

  it('quotes at most 256 characters of an 8 KB path that is not UTF-8', () => {
    const path = `/v1/models/%FF${'a'.repeat(8000)}`;
    const reply = answer(new FrameworkErrorResponder(), routerError('FST_ERR_BAD_URL', 400, `'${path}' bad`), path);
    expect(reply.statusCode).toBe(400);
    expect((JSON.parse(reply.payload!) as Problem).instance).toBe(`${path.slice(0, 256)}…`);
    expect(reply.payload!.length).toBeLessThan(1000);
  });

  it('resolves nothing from an app that lacks the providers', () => {
    const responder = new FrameworkErrorResponder();
    responder.bind({
      get: () => {
        throw new Error('not found');
      },
    });
    const reply = answer(responder, routerError('FST_ERR_BAD_URL', 400, 'bad'), '/%zz');
    expect(reply.statusCode).toBe(400);
  });
});

class Query {
  @IsOptional()
  @NumberFromText()
  @IsInt()
  @Min(1)
  days?: number;
}

describe('NumberFromText', () => {
  const check = (days: unknown): { value: unknown; valid: boolean } => {
    const query = plainToInstance(Query, { days });
    return { value: query.days, valid: validateSync(query).length === 0 };
  };

  it('takes decimal text and numbers', () => {
    expect(check('24')).toEqual({ value: 24, valid: true });
    expect(check('1e1')).toEqual({ value: 10, valid: true });
    expect(check(7)).toEqual({ value: 7, valid: true });
  });

  it('leaves everything else for the validators to refuse (Number() took all of these)', () => {
    for (const value of [true, '0x10', '0b11', '', ' ', 'Infinity', [], ['3'], '1,5'])
      expect(check(value)).toEqual({ value, valid: false });
  });
});
