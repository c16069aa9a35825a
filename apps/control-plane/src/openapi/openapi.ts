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

function sortKeys<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b))) as T;
}

/**
 * Builds the OpenAPI 3 document: operationId = handler name, every operation answers its errors as
 * problem+json (a 4XX and 5XX default unless it declares more precise ones), paths and schemas sorted so
 * the committed file is stable.
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
      { type: 'apiKey', in: 'header', name: 'X-Webhook-Secret', description: 'INCIDENTS_WEBHOOK_SECRET.' },
      WEBHOOK_SECRET_SCHEME,
    )
    .build();
  const document = SwaggerModule.createDocument(app, builder, {
    operationIdFactory: (_controllerKey: string, methodKey: string) => methodKey,
    extraModels: [ProblemDetailsDto],
  });
  const openAiErrors = document.components?.schemas?.OpenAiErrorDto !== undefined;
  for (const [path, pathItem] of Object.entries(document.paths)) {
    for (const operation of Object.values(pathItem as Record<string, unknown>)) {
      if (!operation || typeof operation !== 'object' || !('responses' in operation)) continue;
      const responses = (operation as { responses: Record<string, unknown> }).responses;
      const codes = Object.keys(responses);
      declareAccess(operation, responses, path.startsWith('/v1/') && openAiErrors);
      if (!codes.some((c) => c.startsWith('4'))) {
        responses['4XX'] = {
          description: 'Client error (problem details)',
          content: { [PROBLEM_CONTENT_TYPE.split(';')[0]!]: { schema: PROBLEM_REF } },
        };
      }
      if (!codes.some((c) => c.startsWith('5'))) {
        responses['5XX'] = {
          description: 'Server error (problem details)',
          content: { [PROBLEM_CONTENT_TYPE.split(';')[0]!]: { schema: PROBLEM_REF } },
        };
      }
    }
  }
  document.paths = sortKeys(document.paths);
  if (document.components?.schemas) document.components.schemas = sortKeys(document.components.schemas);
  return document;
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
function declareAccess(operation: Operation, responses: Record<string, unknown>, openAiErrors: boolean): void {
  const scope = operation[REQUIRED_SCOPE_EXTENSION];
  const statuses = typeof scope === 'string' ? (['401', '403', '429'] as const) : (['429'] as const);
  for (const status of statuses) {
    if (responses[status] !== undefined) continue;
    responses[status] = {
      description: REFUSALS[status],
      content: openAiErrors
        ? { 'application/json': { schema: { $ref: '#/components/schemas/OpenAiErrorDto' } } }
        : { [PROBLEM_CONTENT_TYPE.split(';')[0]!]: { schema: PROBLEM_REF } },
    };
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
