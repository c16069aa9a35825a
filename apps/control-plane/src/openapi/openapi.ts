import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ProblemDetailsDto, PROBLEM_CONTENT_TYPE } from '@app/common';
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
    .build();
  const document = SwaggerModule.createDocument(app, builder, {
    operationIdFactory: (_controllerKey: string, methodKey: string) => methodKey,
    extraModels: [ProblemDetailsDto],
  });
  for (const pathItem of Object.values(document.paths)) {
    for (const operation of Object.values(pathItem as Record<string, unknown>)) {
      if (!operation || typeof operation !== 'object' || !('responses' in operation)) continue;
      const responses = (operation as { responses: Record<string, unknown> }).responses;
      const codes = Object.keys(responses);
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
