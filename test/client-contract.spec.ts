import { type OpenApiDocument, operationsOf, ResponseContract, toJsonSchema } from './client-contract';

/**
 * The checker the client e2e suite holds every answer to (test/client-contract.ts): it must see each kind of drift
 * (or that suite would pass on anything) and take what the document allows, `nullable` as the generated types read it.
 */
const DOCUMENT: OpenApiDocument = {
  openapi: '3.0.0',
  paths: {
    '/things/{id}': {
      parameters: [],
      get: {
        operationId: 'getThing',
        responses: {
          '200': { content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } },
          '404': { content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
          '429': {
            headers: { 'Retry-After': { required: true, schema: { type: 'integer' } } },
            content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          },
          '5XX': { content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
        },
      },
      delete: { operationId: 'deleteThing', responses: { '204': { description: 'Gone.' } } },
    },
    '/things': {
      post: {
        operationId: 'streamThings',
        responses: { '200': { content: { 'text/event-stream': { schema: { type: 'string' } } } } },
      },
    },
    '/things/owner': {
      get: {
        operationId: 'getOwner',
        responses: {
          '403': {
            content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDetailsDto' } } },
          },
        },
      },
    },
    '/things/stream': {
      post: {
        operationId: 'streamThingTyped',
        responses: { '200': { content: { 'text/event-stream': { schema: { $ref: '#/components/schemas/Thing' } } } } },
      },
    },
  },
  components: {
    schemas: {
      Thing: {
        type: 'object',
        required: ['id', 'owner', 'kind'],
        properties: {
          id: { type: 'string' },
          owner: { nullable: true, allOf: [{ $ref: '#/components/schemas/Owner' }] },
          kind: { type: 'string', enum: ['a', 'b'], nullable: true },
          size: { type: 'number' },
          count: { type: 'integer' },
          createdAt: { type: 'string', format: 'date-time' },
        },
      },
      Owner: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
      Problem: {
        type: 'object',
        required: ['status', 'code'],
        properties: { status: { type: 'number' }, code: { type: 'string' } },
      },
      ProblemDetailsDto: {
        type: 'object',
        required: ['status', 'code'],
        properties: { status: { type: 'integer' }, code: { type: 'string' }, requiredScope: { type: 'string' } },
      },
    },
  },
};

const answer = (
  status: number,
  contentType: string | null,
  body?: unknown,
  extra: Record<string, string> = {},
): { response: Response; data?: unknown; error?: unknown } => {
  const headers = { ...(contentType ? { 'content-type': contentType } : {}), ...extra };
  const response = new Response(null, { status, headers });
  return status < 300 ? { response, data: body } : { response, error: body };
};

describe('ResponseContract (the client e2e suite checker)', () => {
  const contract = new ResponseContract(DOCUMENT);

  it('lists the operations with method, path and id, skipping path-level members', () => {
    expect(operationsOf(DOCUMENT).map((o) => `${o.method} ${o.path} ${o.id}`)).toEqual([
      'GET /things/{id} getThing',
      'DELETE /things/{id} deleteThing',
      'POST /things streamThings',
      'GET /things/owner getOwner',
      'POST /things/stream streamThingTyped',
    ]);
  });

  it('takes an answer the document allows, nullable members null included', () => {
    const thing = { id: 't1', owner: null, kind: null };
    expect(contract.check('getThing', answer(200, 'application/json; charset=utf-8', thing))).toEqual([]);
    const owned = {
      id: 't1',
      owner: { name: 'n' },
      kind: 'a',
      size: 2,
      count: 3,
      createdAt: '2026-03-01T14:00:00.000Z',
    };
    expect(contract.check('getThing', answer(200, 'application/json', owned))).toEqual([]);
    const problem = { status: 503, code: 'NO_CAPACITY' };
    expect(contract.check('getThing', answer(503, 'application/problem+json', problem))).toEqual([]);
    expect(contract.check('deleteThing', answer(204, null))).toEqual([]);
    expect(contract.check('streamThings', answer(200, 'text/event-stream', 'data: x\n\n'))).toEqual([]);
  });

  it('names an undocumented status, an undocumented content type and a body that has content where none is documented', () => {
    const problem = { status: 401, code: 'UNAUTHORIZED' };
    expect(contract.check('getThing', answer(401, 'application/problem+json', problem))).toEqual([
      expect.stringContaining('answered 401, which the document does not list'),
    ]);
    expect(contract.check('getThing', answer(404, 'application/json', problem))).toEqual([
      expect.stringContaining('as application/json; the document has application/problem+json'),
    ]);
    expect(contract.check('deleteThing', answer(204, 'application/json', { id: 't1' }))).toEqual([
      expect.stringContaining('the document says it has none'),
    ]);
  });

  it('names a missing required member, a wrong type, a null where none is allowed and a value out of its enum', () => {
    const problems = contract.check(
      'getThing',
      answer(200, 'application/json', { owner: { name: 1 }, kind: 'c', size: null }),
    );
    expect(problems.join('\n')).toMatch(/must have required property 'id'/);
    expect(problems.join('\n')).toMatch(/body\/owner\/name must be string/);
    expect(problems.join('\n')).toMatch(/body\/size must be number/);
    expect(problems.join('\n')).toMatch(/body\/kind must be equal to one of the allowed values/);
    const problem = { status: 'pending', code: 'X' };
    expect(contract.check('getThing', answer(404, 'application/problem+json', problem)).join('\n')).toMatch(
      /body\/status must be number/,
    );
  });

  it('names a value its format refuses (a date-time that is not one) and a fraction where an integer is documented', () => {
    const thing = (extra: Record<string, unknown>) => ({ id: 't1', owner: null, kind: null, ...extra });
    for (const createdAt of [
      '2026-03-01',
      'Sun Mar 01 2026 14:00:00 GMT+0000',
      '2026-03-01T14:00:00',
      '1772373600000',
    ]) {
      expect(contract.check('getThing', answer(200, 'application/json', thing({ createdAt }))).join('\n')).toMatch(
        /body\/createdAt must match format "date-time"/,
      );
    }
    expect(contract.check('getThing', answer(200, 'application/json', thing({ count: 1.5 }))).join('\n')).toMatch(
      /body\/count must be integer/,
    );
  });

  it('names a member of problem details that ProblemDetailsDto does not declare', () => {
    const forbidden = { status: 403, code: 'FORBIDDEN', requiredScope: 'read' };
    expect(contract.check('getOwner', answer(403, 'application/problem+json', forbidden))).toEqual([]);
    expect(
      contract.check('getOwner', answer(403, 'application/problem+json', { ...forbidden, scopeNeeded: 'read' })).join(),
    ).toMatch(/body must NOT have additional properties \{"additionalProperty":"scopeNeeded"\}/);
  });

  it('names a stream whose documented schema is not text (a generated client would type it as the JSON answer)', () => {
    expect(contract.check('streamThingTyped', answer(200, 'text/event-stream', 'data: x\n\n')).join('\n')).toMatch(
      /body must be object/,
    );
  });

  it('names a header clients act on that the response does not declare, and a declared required one missing', () => {
    const problem = { status: 429, code: 'RATE_LIMITED' };
    expect(
      contract.check('getThing', answer(429, 'application/problem+json', problem, { 'retry-after': '3' })),
    ).toEqual([]);
    expect(contract.check('getThing', answer(429, 'application/problem+json', problem))).toEqual([
      expect.stringContaining('without the header retry-after, which the document says is required'),
    ]);
    const notFound = { status: 404, code: 'NOT_FOUND' };
    const extra = { 'retry-after': '3', 'x-control-plane-error-code': 'NOT_FOUND', 'cache-control': 'no-store' };
    const problems = contract.check('getThing', answer(404, 'application/problem+json', notFound, extra));
    expect(problems).toEqual([
      expect.stringContaining('with the header retry-after, which the document does not declare'),
      expect.stringContaining('with the header x-control-plane-error-code, which the document does not declare'),
    ]);
  });

  it('says when there was no answer at all', () => {
    expect(contract.check('getThing', { error: new TypeError('fetch failed') })).toEqual([
      expect.stringContaining('no response (the request failed before an answer: TypeError: fetch failed)'),
    ]);
  });

  it('reads nullable as "or null", beside a $ref too, and leaves a property named nullable alone', () => {
    expect(toJsonSchema({ type: 'string', nullable: true })).toEqual({ anyOf: [{ type: 'string' }, { type: 'null' }] });
    expect(toJsonSchema({ $ref: '#/components/schemas/Owner', nullable: true })).toEqual({
      anyOf: [{ $ref: '#/components/schemas/Owner' }, { type: 'null' }],
    });
    expect(toJsonSchema({ properties: { nullable: { type: 'boolean' } } })).toEqual({
      properties: { nullable: { type: 'boolean' } },
    });
  });
});
