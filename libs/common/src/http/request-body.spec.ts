import 'reflect-metadata';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { DomainError, RequestValidationError } from '../errors/domain-error';
import { RequestValidationPipe } from '../validation/validation';
import { parseJsonBody, unsupportedMediaType } from './json-body';

const json = (body: string, headers: Record<string, string> = {}): unknown =>
  parseJsonBody({ headers: { 'content-type': 'application/json', ...headers } }, body);

function thrown(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError');
}

describe('parseJsonBody', () => {
  it('parses a JSON body', () => {
    expect(json('{"prompt":"hi","n":[1,2]}')).toEqual({ prompt: 'hi', n: [1, 2] });
    expect(json('{"a":1}', { 'content-encoding': 'identity' })).toEqual({ a: 1 });
  });

  it('says where invalid JSON breaks, without quoting the body', () => {
    const secret = 'sk-live-abcdefghijklmnop';
    const cases: [string, RegExp][] = [
      ['{"prompt":', /^it ends early, after 10 characters$/],
      ['{x', /^expected property name or '\}' at position 1 \(line 1 column 2\)$/],
      ['{"a":1}}', /^unexpected non-whitespace character after JSON at position 7/],
      [`{"prompt":${secret}}`, /^unexpected character 's'$/],
      [
        `{"prompt":"${secret}" ${secret}}`,
        /^expected ',' or '\}' after property value at position 37 \(line 1 column 38\)$/,
      ],
    ];
    for (const [body, reason] of cases) {
      const error = thrown(() => json(body));
      expect(error.code).toBe('MALFORMED_REQUEST');
      expect(error.status).toBe(400);
      const errors = error.extensions.errors as { field: string; reason: string }[];
      expect(errors).toHaveLength(1);
      expect(errors[0]!.field).toBe('body');
      expect(errors[0]!.reason).toMatch(reason);
      expect(JSON.stringify({ detail: error.detail, errors })).not.toContain('abcdefgh');
    }
  });

  it('refuses prototype-poisoning keys with that reason', () => {
    for (const body of ['{"prompt":"hi","__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}']) {
      const error = thrown(() => json(body));
      expect(error.code).toBe('MALFORMED_REQUEST');
      expect(error.detail).toContain('"__proto__" or "constructor.prototype" key');
    }
  });

  it('answers an empty body with 400 and a compressed one with 415 naming the encoding', () => {
    expect(thrown(() => json('  ')).detail).toBe('The body is empty: send a JSON object.');
    const gzip = thrown(() => json('{"a":1}', { 'content-encoding': 'gzip' }));
    expect(gzip.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(gzip.status).toBe(415);
    expect(gzip.detail).toContain("'gzip'");
    expect(gzip.extensions.errors).toEqual([expect.objectContaining({ field: 'content-encoding' })]);
  });

  it('names the media type that came in a 415, bounded and printable', () => {
    const form = unsupportedMediaType('application/x-www-form-urlencoded');
    expect(form.status).toBe(415);
    expect(form.detail).toBe(
      "Content-Type 'application/x-www-form-urlencoded' is not supported: send the body as JSON with Content-Type: application/json.",
    );
    expect(unsupportedMediaType(undefined).detail).toMatch(/^Content-Type none is not supported/);
    const odd = unsupportedMediaType(`text/\u0000${'x'.repeat(500)}`).detail;
    expect(odd).not.toContain('\u0000');
    expect(odd.length).toBeLessThan(220);
  });
});

class Sample {
  @MaxLength(50)
  @MinLength(1)
  @IsString()
  prompt!: string;

  @IsOptional()
  @Max(100)
  @Min(1)
  @IsInt()
  repetitions?: number;
}

describe('RequestValidationPipe', () => {
  const pipe = new RequestValidationPipe();
  const body = { type: 'body' as const, metatype: Sample, data: undefined };

  async function problems(value: unknown): Promise<{ field: string; reason: string }[]> {
    try {
      await pipe.transform(value, body);
    } catch (error) {
      if (error instanceof RequestValidationError) return error.errors;
      throw error;
    }
    throw new Error('expected a validation error');
  }

  it('passes a valid body through as the DTO', async () => {
    await expect(pipe.transform({ prompt: 'hi', repetitions: 3 }, body)).resolves.toEqual(
      Object.assign(new Sample(), { prompt: 'hi', repetitions: 3 }),
    );
  });

  it('gives one clear reason per field: required, else the type error, else each failed constraint', async () => {
    expect(await problems({})).toEqual([{ field: 'prompt', reason: 'prompt is required' }]);
    expect(await problems({ prompt: 5 })).toEqual([{ field: 'prompt', reason: 'prompt must be a string' }]);
    expect(await problems({ prompt: null })).toEqual([{ field: 'prompt', reason: 'prompt must be a string' }]);
    expect(await problems({ prompt: 'x'.repeat(51), repetitions: 'many' })).toEqual([
      { field: 'prompt', reason: 'prompt must be shorter than or equal to 50 characters' },
      { field: 'repetitions', reason: 'repetitions must be an integer number' },
    ]);
    expect(await problems({ prompt: 'ok', repetitions: 0, extra: 1 })).toEqual([
      { field: 'extra', reason: 'property extra should not exist' },
      { field: 'repetitions', reason: 'repetitions must not be less than 1' },
    ]);
  });

  it('answers a body that is not a JSON object with one `body` error', async () => {
    expect(await problems(undefined)).toEqual([
      { field: 'body', reason: 'a JSON object is required (Content-Type: application/json)' },
    ]);
    expect(await problems([1, 2])).toEqual([{ field: 'body', reason: 'must be a JSON object, not an array' }]);
    expect(await problems('hello')).toEqual([{ field: 'body', reason: 'must be a JSON object, not a string' }]);
    expect(await problems(null)).toEqual([{ field: 'body', reason: 'must be a JSON object, not null' }]);
  });

  it('leaves queries and parameters to the usual validation', async () => {
    await expect(pipe.transform('42', { type: 'param', metatype: String, data: 'id' })).resolves.toBe('42');
  });
});
