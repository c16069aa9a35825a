import 'reflect-metadata';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants.js';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { DomainError, RequestValidationError } from '../errors/domain-error';
import { RequestValidationPipe } from '../validation/validation';
import {
  JSON_MAX_ARRAY_ITEMS,
  JSON_MAX_DEPTH,
  JSON_MAX_KEYS,
  JsonBodyLimit,
  parseJsonBody,
  routeJsonBodyLimits,
  unsupportedMediaType,
} from './json-body';

const json = (body: string | Buffer, headers: Record<string, string> = {}): unknown =>
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

  const reasonOf = (body: string | Buffer): string => {
    const error = thrown(() => parseJsonBody({ headers: {} }, body));
    expect(error.code).toBe('MALFORMED_REQUEST');
    expect(error.status).toBe(400);
    const errors = error.extensions.errors as { field: string; reason: string }[];
    expect(errors).toEqual([{ field: 'body', reason: expect.any(String) }]);
    return errors[0]!.reason;
  };
  const nested = (depth: number, open = '[', close = ']'): string =>
    `{"question":"hi","x":${open.repeat(depth - 1)}${close.repeat(depth - 1)}}`;

  it('takes nesting up to JSON_MAX_DEPTH levels and refuses one more, before parsing', () => {
    expect(json(nested(JSON_MAX_DEPTH))).toMatchObject({ question: 'hi' });
    expect(json(`{"a":${'{"b":'.repeat(JSON_MAX_DEPTH - 2)}1${'}'.repeat(JSON_MAX_DEPTH - 2)}}`)).toBeDefined();
    for (const depth of [JSON_MAX_DEPTH + 1, 1000, 10_000, 100_000, 500_000]) {
      expect(reasonOf(nested(depth))).toBe(`nesting deeper than ${JSON_MAX_DEPTH} levels`);
      expect(reasonOf(`{"x":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`)).toBe(
        `nesting deeper than ${JSON_MAX_DEPTH} levels`,
      );
    }
    // Brackets inside strings (escaped quotes and backslashes included) are text, not nesting.
    const text = `x\\"${'['.repeat(500)}\\\\`;
    expect(json(`{"question":"${text}"}`)).toEqual({ question: JSON.parse(`"${text}"`) });
  });

  it('refuses more than JSON_MAX_KEYS keys or JSON_MAX_ARRAY_ITEMS array items over the whole body', () => {
    const keys = (n: number): string => `{${Array.from({ length: n }, (_, i) => `"k${i}":{}`).join(',')}}`;
    expect(Object.keys(json(keys(JSON_MAX_KEYS)) as object)).toHaveLength(JSON_MAX_KEYS);
    expect(reasonOf(keys(JSON_MAX_KEYS + 1))).toBe(`more than ${JSON_MAX_KEYS} object keys`);
    expect(reasonOf(keys(100_000))).toBe(`more than ${JSON_MAX_KEYS} object keys`);
    // Spread over nested objects, the keys still add up.
    const spread = `{${Array.from({ length: 11 }, (_, i) => `"o${i}":${keys(99)}`).join(',')}}`;
    expect(reasonOf(spread)).toBe(`more than ${JSON_MAX_KEYS} object keys`);

    const items = (n: number): string => `{"x":[${Array.from({ length: n }, () => '[]').join(',')}]}`;
    expect((json(items(JSON_MAX_ARRAY_ITEMS)) as { x: unknown[] }).x).toHaveLength(JSON_MAX_ARRAY_ITEMS);
    expect(reasonOf(items(JSON_MAX_ARRAY_ITEMS + 1))).toBe(`more than ${JSON_MAX_ARRAY_ITEMS} array items`);
    expect(reasonOf(`[${'1,'.repeat(250_000)}1]`)).toBe(`more than ${JSON_MAX_ARRAY_ITEMS} array items`);
    // Commas and colons in strings are not counted.
    expect(json(`{"question":"${'a:b,'.repeat(5000)}"}`)).toBeDefined();
  });

  it("applies a route's own width limits (@JsonBodyLimit, read from the route's config) instead of the default", () => {
    const keys = (n: number): string => `{${Array.from({ length: n }, (_, i) => `"k${i}":1`).join(',')}}`;
    const limits = { maxKeys: 5000, maxArrayItems: 3000 };
    const wide = thrown(() => parseJsonBody({ headers: {} }, keys(5001), limits));
    expect(wide.extensions.errors).toEqual([{ field: 'body', reason: 'more than 5000 object keys' }]);
    expect(Object.keys(parseJsonBody({ headers: {} }, keys(5000), limits) as object)).toHaveLength(5000);
    const items = `{"x":[${'1,'.repeat(3000)}1]}`;
    expect(thrown(() => parseJsonBody({ headers: {} }, items, limits)).extensions.errors).toEqual([
      { field: 'body', reason: 'more than 3000 array items' },
    ]);

    // The decorator puts the limits in the route's Fastify config; a route without them gets the default.
    class Routes {
      @JsonBodyLimit(limits)
      wide(): void {}
    }
    const config: unknown = Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, Routes.prototype.wide);
    expect(routeJsonBodyLimits(config)).toEqual(limits);
    expect(routeJsonBodyLimits(undefined)).toEqual({ maxKeys: JSON_MAX_KEYS, maxArrayItems: JSON_MAX_ARRAY_ITEMS });
    expect(routeJsonBodyLimits({ other: true })).toEqual({
      maxKeys: JSON_MAX_KEYS,
      maxArrayItems: JSON_MAX_ARRAY_ITEMS,
    });
  });

  it('refuses a 1 MB deep or wide body in about a millisecond', () => {
    const deep = Buffer.from(nested(500_000));
    const wide = Buffer.from(`{${Array.from({ length: 90_000 }, (_, i) => `"k${i}":1`).join(',')}}`);
    for (const body of [deep, wide]) {
      reasonOf(body);
      // The fastest of 20 (not their mean: one run preempted for a time slice on a loaded runner, or a GC, adds
      // tens of ms to a mean of 20 runs of 0.6 ms); what it guards against is slow on every run.
      let fastest = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 20; i++) {
        const start = process.hrtime.bigint();
        reasonOf(body);
        fastest = Math.min(fastest, Number(process.hrtime.bigint() - start) / 1e6);
      }
      // Typically 0.6 ms (decoding 1 MB is most of it); JSON.parse alone takes 30-50 ms, the walk after it seconds.
      expect(fastest).toBeLessThan(10);
    }
  });

  it('refuses bytes that are not UTF-8, in strings, keys or between them', () => {
    const bytes = (...parts: (string | number[])[]): Buffer =>
      Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    for (const bad of [
      [0xc3, 0x28],
      [0xff],
      [0xed, 0xa0, 0x80],
      [0xc0, 0xaf],
      [0xf8, 0x88, 0x80, 0x80, 0x80],
      [0xe2],
    ]) {
      expect(reasonOf(bytes('{"question":"hi', bad, '"}'))).toBe('is not valid UTF-8');
      expect(reasonOf(bytes('{"', bad, '":1}'))).toBe('is not valid UTF-8');
      expect(reasonOf(bytes('{"question":"hi"}', bad))).toBe('is not valid UTF-8');
    }
    expect(json(bytes('{"question":"', [0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80], '"}'))).toEqual({
      question: 'é😀',
    });
  });

  it('refuses a lone UTF-16 surrogate in a string or a key, and takes a pair', () => {
    const reason = 'a string holds a lone UTF-16 surrogate (a \\uD800-\\uDFFF escape without its pair)';
    for (const body of [
      '{"question":"hi\\ud800"}',
      '{"question":"\\udfff hi"}',
      '{"question":"\\ud800\\u0041"}',
      '{"question":"\\ude00\\ud83d"}',
      '{"x":[["\\uDBFF"]]}',
      '{"\\udc00":1}',
    ]) {
      expect(reasonOf(body)).toBe(reason);
    }
    expect(json('{"question":"\\ud83d\\ude00 \\\\ud800"}')).toEqual({ question: '😀 \\ud800' });
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

  it('takes unknown fields out before the value is transformed, and refuses them with the other problems', async () => {
    // Nested 3,500 deep, an unknown field overflowed class-transformer's recursion: 500 INTERNAL.
    let deep: unknown = [];
    for (let i = 0; i < 3500; i++) deep = [deep];
    expect(await problems({ prompt: 'ok', x: deep })).toEqual([{ field: 'x', reason: 'property x should not exist' }]);
    expect(await problems({ prompt: 5, x: deep })).toEqual([
      { field: 'x', reason: 'property x should not exist' },
      { field: 'prompt', reason: 'prompt must be a string' },
    ]);
    // A wide unknown object costs nothing to refuse (class-transformer took 4 s for 90,000 keys; a few ms now: the
    // bound is a tenth of the defect, for a slow runner).
    const wide = Object.fromEntries(Array.from({ length: 90_000 }, (_, i) => [`k${i}`, { v: i }]));
    const start = performance.now();
    expect(await problems({ prompt: 'ok', x: wide })).toEqual([{ field: 'x', reason: 'property x should not exist' }]);
    expect(performance.now() - start).toBeLessThan(400);
  });

  it('names at most 20 unknown fields, each cut to 100 characters, and counts the rest', async () => {
    const many = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`extra${i}`, i]));
    const listed = await problems({ prompt: 'ok', ...many });
    expect(listed).toHaveLength(21);
    expect(listed[20]).toEqual({ field: 'body', reason: '5 more unknown fields' });
    const [long] = await problems({ prompt: 'ok', ['k'.repeat(100_000)]: 1 });
    expect(long!.field).toBe(`${'k'.repeat(100)}…`);
    expect(long!.reason.length).toBeLessThan(130);
  });

  it('refuses unknown query fields the same way', async () => {
    const query = { type: 'query' as const, metatype: Sample, data: undefined };
    await expect(pipe.transform({ prompt: 'ok', 'x\uFFFD': 'y' }, query)).rejects.toMatchObject({
      errors: [{ field: 'x\uFFFD', reason: 'property x\uFFFD should not exist' }],
    });
  });

  it('leaves queries and parameters to the usual validation', async () => {
    await expect(pipe.transform('42', { type: 'param', metatype: String, data: 'id' })).resolves.toBe('42');
  });
});
