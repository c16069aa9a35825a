import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * The part of an OpenAPI 3.0 document the client suite reads: each operation (method, path, id, extensions) and
 * what it documents for each status: the content types and their schema. `ResponseContract.check` says where an
 * answer the generated client received departs from that: an undocumented status, an undocumented content type,
 * a body its schema refuses (a missing required member, a wrong type, a null where none is allowed, a value its
 * `format` refuses: a `date-time` that is not an RFC 3339 date-time with its zone), a header clients
 * act on (`WATCHED_HEADERS`) that the response does not declare, a declared required header missing.
 */

/**
 * The response headers a client acts on (docs/errors.md, docs/security.md, docs/openai-compat.md): when an answer
 * carries one, the document must declare it on that response. Transport and security headers (`content-type`,
 * `cache-control`, CSP...) are not part of the contract.
 */
export const WATCHED_HEADERS = /^(retry-after|www-authenticate|x-request-id|x-should-retry|x-control-plane-.+)$/i;
export interface SchemaObject {
  [key: string]: unknown;
}
interface MediaTypeObject {
  schema?: SchemaObject;
}
interface ResponseObject {
  description?: string;
  content?: Record<string, MediaTypeObject>;
  headers?: Record<string, { required?: boolean }>;
}
interface OperationObject {
  operationId?: string;
  responses?: Record<string, ResponseObject>;
  security?: Record<string, string[]>[];
  requestBody?: unknown;
  parameters?: unknown[];
  [extension: `x-${string}`]: unknown;
}
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, SchemaObject>; securitySchemes?: Record<string, unknown> };
}

export interface Operation {
  id: string;
  method: string;
  path: string;
  object: OperationObject;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every operation of the document, in its order; an operation without an operationId is refused. */
export function operationsOf(document: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const object = item[method] as OperationObject | undefined;
      if (!object) continue;
      if (!object.operationId) throw new Error(`${method.toUpperCase()} ${path} has no operationId`);
      operations.push({ id: object.operationId, method: method.toUpperCase(), path, object });
    }
  }
  return operations;
}

/** What a call through the generated client gives back (its `fields` response style). */
export interface ClientOutcome {
  data?: unknown;
  error?: unknown;
  response?: Response;
}

const mediaType = (header: string | null): string => (header ?? '').split(';')[0]!.trim().toLowerCase();

/** The documented response of `status`: the exact code, else its range (`4XX`), else `default`. */
function documentedResponse(
  responses: Record<string, ResponseObject>,
  status: number,
): { key: string; response: ResponseObject } | undefined {
  for (const key of [String(status), `${String(status)[0]}XX`, 'default']) {
    const response = responses[key] ?? responses[key.toLowerCase()];
    if (response) return { key, response };
  }
  return undefined;
}

export class ResponseContract {
  // Formats are checked (`date-time`, `uuid`...): a timestamp a client would parse as a date must be one.
  private readonly ajv = addFormats(new Ajv({ allErrors: true, strict: false }));
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly byId: Map<string, Operation>;

  constructor(private readonly document: OpenApiDocument) {
    this.byId = new Map(operationsOf(document).map((operation) => [operation.id, operation]));
  }

  operation(id: string): Operation {
    const operation = this.byId.get(id);
    if (!operation) throw new Error(`no operation ${id} in the document`);
    return operation;
  }

  /**
   * The departures of one answer from the document (empty when it conforms). A body is checked when its content
   * type is JSON (`application/json`, `application/problem+json`), or a stream (`text/event-stream`) read as text;
   * the headers clients act on, against those the response declares.
   */
  check(id: string, outcome: ClientOutcome): string[] {
    const operation = this.operation(id);
    const response = outcome.response;
    if (!response) return [`no response (the request failed before an answer: ${show(outcome.error)})`];
    const status = response.status;
    const where = `${operation.method} ${operation.path} answered ${status}`;
    const documented = documentedResponse(operation.object.responses ?? {}, status);
    if (!documented) {
      return [
        `${where}, which the document does not list (${Object.keys(operation.object.responses ?? {}).join(', ')})`,
      ];
    }
    const problems = headerProblems(where, documented.response, response.headers);
    const type = mediaType(response.headers.get('content-type'));
    const content = documented.response.content ?? {};
    const types = Object.keys(content);
    const body = status >= 200 && status < 300 ? outcome.data : outcome.error;
    if (types.length === 0) {
      const empty = body === undefined || body === '' || (isRecord(body) && Object.keys(body).length === 0);
      return empty && !type
        ? problems
        : [...problems, `${where} with a ${type || 'typeless'} body; the document says it has none`];
    }
    if (!types.includes(type))
      return [...problems, `${where} as ${type || 'no content type'}; the document has ${types.join(', ')}`];
    // A stream is read as text: its schema must take a string (a JSON object's schema would type it wrongly).
    if (!type.endsWith('json') && !(type === 'text/event-stream' && typeof body === 'string')) return problems;
    const schema = content[type]!.schema;
    if (!schema) return problems;
    const validate = this.validator(`${id} ${documented.key} ${type}`, schema);
    if (validate(body)) return problems;
    return [
      ...problems,
      ...(validate.errors ?? []).map(
        (e) => `${where}: body${e.instancePath || ''} ${e.message ?? 'is invalid'} ${JSON.stringify(e.params)}`,
      ),
    ];
  }

  private validator(key: string, schema: SchemaObject): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) {
      // `#/components/...` references resolve against the compiled schema's root: carry the components along.
      const root = { ...schema, components: { schemas: closeProblem(this.document.components?.schemas ?? {}) } };
      validate = this.ajv.compile(toJsonSchema(root) as SchemaObject);
      this.validators.set(key, validate);
    }
    return validate;
  }
}

/**
 * Problem details may carry extension members (RFC 9457), and the document declares every one the service sends on
 * `ProblemDetailsDto` (docs/errors.md): checked closed, a member it does not declare is a departure, which a
 * generated client would not see.
 */
function closeProblem(schemas: Record<string, SchemaObject>): Record<string, SchemaObject> {
  const problem = schemas.ProblemDetailsDto;
  return problem ? { ...schemas, ProblemDetailsDto: { ...problem, additionalProperties: false } } : schemas;
}

/**
 * OpenAPI 3.0's `nullable: true` as JSON Schema: the schema, or null. Read as the generated types read it (`T | null`),
 * also beside a `$ref` (where Nest's Swagger puts it for a nullable nested DTO) and with an `enum`.
 */
export function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!isRecord(node)) return node;
  const converted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    // `properties` and `components.schemas` map names to schemas: convert the schemas, not the map itself.
    converted[key] =
      (key === 'properties' || key === 'schemas' || key === 'patternProperties') && isRecord(value)
        ? Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, toJsonSchema(schema)]))
        : toJsonSchema(value);
  }
  if (converted.nullable !== true) return converted;
  const { nullable: _nullable, components, ...rest } = converted;
  const wrapped: Record<string, unknown> = { anyOf: [rest, { type: 'null' }] };
  if (components !== undefined) wrapped.components = components;
  return wrapped;
}

/** The watched headers an answer carries that its response does not declare, and the declared required ones it lacks. */
function headerProblems(where: string, response: ResponseObject, headers: Headers): string[] {
  const declared = new Map(Object.entries(response.headers ?? {}).map(([name, h]) => [name.toLowerCase(), h]));
  const problems: string[] = [];
  headers.forEach((_value, name) => {
    if (WATCHED_HEADERS.test(name) && !declared.has(name.toLowerCase()))
      problems.push(`${where} with the header ${name}, which the document does not declare on that response`);
  });
  for (const [name, header] of declared) {
    if (header.required === true && !headers.has(name))
      problems.push(`${where} without the header ${name}, which the document says is required`);
  }
  return problems;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function show(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
