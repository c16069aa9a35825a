import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import {
  API_KEY_SCHEME,
  BEARER_SCHEME,
  DRILL_SCOPE_EXTENSION,
  OPEN_EXTENSION,
  ProblemDetailsDto,
  PROBLEM_CONTENT_TYPE,
  REQUIRED_SCOPE_EXTENSION,
  WEBHOOK_SECRET_SCHEME,
} from '@app/common';
import type { AppConfig } from '@app/config';

const PROBLEM_REF = { $ref: '#/components/schemas/ProblemDetailsDto' };
const PROBLEM_CONTENT = { [PROBLEM_CONTENT_TYPE.split(';')[0]!]: { schema: PROBLEM_REF } };
const OPENAI_ERROR_CONTENT = { 'application/json': { schema: { $ref: '#/components/schemas/OpenAiErrorDto' } } };

/** The route groups (`@ApiTags`), described once: clients and Swagger UI group operations by them. */
const TAGS: [name: string, description: string][] = [
  ['llm', 'LLM calls: /qa, /reason, /stress (metered, costed, scored, traced); fault drills; the model router.'],
  [
    'openai-compatible',
    'The OpenAI Chat Completions API (/v1): errors are OpenAI error bodies (docs/openai-compat.md).',
  ],
  ['usage', 'Spend from the ledger, by principal, endpoint and model.'],
  ['forecast', "The next hours' cost forecast and the daily budget's risk."],
  ['insights', 'Health score and recommendations from the ledger and the live signals.'],
  ['incidents', 'Incidents from Datadog monitors and insights, through the durable outbox (docs/incidents.md).'],
  ['optimization', 'Cost recommendations, their results and ROI; anomaly attribution.'],
  ['datadog', 'The Datadog products the service uses, and the resources it creates there.'],
  ['health', 'Liveness and readiness probes (open).'],
];

function sortKeys<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b))) as T;
}

/**
 * Builds the OpenAPI 3 document: operationId = handler name, every operation answers its errors as problem+json (on
 * `/v1`, OpenAI error bodies): the precise codes it declares, the refusals of the key check, the rate limit and the
 * body parser, then a 4XX and a 5XX range for any other; the headers clients act on (`Retry-After`...) declared on
 * the responses that carry them; paths and schemas sorted so the committed file is stable.
 */
export function createOpenApiDocument(app: INestApplication, config: AppConfig): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('LLM Reliability Control Plane')
    .setDescription(
      'Every LLM call traced, metered, costed, scored for quality and safety, and shipped to Datadog. ' +
        'Errors are RFC 9457 problem details (application/problem+json) with a stable `code` and the `traceId`.',
    )
    .setVersion(config.service.version)
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    .addServer('http://localhost:3000', 'Local (npm start)')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'API key',
        description: 'An API key: `Authorization: Bearer <key>` (docs/security.md).',
      },
      BEARER_SCHEME,
    )
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'An API key in the `x-api-key` header.' },
      API_KEY_SCHEME,
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'X-Webhook-Secret',
        description:
          'INCIDENTS_WEBHOOK_SECRET, the shared secret of `POST /incidents/webhook` (docs/incidents.md): the one ' +
          'credential of that route, where no API key is taken.',
      },
      WEBHOOK_SECRET_SCHEME,
    );
  for (const [name, description] of TAGS) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build(), {
    operationIdFactory: (_controllerKey: string, methodKey: string) => methodKey,
    extraModels: [ProblemDetailsDto],
  });
  const openAiErrors = document.components?.schemas?.OpenAiErrorDto !== undefined;
  for (const [path, pathItem] of Object.entries(document.paths)) {
    for (const operation of Object.values(pathItem as Record<string, unknown>)) {
      if (!operation || typeof operation !== 'object' || !('responses' in operation)) continue;
      const op = operation as Operation & { responses: Record<string, ResponseObject>; requestBody?: unknown };
      const openAi = path.startsWith('/v1/') && openAiErrors;
      const errorContent = openAi ? OPENAI_ERROR_CONTENT : PROBLEM_CONTENT;
      declareAccess(op, op.responses, errorContent);
      if (op.requestBody !== undefined) declareBodyRefusals(op.responses, errorContent);
      // Whatever precise codes an operation declares, any route can answer another 4xx (an unknown query field, a
      // path that is not UTF-8 or too long: docs/errors.md) or a 500: the ranges say what those look like.
      op.responses['4XX'] ??= { description: 'Client error', content: errorContent };
      op.responses['5XX'] ??= { description: 'Server error', content: errorContent };
      for (const [status, response] of Object.entries(op.responses)) {
        declareHeaders(status, response, openAi, typeof op[REQUIRED_SCOPE_EXTENSION] === 'string');
        describeStream(response);
      }
    }
  }
  nullableEnums(document);
  document.paths = sortKeys(document.paths);
  if (document.components?.schemas) document.components.schemas = sortKeys(document.components.schemas);
  return document;
}

/**
 * A nullable field with an enum (`state!: IncidentState | null`): the Swagger plugin writes `nullable: true` beside an
 * enum without `null`, and in OpenAPI 3.0 the enum wins (a validator refuses null, a generated client types the field
 * as never null). `null` is added to every such enum, wherever it is (schemas, parameters, nested).
 */
function nullableEnums(document: OpenAPIObject): void {
  const seen = new Set<unknown>();
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    const schema = node as { nullable?: unknown; enum?: unknown };
    if (schema.nullable === true && Array.isArray(schema.enum) && !schema.enum.includes(null)) {
      schema.enum = [...(schema.enum as unknown[]), null];
    }
    for (const value of Object.values(node)) visit(value);
  };
  visit(document.paths);
  visit(document.components);
}

interface Operation {
  security?: Record<string, string[]>[];
  description?: string;
  [extension: `x-${string}`]: unknown;
}

/** The refusals of the API-key check and the rate limit (docs/security.md), by status. */
const REFUSALS = {
  '401': 'UNAUTHORIZED: no API key, or one that is not configured (`WWW-Authenticate: Bearer`)',
  '403': 'FORBIDDEN: the API key lacks the scope this operation needs (`requiredScope`)',
  '429': 'RATE_LIMITED: over the rate limit of the key, or of the client IP without one (`Retry-After`)',
} as const;

/**
 * Who may call an operation, as the route declares it (`@RequireScope`, `@Public`, `@OwnAuth`): an open one gets
 * `security: []`, one that needs a scope says which in its description too (`x-required-scope` is the machine form).
 * The refusals it can answer are declared (401, 403 and 429 with a scope, 429 otherwise) unless it declares its own;
 * on `/v1` as OpenAI error bodies.
 */
function declareAccess(
  operation: Operation,
  responses: Record<string, ResponseObject>,
  errorContent: ResponseObject['content'],
): void {
  const scope = operation[REQUIRED_SCOPE_EXTENSION];
  const statuses = typeof scope === 'string' ? (['401', '403', '429'] as const) : (['429'] as const);
  for (const status of statuses) {
    responses[status] ??= { description: REFUSALS[status], content: errorContent };
  }
  if (operation[OPEN_EXTENSION] === true) {
    operation.security = [];
    return;
  }
  if (typeof scope !== 'string') return;
  const drills = operation[DRILL_SCOPE_EXTENSION];
  const note =
    `Needs an API key with the \`${scope}\` scope.` +
    (typeof drills === 'string' ? ` The \`simulate_*\` drills also need the \`${drills}\` scope.` : '');
  operation.description = operation.description ? `${operation.description}\n\n${note}` : note;
}

/** What every JSON body is refused with before its route sees it (docs/errors.md: the body limit, the media type). */
function declareBodyRefusals(responses: Record<string, ResponseObject>, errorContent: ResponseObject['content']): void {
  responses['413'] ??= { description: 'PAYLOAD_TOO_LARGE: the body exceeds BODY_LIMIT_BYTES', content: errorContent };
  responses['415'] ??= {
    description: 'UNSUPPORTED_MEDIA_TYPE: a body that is not `application/json`, or a compressed one',
    content: errorContent,
  };
}

/** The response headers clients act on (docs/errors.md, docs/security.md, docs/openai-compat.md). */
const HEADERS = {
  'Retry-After': {
    description:
      'Seconds to wait before retrying: on every 429, and on a 503 of a saturated or rate-limited model provider ' +
      '(`UPSTREAM_UNAVAILABLE`, `CIRCUIT_OPEN`, `NO_CAPACITY`).',
    schema: { type: 'integer', minimum: 0 },
  },
  'WWW-Authenticate': { description: '`Bearer`: present an API key.', schema: { type: 'string' } },
  'x-control-plane-error-code': {
    description: "The control plane's error code (`code` of docs/errors.md), beside the OpenAI error body.",
    schema: { type: 'string' },
  },
  'x-control-plane-prompt-id': {
    description:
      "A failed call's prompt id (its ledger row's `prompt_id`), as on its answer; absent on an error before any call.",
    schema: { type: 'string' },
  },
  'x-request-id': {
    description:
      "A failed call's prompt id (also in `x-control-plane-prompt-id`), as on its answer: its ledger row's " +
      '`prompt_id`, tracing on or off; on an error before any call (a refused request), the trace id when tracing is on.',
    schema: { type: 'string' },
  },
  'x-should-retry': {
    description: '`false` on a budget refusal (`insufficient_quota`): the openai SDK does not retry it.',
    schema: { type: 'string', enum: ['false'] },
  },
} as const;

/** Declares on each response the headers the service sends with it. */
function declareHeaders(status: string, response: ResponseObject, openAi: boolean, keyed: boolean): void {
  const names: (keyof typeof HEADERS)[] = [];
  if (status === '429' || status === '503' || status === '5XX') names.push('Retry-After');
  if (status === '401' && keyed) names.push('WWW-Authenticate');
  if (openAi && /^[45]/.test(status))
    names.push('x-control-plane-error-code', 'x-control-plane-prompt-id', 'x-request-id');
  if (openAi && status === '429') names.push('x-should-retry');
  if (names.length === 0) return;
  response.headers = { ...Object.fromEntries(names.map((name) => [name, HEADERS[name]])), ...response.headers };
}

/**
 * A `text/event-stream` answer is text (a sequence of Server-Sent Events), not the JSON object `@ApiProduces` gives
 * both media types: a client must not parse it as the JSON answer's type. Its events are in the description.
 */
function describeStream(response: ResponseObject): void {
  const stream = response.content?.['text/event-stream'];
  if (stream) stream.schema = { type: 'string', description: 'Server-Sent Events (`event:` and `data:` lines).' };
}

interface ResponseObject {
  description?: string;
  content?: Record<string, { schema?: unknown }>;
  headers?: Record<string, unknown>;
}

/**
 * Serves Swagger UI at /docs and the document at /docs-json (and /docs-yaml), and at /openapi.json, where clients
 * generated against the origin service look for it (docs/compatibility.md).
 */
export function setupOpenApi(app: NestFastifyApplication, config: AppConfig): OpenAPIObject {
  const document = createOpenApiDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
  app
    .getHttpAdapter()
    .getInstance()
    .get('/openapi.json', (_request, reply) => reply.type('application/json').send(document));
  return document;
}
