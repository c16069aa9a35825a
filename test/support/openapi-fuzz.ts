import { seededRandom } from '@app/common';

/**
 * Fuzz cases generated from an OpenAPI 3 document (the one the service serves at `/docs-json`), so every operation
 * is covered, including ones added after this file was written. For each operation: its valid request (built from
 * the schemas, completed by `hints`), then for the body, each body property, each query, path and header parameter
 * and the security requirement, the inputs a client gets wrong or an attacker tries: wrong types, missing required
 * fields, strings beyond `maxLength` and beyond the body limit, nesting 10,000 deep, bytes that are not UTF-8, lone
 * surrogates, wrong media types and encodings, empty bodies, arrays instead of objects, unknown fields,
 * prototype-pollution keys, numbers out of range or not finite; then seeded random mutations of the valid request.
 */

/** The subset of JSON Schema (OpenAPI 3.0 flavour) the generator reads. */
export interface JsonSchema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  nullable?: boolean;
  default?: unknown;
  example?: unknown;
}

export interface OpenApiParameter {
  name: string;
  in: 'query' | 'path' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonSchema;
}

export interface OpenApiOperation {
  operationId?: string;
  parameters?: OpenApiParameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, unknown>;
  security?: Record<string, string[]>[];
}

export interface OpenApiSecurityScheme {
  type: string;
  scheme?: string;
  in?: string;
  name?: string;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, JsonSchema>; securitySchemes?: Record<string, OpenApiSecurityScheme> };
  security?: Record<string, string[]>[];
}

/** One operation of the document, its `$ref`s left as they are. */
export interface FuzzOperation {
  /** `POST /qa` (the templated path). */
  key: string;
  method: string;
  path: string;
  operation: OpenApiOperation;
  parameters: OpenApiParameter[];
  /** The `application/json` body schema, if the operation takes a body. */
  bodySchema?: JsonSchema;
  /** Its documented 2xx statuses. */
  success: number[];
  /** Its security requirements (the document's when it has none of its own). */
  security: Record<string, string[]>[];
  /** Whether credentials are required (a requirement `{}` makes them optional). */
  secured: boolean;
}

/**
 * What a case is expected to get: `valid` the operation's valid request (a documented 2xx, or a 4xx only the
 * service's state explains); `reject` input the schema refuses (a 4xx); `either` input that may or may not be
 * valid (anything but a 5xx).
 */
export type FuzzExpectation = 'valid' | 'reject' | 'either';

export interface FuzzCase {
  /** The operation, `POST /qa`. */
  operation: string;
  /** What was changed: `body`, `body.question`, `query.hours`, `path.id`, `header.accept`, `content-type`, ... */
  target: string;
  /** What was sent there, in words. */
  description: string;
  method: string;
  /** Path and query string, percent-encoded as sent. */
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
  expect: FuzzExpectation;
  /** The documented 2xx statuses of the operation. */
  success: number[];
}

/** Valid values the schemas cannot give (ids that must exist, secrets, bodies that must make sense). */
export interface OperationHints {
  path?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Merged over the body built from the schema (its required properties). */
  body?: Record<string, unknown>;
}

export interface FuzzOptions {
  seed: number;
  /** `BODY_LIMIT_BYTES` of the service: one body per operation exceeds it. */
  bodyLimitBytes: number;
  /** By operation key (`POST /qa`). */
  hints?: Record<string, OperationHints>;
  /**
   * The credential of each security scheme, by scheme name (`{ bearer: key, 'webhook-secret': secret }`): each
   * secured operation is sent the first of its requirements all of whose schemes have one (an `http` bearer
   * scheme as `Authorization: Bearer <value>`, an `apiKey` scheme in its header), except by its auth cases.
   */
  credentials?: Record<string, string>;
  /** Seeded random mutations of each operation's valid request (default 12). */
  randomPerOperation?: number;
  /** Nesting depth of the "deep JSON" cases (default 10,000). */
  deepLevels?: number;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;
const JSON_TYPE = 'application/json';
const RAW = '\u0001fuzz-raw\u0001';
const RAW_QUOTED = JSON.stringify(RAW);

/** A value to put in a JSON body: a JSON value, or raw bytes written in its place (not valid JSON alone). */
type BodyValue = { json: unknown } | { raw: string | Buffer };
const json = (value: unknown): BodyValue => ({ json: value });
const raw = (text: string | Buffer): BodyValue => ({ raw: text });

interface Mutation {
  description: string;
  value: BodyValue | undefined;
  expect: FuzzExpectation;
}

/** The operations of `doc`, in document order. */
export function operationsOf(doc: OpenApiDocument): FuzzOperation[] {
  const operations: FuzzOperation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    const shared = (item.parameters as OpenApiParameter[] | undefined) ?? [];
    for (const method of METHODS) {
      const operation = item[method] as OpenApiOperation | undefined;
      if (!operation) continue;
      const own = operation.parameters ?? [];
      const parameters = [...shared.filter((p) => !own.some((o) => o.name === p.name && o.in === p.in)), ...own].map(
        (p) => resolveParameter(doc, p),
      );
      const security = operation.security ?? doc.security ?? [];
      operations.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        operation,
        parameters,
        bodySchema: operation.requestBody?.content?.[JSON_TYPE]?.schema,
        success: Object.keys(operation.responses ?? {})
          .filter((status) => /^2\d\d$/.test(status))
          .map(Number),
        security,
        secured: security.length > 0 && security.every((requirement) => Object.keys(requirement).length > 0),
      });
    }
  }
  return operations;
}

function resolveParameter(doc: OpenApiDocument, parameter: OpenApiParameter): OpenApiParameter {
  const ref = (parameter as { $ref?: string }).$ref;
  if (!ref) return parameter;
  return lookup(doc, ref) as unknown as OpenApiParameter;
}

function lookup(doc: OpenApiDocument, ref: string): JsonSchema {
  const parts = ref.replace(/^#\//, '').split('/');
  let node: unknown = doc;
  for (const part of parts) node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/')];
  if (node === undefined) throw new Error(`unresolved $ref ${ref}`);
  return node as JsonSchema;
}

/** The schema with `$ref` and `allOf` resolved (one level of `allOf` merged). */
export function resolveSchema(doc: OpenApiDocument, schema: JsonSchema | undefined): JsonSchema {
  if (!schema) return {};
  if (schema.$ref) return resolveSchema(doc, { ...lookup(doc, schema.$ref), ...withoutRef(schema) });
  if (schema.allOf) {
    const merged: JsonSchema = { ...schema, allOf: undefined };
    for (const part of schema.allOf) {
      const resolved = resolveSchema(doc, part);
      Object.assign(merged, resolved, {
        properties: { ...merged.properties, ...resolved.properties },
        required: [...(merged.required ?? []), ...(resolved.required ?? [])],
      });
    }
    return merged;
  }
  return schema;
}

function withoutRef(schema: JsonSchema): JsonSchema {
  const copy = { ...schema };
  delete copy.$ref;
  return copy;
}

const STRING_CANDIDATES = ['abc', 'a', 'test-value', '1', '0', 'a1', 'x.y:z', 'aws:us-east-1'];
const FIXED_UUID = '0b7e4d0a-3c1f-4a5e-9d2b-6f8e1a2b3c4d';

/** The type the schema takes, `undefined` for "anything" (no type, or a `oneOf` of several). */
function typeOf(doc: OpenApiDocument, schema: JsonSchema): string | undefined {
  const s = resolveSchema(doc, schema);
  if (s.type) return s.type;
  if (s.enum?.length) return typeof s.enum[0];
  if (s.properties) return 'object';
  const variants = s.oneOf ?? s.anyOf;
  if (variants?.length) {
    const types = new Set(variants.map((v) => typeOf(doc, v)));
    return types.size === 1 ? [...types][0] : undefined;
  }
  return undefined;
}

/** A value the schema accepts (the simplest one: required properties only, minimum counts and lengths). */
export function validValue(doc: OpenApiDocument, schema: JsonSchema | undefined): unknown {
  const s = resolveSchema(doc, schema);
  if (s.example !== undefined) return s.example;
  if (s.enum?.length) return s.enum[0];
  if (s.default !== undefined) return s.default;
  const variants = s.oneOf ?? s.anyOf;
  if (variants?.length) return validValue(doc, variants[0]);
  switch (typeOf(doc, s) ?? 'any') {
    case 'string':
      return validString(s);
    case 'number':
    case 'integer': {
      const low = s.minimum ?? Math.min(1, s.maximum ?? 1);
      return s.maximum !== undefined && low > s.maximum ? s.maximum : low;
    }
    case 'boolean':
      return false;
    case 'array':
      return Array.from({ length: s.minItems ?? 0 }, () => validValue(doc, s.items));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const name of s.required ?? []) out[name] = validValue(doc, s.properties?.[name]);
      return out;
    }
    default:
      return 'abc';
  }
}

function validString(s: JsonSchema): string {
  if (s.format === 'uuid') return FIXED_UUID;
  if (s.format === 'date-time') return '2026-01-01T00:00:00.000Z';
  if (s.format === 'date') return '2026-01-01';
  if (s.format === 'email') return 'user@example.com';
  if (s.format === 'uri' || s.format === 'url') return 'https://example.com/';
  const pattern = s.pattern ? new RegExp(s.pattern, 'u') : undefined;
  const min = s.minLength ?? 0;
  const max = s.maxLength ?? Infinity;
  for (const candidate of STRING_CANDIDATES) {
    const padded = candidate.length < min ? candidate + 'a'.repeat(min - candidate.length) : candidate;
    if (padded.length <= max && (!pattern || pattern.test(padded))) return padded;
  }
  return 'a'.repeat(Math.max(1, Math.min(min, max)));
}

/** `[[[...]]]` `levels` deep. */
export const deepArray = (levels: number): string => `${'['.repeat(levels)}${']'.repeat(levels)}`;
/** `{"a":{"a":...1}}` `levels` deep. */
export const deepObject = (levels: number): string => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
const wideObject = (keys: number): string => `{${Array.from({ length: keys }, (_, i) => `"k${i}":${i}`).join(',')}}`;

const INVALID_UTF8: [string, number[]][] = [
  ['0xFF', [0xff]],
  ['0xC3 0x28 (broken sequence)', [0xc3, 0x28]],
  ['0xED 0xA0 0x80 (encoded surrogate)', [0xed, 0xa0, 0x80]],
  ['0xC0 0xAF (overlong)', [0xc0, 0xaf]],
];

/** Builds the body text of `base` with `name` set to `value` (raw bytes spliced in), or left out. */
function bodyWith(base: Record<string, unknown>, name: string, value: BodyValue | undefined): Buffer {
  const copy: Record<string, unknown> = { ...base };
  if (value === undefined) {
    delete copy[name];
    return Buffer.from(JSON.stringify(copy));
  }
  if ('json' in value) {
    copy[name] = value.json;
    return Buffer.from(JSON.stringify(copy));
  }
  copy[name] = RAW;
  const [head, tail] = JSON.stringify(copy).split(RAW_QUOTED) as [string, string];
  return Buffer.concat([Buffer.from(head), Buffer.from(value.raw), Buffer.from(tail)]);
}

/** The mutations of one body property (or, `nullable` aside, of any JSON value of that schema). */
function propertyMutations(
  doc: OpenApiDocument,
  schema: JsonSchema,
  required: boolean,
  options: { deepLevels: number },
): Mutation[] {
  const s = resolveSchema(doc, schema);
  const type = typeOf(doc, s);
  const typed = type !== undefined;
  const wrong = (value: unknown, description: string, wrongFor: string[]): Mutation => ({
    description,
    value: json(value),
    expect: type !== undefined && wrongFor.includes(type) ? 'reject' : 'either',
  });
  const out: Mutation[] = [
    { description: 'missing', value: undefined, expect: required ? 'reject' : 'either' },
    { description: 'null', value: json(null), expect: typed && !s.nullable && required ? 'reject' : 'either' },
    wrong(12345, 'a number', ['string', 'boolean', 'array', 'object']),
    wrong(true, 'a boolean', ['string', 'number', 'integer', 'array', 'object']),
    wrong('abc', 'a string', ['number', 'integer', 'boolean', 'array', 'object']),
    wrong([], 'an empty array', ['string', 'number', 'integer', 'boolean', 'object']),
    wrong([validValue(doc, s)], 'an array of a valid value', ['string', 'number', 'integer', 'boolean', 'object']),
    wrong({}, 'an empty object', ['string', 'number', 'integer', 'boolean', 'array']),
    wrong({ value: validValue(doc, s) }, 'an object wrapping a valid value', ['string', 'number', 'boolean', 'array']),
    {
      description: `an array ${options.deepLevels} levels deep`,
      value: raw(deepArray(options.deepLevels)),
      expect: 'reject',
    },
    {
      description: `an object ${options.deepLevels} levels deep`,
      value: raw(deepObject(options.deepLevels)),
      expect: 'reject',
    },
    { description: 'an object with a __proto__ key', value: raw('{"__proto__":{"polluted":true}}'), expect: 'reject' },
    {
      description: 'an object with constructor.prototype',
      value: raw('{"constructor":{"prototype":{"polluted":true}}}'),
      expect: 'reject',
    },
    { description: 'a string with a lone surrogate escape', value: raw('"a\\ud800b"'), expect: 'reject' },
    ...INVALID_UTF8.map(([name, bytes]): Mutation => ({
      description: `a string holding ${name}`,
      value: raw(Buffer.concat([Buffer.from('"a'), Buffer.from(bytes), Buffer.from('b"')])),
      expect: 'reject',
    })),
    { description: '1e999 (not finite)', value: raw('1e999'), expect: typed ? 'reject' : 'either' },
  ];
  if (type === 'string' || !typed) {
    const max = s.maxLength;
    out.push(
      { description: 'an empty string', value: json(''), expect: (s.minLength ?? 0) > 0 ? 'reject' : 'either' },
      {
        description: '100,000 characters',
        value: json('x'.repeat(100_000)),
        expect: max !== undefined ? 'reject' : 'either',
      },
      { description: 'NUL and control characters', value: json('a\u0000b\u0007\u001b[31m'), expect: 'either' },
      { description: 'a surrogate pair (emoji) and RTL text', value: json('😀 \u202Eabc مرحبا'), expect: 'either' },
      {
        description: 'template and injection text',
        value: json("${7*7}{{7*7}}%s%n'; DROP TABLE x; --"),
        expect: 'either',
      },
      { description: 'the string __proto__', value: json('__proto__'), expect: 'either' },
    );
    if (max !== undefined) {
      out.push(
        { description: `maxLength + 1 (${max + 1}) characters`, value: json('x'.repeat(max + 1)), expect: 'reject' },
        { description: `maxLength (${max}) two-byte characters`, value: json('é'.repeat(max)), expect: 'either' },
      );
    }
    if (s.enum?.length) {
      out.push(
        { description: 'a value not in the enum', value: json('not-in-the-enum'), expect: 'reject' },
        ...(typeof s.enum[0] === 'string' && s.enum[0] !== String(s.enum[0]).toLowerCase()
          ? [
              {
                description: 'an enum value in lower case',
                value: json(String(s.enum[0]).toLowerCase()),
                expect: 'reject' as const,
              },
            ]
          : []),
      );
    }
    if (s.pattern && !new RegExp(s.pattern, 'u').test('<a b="c">/\\')) {
      out.push({ description: `a string not matching ${s.pattern}`, value: json('<a b="c">/\\'), expect: 'reject' });
    }
    if (s.format === 'uuid') out.push({ description: 'not a uuid', value: json('not-a-uuid'), expect: 'reject' });
  }
  if (type === 'number' || type === 'integer') {
    const numeric: Mutation[] = [
      // A body's numbers are JSON numbers: only a query string carries them as text.
      { description: 'a numeric string', value: json(String(validValue(doc, s))), expect: 'reject' },
      { description: '-1e999 (not finite)', value: raw('-1e999'), expect: 'reject' },
      { description: 'NaN as a string', value: json('NaN'), expect: 'reject' },
      { description: '1.5', value: json(1.5), expect: type === 'integer' ? 'reject' : 'either' },
      { description: '-0', value: raw('-0'), expect: 'either' },
      {
        description: '2^53 + 1',
        value: raw('9007199254740993'),
        expect: s.maximum !== undefined ? 'reject' : 'either',
      },
      { description: '1 followed by 400 zeros', value: raw(`1${'0'.repeat(400)}`), expect: 'reject' },
      { description: '1e-400 (underflows to 0)', value: raw('1e-400'), expect: 'either' },
    ];
    if (s.minimum !== undefined)
      numeric.push({ description: `minimum - 1 (${s.minimum - 1})`, value: json(s.minimum - 1), expect: 'reject' });
    if (s.maximum !== undefined)
      numeric.push({ description: `maximum + 1 (${s.maximum + 1})`, value: json(s.maximum + 1), expect: 'reject' });
    out.push(...numeric);
  }
  if (type === 'boolean') {
    out.push(
      { description: 'the string "true"', value: json('true'), expect: 'reject' },
      { description: '1', value: json(1), expect: 'reject' },
    );
  }
  if (type === 'array') {
    const item = validValue(doc, s.items);
    out.push(
      { description: '1,001 items', value: json(Array.from({ length: 1001 }, () => item)), expect: 'reject' },
      { description: 'an array of null', value: json([null]), expect: 'reject' },
      { description: 'an array of arrays', value: json([[item]]), expect: 'reject' },
    );
    if (s.maxItems !== undefined)
      out.push({
        description: `maxItems + 1 (${s.maxItems + 1}) items`,
        value: json(Array.from({ length: s.maxItems + 1 }, () => item)),
        expect: 'reject',
      });
    if ((s.minItems ?? 0) > 0) out.push({ description: 'an empty array', value: json([]), expect: 'reject' });
  }
  if (type === 'object') {
    out.push(
      { description: '1,001 keys', value: raw(wideObject(1001)), expect: 'reject' },
      { description: 'an object 40 levels deep (within the bound)', value: raw(deepObject(40)), expect: 'either' },
      { description: 'a 100,000-character key', value: json({ ['k'.repeat(100_000)]: 1 }), expect: 'either' },
    );
  }
  return out;
}

/** Each case, for every operation of `doc`. Throws if the document has no operation. */
export function generateFuzzCases(doc: OpenApiDocument, options: FuzzOptions): FuzzCase[] {
  const operations = operationsOf(doc);
  if (operations.length === 0) throw new Error('the OpenAPI document has no operation');
  const next = seededRandom(options.seed);
  const settings = { bodyLimitBytes: options.bodyLimitBytes, deepLevels: options.deepLevels ?? 10_000 };
  const cases: FuzzCase[] = [];
  for (const op of operations) cases.push(...operationCases(doc, op, options, settings, next));
  return cases;
}

/** The cases of one operation. */
export function operationCases(
  doc: OpenApiDocument,
  op: FuzzOperation,
  options: FuzzOptions,
  settings: { bodyLimitBytes: number; deepLevels: number },
  next: () => number,
): FuzzCase[] {
  const hints = options.hints?.[op.key] ?? {};
  const schemes = doc.components?.securitySchemes ?? {};
  const credentialHeader = (scheme: string): string | undefined => {
    const s = schemes[scheme];
    if (s?.type === 'http' && s.scheme?.toLowerCase() === 'bearer') return 'authorization';
    if (s?.type === 'apiKey' && s.in === 'header' && s.name) return s.name.toLowerCase();
    return undefined;
  };
  const credentialValue = (scheme: string, value: string): string =>
    schemes[scheme]?.type === 'http' ? `Bearer ${value}` : value;
  const usable = op.security.find(
    (requirement) =>
      Object.keys(requirement).length > 0 &&
      Object.keys(requirement).every((n) => options.credentials?.[n] !== undefined && credentialHeader(n)),
  );
  const auth: Record<string, string> = {};
  for (const scheme of Object.keys(usable ?? {}))
    auth[credentialHeader(scheme)!] = credentialValue(scheme, options.credentials![scheme]!);
  const params = (where: OpenApiParameter['in']): OpenApiParameter[] => op.parameters.filter((p) => p.in === where);

  const basePath: Record<string, string> = {};
  for (const p of params('path')) basePath[p.name] = hints.path?.[p.name] ?? String(validValue(doc, p.schema));
  const baseQuery: [string, string][] = [];
  for (const p of params('query')) {
    if (hints.query?.[p.name] !== undefined) baseQuery.push([p.name, hints.query[p.name]!]);
    else if (p.required) baseQuery.push([p.name, String(validValue(doc, p.schema))]);
  }
  const baseHeaders: Record<string, string> = { ...auth };
  for (const p of params('header')) {
    const name = p.name.toLowerCase();
    const hinted = hints.headers?.[p.name];
    if (hinted !== undefined) baseHeaders[name] = hinted;
    else if (p.required && !(name in baseHeaders)) baseHeaders[name] = String(validValue(doc, p.schema));
  }
  const bodySchema = op.bodySchema ? resolveSchema(doc, op.bodySchema) : undefined;
  const baseBody: Record<string, unknown> | undefined = bodySchema
    ? { ...(validValue(doc, bodySchema) as Record<string, unknown>), ...hints.body }
    : undefined;

  const encode = (value: string): string => encodeURIComponent(value);
  const urlOf = (path: Record<string, string>, query: [string, string][], rawQuery?: string): string => {
    const filled = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => path[name] ?? '');
    const parts = query.map(([k, v]) => `${encode(k)}=${encode(v)}`);
    if (rawQuery !== undefined) parts.push(rawQuery);
    return parts.length > 0 ? `${filled}?${parts.join('&')}` : filled;
  };
  const jsonHeaders = (headers: Record<string, string>): Record<string, string> =>
    bodySchema ? { 'content-type': JSON_TYPE, ...headers } : headers;
  const baseBodyBytes = baseBody ? Buffer.from(JSON.stringify(baseBody)) : undefined;

  const cases: FuzzCase[] = [];
  const add = (
    target: string,
    description: string,
    expect: FuzzExpectation,
    change: { url?: string; headers?: Record<string, string>; body?: Buffer | null; method?: string } = {},
  ): void => {
    cases.push({
      operation: op.key,
      target,
      description,
      method: change.method ?? op.method,
      url: change.url ?? urlOf(basePath, baseQuery),
      headers: change.headers ?? jsonHeaders(baseHeaders),
      body: change.body === null ? undefined : (change.body ?? baseBodyBytes),
      expect,
      success: op.success,
    });
  };

  add('valid', 'the valid request', 'valid');

  // The body as a whole.
  if (bodySchema && baseBody) {
    const rawBody = (description: string, text: string | Buffer, expect: FuzzExpectation = 'reject'): void =>
      add('body', description, expect, { body: Buffer.from(text) });
    // A body the operation documents as optional may be left out (empty, or `null`).
    const optional = op.operation.requestBody?.required === false ? 'either' : 'reject';
    rawBody('an empty body', '', optional);
    add('body', 'no body and no content-type', optional, { body: null, headers: { ...baseHeaders } });
    rawBody('null', 'null', optional);
    rawBody('an empty array', '[]');
    rawBody('an array holding the valid body', JSON.stringify([baseBody]));
    rawBody('a string', '"abc"');
    rawBody('a number', '42');
    rawBody('true', 'true');
    rawBody('invalid JSON: an open brace', '{');
    rawBody('invalid JSON: a trailing comma', `${JSON.stringify(baseBody).slice(0, -1)},}`);
    rawBody('invalid JSON: single quotes', "{'a':1}");
    rawBody('invalid JSON: the valid body twice', JSON.stringify(baseBody).repeat(2));
    rawBody('a byte order mark before the valid body', `\uFEFF${JSON.stringify(baseBody)}`, 'either');
    rawBody('an unknown field', JSON.stringify({ ...baseBody, zz_unknown_field: 1 }));
    rawBody(
      '30 unknown fields',
      JSON.stringify({ ...baseBody, ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`unknown_${i}`, i])) }),
    );
    rawBody('a __proto__ key', `{"__proto__":{"polluted":true},${JSON.stringify(baseBody).slice(1)}`);
    rawBody(
      'a constructor.prototype key',
      `{"constructor":{"prototype":{"polluted":true}},${JSON.stringify(baseBody).slice(1)}`,
    );
    rawBody('a lone surrogate in a key', `{"a\\udc00":1,${JSON.stringify(baseBody).slice(1)}`);
    rawBody(`an array ${settings.deepLevels} levels deep`, deepArray(settings.deepLevels));
    rawBody(`an object ${settings.deepLevels} levels deep`, deepObject(settings.deepLevels));
    rawBody('an unknown field 10,000 levels deep', `{"zz":${deepArray(10_000)},${JSON.stringify(baseBody).slice(1)}`);
    rawBody('1,001 keys', wideObject(1001));
    rawBody(
      '1,001 array items in an unknown field',
      `{"zz":[${'1,'.repeat(1000)}1],${JSON.stringify(baseBody).slice(1)}`,
    );
    for (const [name, bytes] of INVALID_UTF8) {
      rawBody(
        `${name} in a key`,
        Buffer.concat([
          Buffer.from('{"a'),
          Buffer.from(bytes),
          Buffer.from(`":1,${JSON.stringify(baseBody).slice(1)}`),
        ]),
      );
    }
    rawBody(
      `a body beyond BODY_LIMIT_BYTES (${settings.bodyLimitBytes + 1} bytes)`,
      JSON.stringify({ ...baseBody, zz: 'x'.repeat(settings.bodyLimitBytes) }),
    );
    const typed = (contentType: string, description: string, expect: FuzzExpectation, body?: Buffer): void =>
      add('content-type', description, expect, {
        headers: { ...baseHeaders, 'content-type': contentType },
        body: body ?? baseBodyBytes,
      });
    typed('text/plain', 'text/plain', 'reject');
    typed('application/x-www-form-urlencoded', 'form-encoded', 'reject', Buffer.from('a=1&b=2'));
    typed('multipart/form-data; boundary=xyz', 'multipart', 'reject', Buffer.from('--xyz\r\n\r\nabc\r\n--xyz--\r\n'));
    typed('application/xml', 'application/xml', 'reject', Buffer.from('<a>1</a>'));
    typed('application/json-patch+json', 'application/json-patch+json', 'reject');
    typed('application/json; charset=utf-8', 'application/json; charset=utf-8', 'either');
    typed('APPLICATION/JSON', 'upper-case APPLICATION/JSON', 'either');
    typed('application/json; charset=utf-16', 'application/json; charset=utf-16', 'either');
    typed('application/json; x=' + 'y'.repeat(4000), 'a 4,000-character media type parameter', 'either');
    typed('*/*', '*/*', 'reject');
    typed('garbage', 'garbage', 'reject');
    add('content-type', 'no content-type with a JSON body', 'reject', { headers: { ...baseHeaders } });
    add('content-encoding', 'content-encoding: gzip (not compressed)', 'reject', {
      headers: { ...jsonHeaders(baseHeaders), 'content-encoding': 'gzip' },
    });
    add('content-encoding', 'content-encoding: br, gzip', 'reject', {
      headers: { ...jsonHeaders(baseHeaders), 'content-encoding': 'br, gzip' },
    });

    // Each property.
    const required = new Set(bodySchema.required ?? []);
    for (const [name, schema] of Object.entries(bodySchema.properties ?? {})) {
      for (const mutation of propertyMutations(doc, schema, required.has(name), settings)) {
        add(`body.${name}`, mutation.description, mutation.expect, {
          body: bodyWith(baseBody, name, mutation.value),
        });
      }
    }
  } else if (op.method !== 'GET' && op.method !== 'HEAD') {
    // An operation without a body, sent one anyway.
    add('body', 'a JSON body it does not take', 'either', {
      headers: { ...baseHeaders, 'content-type': JSON_TYPE },
      body: Buffer.from('{"zz":1}'),
    });
    add('body', 'a text/plain body it does not take', 'either', {
      headers: { ...baseHeaders, 'content-type': 'text/plain' },
      body: Buffer.from('hello'),
    });
    add('body', 'a deep JSON body it does not take', 'either', {
      headers: { ...baseHeaders, 'content-type': JSON_TYPE },
      body: Buffer.from(deepArray(settings.deepLevels)),
    });
  }

  // Query parameters.
  const queryParams = params('query');
  const withQuery = (name: string, value: string | undefined, rawValue?: string): string => {
    const rest = baseQuery.filter(([k]) => k !== name);
    if (rawValue !== undefined) return urlOf(basePath, rest, rawValue);
    return urlOf(basePath, value === undefined ? rest : [...rest, [name, value]]);
  };
  for (const p of queryParams) {
    const s = resolveSchema(doc, p.schema);
    const type = typeOf(doc, s);
    const valid = String(validValue(doc, s));
    const q = (description: string, expect: FuzzExpectation, value: string | undefined, rawValue?: string): void =>
      add(`query.${p.name}`, description, expect, { url: withQuery(p.name, value, rawValue) });
    q('missing', p.required ? 'reject' : 'either', undefined);
    q('its valid value', 'either', valid);
    q('empty', type === 'string' && !s.enum && !s.minLength ? 'either' : 'reject', '');
    q(
      '8,000 characters',
      s.maxLength !== undefined || type !== 'string' || s.enum ? 'reject' : 'either',
      'x'.repeat(8000),
    );
    q('not UTF-8 (%FF)', type === 'string' && !s.enum && !s.pattern ? 'either' : 'reject', undefined, `${p.name}=%FF`);
    q(
      'an encoded surrogate (%ED%A0%80)',
      type === 'string' && !s.enum ? 'either' : 'reject',
      undefined,
      `${p.name}=%ED%A0%80`,
    );
    q('a malformed escape (%zz%)', type === 'string' && !s.enum ? 'either' : 'reject', undefined, `${p.name}=%zz%`);
    q('NUL (%00)', 'either', '\u0000');
    q('repeated', 'either', undefined, `${p.name}=${encode(valid)}&${p.name}=${encode(valid)}`);
    q('array syntax name[]', 'either', undefined, `${p.name}[]=${encode(valid)}`);
    q('object syntax name[__proto__][x]', 'either', undefined, `${p.name}[__proto__][x]=1`);
    if (type === 'number' || type === 'integer') {
      for (const bad of ['abc', 'NaN', 'Infinity', '1e999', '0x10', '', ' '])
        q(`not a number: ${JSON.stringify(bad)}`, 'reject', bad);
      q('1.5', type === 'integer' ? 'reject' : 'either', '1.5');
      if (s.minimum !== undefined) q(`minimum - 1 (${s.minimum - 1})`, 'reject', String(s.minimum - 1));
      if (s.maximum !== undefined) q(`maximum + 1 (${s.maximum + 1})`, 'reject', String(s.maximum + 1));
    }
    if (type === 'boolean') {
      for (const bad of ['maybe', '2', 'yes please']) q(`not a boolean: ${bad}`, 'reject', bad);
      q('TRUE', 'either', 'TRUE');
    }
    if (s.enum?.length) q('a value not in the enum', 'reject', 'not-in-the-enum');
    if (s.maxLength !== undefined) q(`maxLength + 1 (${s.maxLength + 1})`, 'reject', 'x'.repeat(s.maxLength + 1));
  }
  add('query', 'an unknown query parameter', queryParams.length > 0 ? 'reject' : 'either', {
    url: urlOf(basePath, baseQuery, 'zz_unknown=1'),
  });
  add('query', '__proto__ and constructor[prototype] query keys', queryParams.length > 0 ? 'reject' : 'either', {
    url: urlOf(basePath, baseQuery, '__proto__[polluted]=1&constructor[prototype][polluted]=1&__proto__=x'),
  });
  add('query', '1,000 query parameters', queryParams.length > 0 ? 'reject' : 'either', {
    url: urlOf(basePath, baseQuery, Array.from({ length: 1000 }, (_, i) => `k${i}=1`).join('&')),
  });

  // Path parameters.
  for (const p of params('path')) {
    const withPath = (value: string): string => urlOf({ ...basePath, [p.name]: value }, baseQuery);
    const bad: [string, string][] = [
      ['not UTF-8 (%FF)', '%FF'],
      ['an encoded surrogate (%ED%A0%80)', '%ED%A0%80'],
      ['2,000 characters', 'x'.repeat(2000)],
      ['__proto__', '__proto__'],
      ['constructor', 'constructor'],
      ['toString', 'toString'],
      ['hasOwnProperty', 'hasOwnProperty'],
      ['an encoded slash and dots (..%2F..)', '..%2F..%2Fetc'],
      ['NUL (%00)', '%00'],
      ['a unicode id', encode('ид-😀')],
      ['a malformed escape (%zz)', '%zz'],
    ];
    for (const [description, value] of bad) add(`path.${p.name}`, description, 'reject', { url: withPath(value) });
  }

  // Header parameters.
  for (const p of params('header')) {
    const name = p.name.toLowerCase();
    const without = { ...jsonHeaders(baseHeaders) };
    delete without[name];
    const h = (description: string, expect: FuzzExpectation, value: string | undefined): void =>
      add(`header.${p.name}`, description, expect, {
        headers: value === undefined ? without : { ...without, [name]: value },
      });
    const secret = p.required;
    h('missing', p.required ? 'reject' : 'either', undefined);
    h('empty', secret ? 'reject' : 'either', '');
    h('a wrong value', secret ? 'reject' : 'either', 'wrong-value-0000000000000000');
    h('8,000 characters', secret ? 'reject' : 'either', 'x'.repeat(8000));
    h('latin-1 bytes (not UTF-8)', secret ? 'reject' : 'either', 'caf\u00e9\u00ff');
    h('text/event-stream', secret ? 'reject' : 'either', 'text/event-stream');
  }

  // Content negotiation and methods.
  add('header.accept', 'accept: application/xml', 'either', {
    headers: { ...jsonHeaders(baseHeaders), accept: 'application/xml' },
  });
  add('header.accept', 'accept: text/event-stream', 'either', {
    headers: { ...jsonHeaders(baseHeaders), accept: 'text/event-stream' },
  });
  const documented = new Set(Object.keys(doc.paths[op.path] ?? {}).map((m) => m.toUpperCase()));
  const undocumented = ['PUT', 'DELETE', 'PATCH'].find((m) => !documented.has(m));
  if (undocumented && firstOperationOfPath(doc, op)?.key === op.key) {
    add('method', `${undocumented}, a method the path does not have`, 'reject', { method: undocumented });
  }

  // Security: no credentials, then for each scheme of the requirements a wrong, empty or huge one.
  if (op.secured) {
    const schemeNames = [...new Set(op.security.flatMap((requirement) => Object.keys(requirement)))];
    const credentialHeaders = new Set(schemeNames.map(credentialHeader).filter((h): h is string => h !== undefined));
    const plain = jsonHeaders(
      Object.fromEntries(Object.entries(baseHeaders).filter(([k]) => !credentialHeaders.has(k))),
    );
    add('auth', 'no credentials', 'reject', { headers: plain });
    for (const scheme of schemeNames) {
      const header = credentialHeader(scheme);
      if (!header) continue;
      const a = (description: string, value: string): void =>
        add('auth', `${scheme}: ${description}`, 'reject', { headers: { ...plain, [header]: value } });
      a('a wrong credential', credentialValue(scheme, 'wrong-credential-00000000000000000000'));
      a('an empty credential', credentialValue(scheme, ''));
      a('an 8,000-character credential', credentialValue(scheme, 'k'.repeat(8000)));
      a('latin-1 bytes (not UTF-8)', credentialValue(scheme, 'caf\u00e9\u00ff-0000000000000000'));
      const valid = options.credentials?.[scheme];
      if (schemes[scheme]?.type === 'http') {
        a('a basic credential', 'Basic dXNlcjpwYXNz');
        if (valid !== undefined) a('the valid key without "Bearer "', valid);
      }
      if (valid !== undefined)
        a('the valid credential with a character changed', credentialValue(scheme, `${valid.slice(0, -1)}X`));
    }
  }

  // Seeded random mutations of the valid request.
  const count = options.randomPerOperation ?? 12;
  for (let i = 0; i < count; i++) {
    if (baseBodyBytes && bodySchema) {
      if (i % 2 === 0) {
        add('random', `byte mutations #${i}`, 'either', { body: mutateBytes(baseBodyBytes, next) });
      } else {
        const names = Object.keys(bodySchema.properties ?? {});
        const name = names[Math.floor(next() * names.length)] ?? 'zz';
        const value = randomJson(next, 3);
        add(`random.body.${name}`, `random value ${truncate(JSON.stringify(value))}`, 'either', {
          body: bodyWith(baseBody!, name, json(value)),
        });
      }
    } else if (queryParams.length > 0) {
      const p = queryParams[Math.floor(next() * queryParams.length)]!;
      const value = randomString(next, 1 + Math.floor(next() * 40));
      add(`random.query.${p.name}`, `random value ${truncate(JSON.stringify(value))}`, 'either', {
        url: withQuery(p.name, value),
      });
    } else if (params('path').length > 0) {
      const p = params('path')[0]!;
      add(`random.path.${p.name}`, 'random id', 'either', {
        url: urlOf({ ...basePath, [p.name]: encode(randomString(next, 1 + Math.floor(next() * 40))) }, baseQuery),
      });
    }
  }
  return cases;
}

function firstOperationOfPath(doc: OpenApiDocument, op: FuzzOperation): FuzzOperation | undefined {
  return operationsOf({ ...doc, paths: { [op.path]: doc.paths[op.path] ?? {} } })[0];
}

const truncate = (text: string): string => (text.length > 60 ? `${text.slice(0, 60)}...` : text);

const INSERTS = ['[', '{', '"', '\\', '\\u', '\\ud800', ':', ',', '[[[[[[[[', '{"a":', '\u0000', 'null', '1e999', '-'];

/** One to three byte-level edits: a random byte, an insertion, a truncation or a repeated slice. */
function mutateBytes(body: Buffer, next: () => number): Buffer {
  let bytes = Buffer.from(body);
  for (let m = 1 + Math.floor(next() * 3); m > 0; m--) {
    const at = Math.floor(next() * bytes.length);
    const op = Math.floor(next() * 4);
    if (op === 0) bytes[at] = Math.floor(next() * 256);
    else if (op === 1)
      bytes = Buffer.concat([
        bytes.subarray(0, at),
        Buffer.from(INSERTS[Math.floor(next() * INSERTS.length)]!),
        bytes.subarray(at),
      ]);
    else if (op === 2) bytes = bytes.subarray(0, at);
    else
      bytes = Buffer.concat([
        bytes.subarray(0, at),
        ...Array<Buffer>(50).fill(bytes.subarray(at, at + 20)),
        bytes.subarray(at),
      ]);
  }
  return bytes;
}

/** A random string of code points from every plane (lone surrogates left out: JSON.stringify escapes them). */
export function randomString(next: () => number, length: number): string {
  const pools = [
    () => String.fromCharCode(0x20 + Math.floor(next() * 95)),
    () => String.fromCharCode(Math.floor(next() * 0x20)),
    () => String.fromCodePoint(0xa0 + Math.floor(next() * 0x700)),
    () => String.fromCodePoint(0x1f300 + Math.floor(next() * 0x300)),
    () => String.fromCodePoint(0xe000 + Math.floor(next() * 0x1000)),
  ];
  let out = '';
  for (let i = 0; i < length; i++) out += pools[Math.floor(next() * pools.length)]!();
  return out;
}

/** A random JSON value at most `depth` levels deep. */
export function randomJson(next: () => number, depth: number): unknown {
  const kind = Math.floor(next() * (depth > 0 ? 8 : 6));
  switch (kind) {
    case 0:
      return null;
    case 1:
      return next() < 0.5;
    case 2:
      return Math.floor((next() - 0.5) * 10 ** Math.floor(next() * 20));
    case 3:
      return (next() - 0.5) * 10 ** Math.floor(next() * 300);
    case 4:
    case 5:
      return randomString(next, Math.floor(next() * 50));
    case 6:
      return Array.from({ length: Math.floor(next() * 4) }, () => randomJson(next, depth - 1));
    default:
      return Object.fromEntries(
        Array.from({ length: Math.floor(next() * 4) }, () => [randomString(next, 5), randomJson(next, depth - 1)]),
      );
  }
}
