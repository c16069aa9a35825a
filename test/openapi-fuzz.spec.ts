import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  type FuzzCase,
  generateFuzzCases,
  type OpenApiDocument,
  type OpenApiParameter,
  operationsOf,
  validValue,
} from './support/openapi-fuzz';

/** The case generator of the fuzz run (test/fuzz.e2e-spec.ts): what it produces for a document. */

const LIMIT = 4096;

/** One secured POST with a path id, a query flag and a body of two fields; one open GET. */
const MINI: OpenApiDocument = {
  paths: {
    '/things/{id}': {
      post: {
        operationId: 'createThing',
        security: [{ bearer: [] }],
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'dry_run', in: 'query', required: false, schema: { type: 'boolean' } },
        ],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/ThingDto' } } },
        },
        responses: { '201': {}, '400': {} },
      },
    },
    '/status': { get: { security: [], responses: { '200': {} } } },
  },
  components: {
    schemas: {
      ThingDto: {
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 5 },
          count: { type: 'number', minimum: 1, maximum: 3 },
          kind: { type: 'string', enum: ['Small', 'Large'] },
        },
        required: ['name', 'count'],
      },
    },
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
  },
};

const generate = (doc: OpenApiDocument, seed = 7): FuzzCase[] =>
  generateFuzzCases(doc, {
    seed,
    bodyLimitBytes: LIMIT,
    credentials: { bearer: 'key-123' },
    hints: { 'POST /things/{id}': { path: { id: 'thing-1' } } },
  });

const find = (cases: FuzzCase[], target: string, description: string | RegExp): FuzzCase => {
  const found = cases.find(
    (c) =>
      c.target === target &&
      (typeof description === 'string' ? c.description === description : description.test(c.description)),
  );
  if (!found) throw new Error(`no case ${target}: ${String(description)}`);
  return found;
};

const text = (c: FuzzCase): string => c.body?.toString('latin1') ?? '';

describe('openapi-fuzz: cases from an OpenAPI document', () => {
  it('refuses a document without operations (a generator that returns nothing fails)', () => {
    expect(() => generateFuzzCases({ paths: {} }, { seed: 1, bodyLimitBytes: LIMIT })).toThrow('no operation');
  });

  it('builds the valid request from the schemas, the hints and the credentials', () => {
    const cases = generate(MINI);
    const valid = find(cases, 'valid', 'the valid request');
    expect(valid).toMatchObject({
      operation: 'POST /things/{id}',
      method: 'POST',
      url: '/things/thing-1',
      expect: 'valid',
    });
    expect(valid.success).toEqual([201]);
    expect(valid.headers).toEqual({ 'content-type': 'application/json', authorization: 'Bearer key-123' });
    expect(JSON.parse(text(valid))).toEqual({ name: 'abc', count: 1 });
    const open = cases.find((c) => c.operation === 'GET /status' && c.expect === 'valid')!;
    expect(open.headers).toEqual({});
  });

  it('produces each kind of hostile body, with the bytes it says', () => {
    const cases = generate(MINI);
    expect(text(find(cases, 'body', 'an empty body'))).toBe('');
    expect(find(cases, 'body', 'no body and no content-type').body).toBeUndefined();
    expect(text(find(cases, 'body', 'an array 10000 levels deep'))).toBe(`${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    expect(text(find(cases, 'body', 'a __proto__ key'))).toMatch(/^\{"__proto__":\{"polluted":true\},"name"/);
    expect(find(cases, 'body', '0xFF in a key').body!.includes(0xff)).toBe(true);
    expect(find(cases, 'body', /beyond BODY_LIMIT_BYTES/).body!.length).toBeGreaterThan(LIMIT);
    expect(JSON.parse(text(find(cases, 'body', 'an unknown field')))).toMatchObject({ zz_unknown_field: 1 });
    expect(find(cases, 'content-type', 'text/plain').headers['content-type']).toBe('text/plain');
    expect(find(cases, 'content-type', 'no content-type with a JSON body').headers).not.toHaveProperty('content-type');
    expect(find(cases, 'content-encoding', /gzip/).headers['content-encoding']).toBe('gzip');
    for (const c of cases.filter((k) => ['body', 'content-type', 'content-encoding'].includes(k.target)))
      expect(c.headers.authorization).toBe('Bearer key-123');
  });

  it('mutates each property by its schema: missing, wrong types, limits, enum, deep, not UTF-8', () => {
    const cases = generate(MINI);
    const nameMissing = find(cases, 'body.name', 'missing');
    expect(JSON.parse(text(nameMissing))).toEqual({ count: 1 });
    expect(nameMissing.expect).toBe('reject');
    expect(find(cases, 'body.kind', 'missing').expect).toBe('either');
    expect(JSON.parse(text(find(cases, 'body.name', 'maxLength + 1 (6) characters'))).name).toBe('xxxxxx');
    expect(JSON.parse(text(find(cases, 'body.name', 'a number'))).name).toBe(12345);
    expect(find(cases, 'body.name', 'a number').expect).toBe('reject');
    expect(JSON.parse(text(find(cases, 'body.count', 'maximum + 1 (4)'))).count).toBe(4);
    expect(text(find(cases, 'body.count', '1e999 (not finite)'))).toContain('"count":1e999');
    expect(find(cases, 'body.count', 'a numeric string')).toMatchObject({ expect: 'reject' });
    expect(JSON.parse(text(find(cases, 'body.count', 'a numeric string'))).count).toBe('1');
    expect(JSON.parse(text(find(cases, 'body.kind', 'an enum value in lower case'))).kind).toBe('small');
    expect(text(find(cases, 'body.name', 'an object 10000 levels deep'))).toContain('{"a":'.repeat(10_000));
    expect(text(find(cases, 'body.name', 'a string with a lone surrogate escape'))).toContain('"name":"a\\ud800b"');
    expect([...find(cases, 'body.name', 'a string holding 0xED 0xA0 0x80 (encoded surrogate)').body!]).toEqual(
      expect.arrayContaining([0xed, 0xa0, 0x80]),
    );
  });

  it('refuses 1.5 for an integer, in a body and in a query string (a number may take it)', () => {
    const integers = structuredClone(MINI);
    integers.components!.schemas!.ThingDto!.properties!.count!.type = 'integer';
    const post = integers.paths['/things/{id}']!.post as { parameters: OpenApiParameter[] };
    post.parameters.push({ name: 'limit', in: 'query', required: false, schema: { type: 'integer' } });
    const cases = generate(integers);
    expect(find(cases, 'body.count', '1.5').expect).toBe('reject');
    expect(find(cases, 'query.limit', '1.5')).toMatchObject({
      expect: 'reject',
      url: expect.stringContaining('limit=1.5'),
    });
    expect(find(generate(MINI), 'body.count', '1.5').expect).toBe('either');
  });

  it('mutates query and path parameters and credentials', () => {
    const cases = generate(MINI);
    expect(find(cases, 'query.dry_run', 'not a boolean: maybe').url).toBe('/things/thing-1?dry_run=maybe');
    expect(find(cases, 'query.dry_run', 'not UTF-8 (%FF)').url).toBe('/things/thing-1?dry_run=%FF');
    expect(find(cases, 'query', '__proto__ and constructor[prototype] query keys').url).toContain(
      '__proto__[polluted]=1',
    );
    expect(find(cases, 'path.id', 'not UTF-8 (%FF)').url).toBe('/things/%FF');
    expect(find(cases, 'path.id', '__proto__').url).toBe('/things/__proto__');
    expect(find(cases, 'auth', 'no credentials').headers).not.toHaveProperty('authorization');
    expect(find(cases, 'auth', 'bearer: the valid key without "Bearer "').headers.authorization).toBe('key-123');
    expect(find(cases, 'auth', 'bearer: the valid credential with a character changed').headers.authorization).toBe(
      'Bearer key-12X',
    );
    expect(find(cases, 'method', /PUT/).method).toBe('PUT');
    expect(cases.some((c) => c.operation === 'GET /status' && c.target === 'auth')).toBe(false);
  });

  it('is reproducible from its seed, and the seed changes the random cases only', () => {
    const strip = (cases: FuzzCase[]): string[] => cases.map((c) => `${c.target} ${c.description} ${text(c)}`);
    expect(strip(generate(MINI, 42))).toEqual(strip(generate(MINI, 42)));
    const a = generate(MINI, 1);
    const b = generate(MINI, 2);
    expect(strip(a.filter((c) => !c.target.startsWith('random')))).toEqual(
      strip(b.filter((c) => !c.target.startsWith('random'))),
    );
    expect(strip(a.filter((c) => c.target.startsWith('random')))).not.toEqual(
      strip(b.filter((c) => c.target.startsWith('random'))),
    );
    expect(a.filter((c) => c.target.startsWith('random'))).toHaveLength(12);
  });

  it('gives values the schemas accept: patterns, formats, enums, bounds', () => {
    expect(validValue(MINI, { type: 'string', pattern: '^\\d{0,19}$' })).toBe('1');
    expect(validValue(MINI, { type: 'string', pattern: '^[a-z0-9][a-z0-9:._-]*$' })).toBe('abc');
    expect(validValue(MINI, { type: 'string', format: 'uuid' })).toMatch(/^[0-9a-f-]{36}$/);
    expect(validValue(MINI, { type: 'string', minLength: 8 })).toBe('abcaaaaa');
    expect(validValue(MINI, { type: 'number', minimum: 60, maximum: 600 })).toBe(60);
    expect(validValue(MINI, { type: 'string', enum: ['SEV-1', 'SEV-2'] })).toBe('SEV-1');
    expect(validValue(MINI, { type: 'array', minItems: 2, items: { type: 'number' } })).toEqual([1, 1]);
  });

  it('covers every operation of the committed OpenAPI document, a few thousand cases in all', () => {
    const doc = JSON.parse(
      readFileSync(resolve(__dirname, '../openapi/control-plane.json'), 'utf8'),
    ) as OpenApiDocument;
    const operations = operationsOf(doc);
    expect(operations.length).toBeGreaterThanOrEqual(15);
    const cases = generateFuzzCases(doc, { seed: 3, bodyLimitBytes: 1024 * 1024 });
    for (const op of operations) {
      const own = cases.filter((c) => c.operation === op.key);
      expect(own.filter((c) => c.expect === 'valid')).toHaveLength(1);
      if (op.bodySchema) {
        expect(own.length).toBeGreaterThan(50);
        for (const property of Object.keys(
          (validValue(doc, op.bodySchema) as Record<string, unknown> | undefined) ?? {},
        ))
          expect(own.some((c) => c.target === `body.${property}`)).toBe(true);
      }
      for (const p of op.parameters.filter((k) => k.in === 'query' || k.in === 'path'))
        expect(own.some((c) => c.target === `${p.in}.${p.name}`)).toBe(true);
    }
    expect(cases.length).toBeGreaterThan(1500);
  });
});
