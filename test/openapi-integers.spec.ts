import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { METHOD_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getMetadataStorage } from 'class-validator';
import { createApp } from '../apps/control-plane/src/create-app';
import { testConfig } from './support/app-config';

/**
 * Every field the service validates as an integer (`@IsInteger()` from @app/common, or a bare `@IsInt()`) is
 * `type: integer` in the committed OpenAPI document, which test/foundation.e2e-spec.ts holds equal to what the service
 * serves at /docs-json and from which clients/typescript is generated: else a client takes 1.5 where the service
 * answers 400 "must be an integer number". The fields are found from what each route takes (its `@Body()` and
 * `@Query()` classes, their nested objects and arrays) and class-validator's metadata, so a new route or field is
 * checked without being listed here.
 */

interface Schema {
  type?: string;
  $ref?: string;
  allOf?: Schema[];
  items?: Schema;
  properties?: Record<string, Schema>;
}

interface Parameter {
  name: string;
  in: string;
  schema?: Schema;
}

interface Operation {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

interface Document {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

type Class = abstract new (...args: never[]) => object;

const DOCUMENT = JSON.parse(readFileSync(resolve(__dirname, '../openapi/control-plane.json'), 'utf8')) as Document;

/** The operations of the document by operationId (the handler's name: apps/control-plane/src/openapi/openapi.ts). */
function operationsById(document: Document): Map<string, Operation[]> {
  const out = new Map<string, Operation[]>();
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item)) {
      if (!operation || typeof operation !== 'object' || typeof operation.operationId !== 'string') continue;
      out.set(operation.operationId, [...(out.get(operation.operationId) ?? []), operation]);
    }
  }
  return out;
}

/** A `$ref` (or the plugin's `allOf: [{$ref}]`) followed to its component. */
function deref(schema: Schema | undefined): Schema | undefined {
  const ref = schema?.$ref ?? (schema?.allOf?.length === 1 ? schema.allOf[0]!.$ref : undefined);
  if (ref === undefined) return schema;
  return DOCUMENT.components?.schemas?.[ref.replace('#/components/schemas/', '')];
}

/** What class-validator checks of a class's properties (its parents' rules included). */
function rulesOf(type: Class): { integers: { property: string; each: boolean }[]; nested: string[] } {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false);
  return {
    integers: metadata.filter((m) => m.name === 'isInt').map((m) => ({ property: m.propertyName, each: !!m.each })),
    nested: [...new Set(metadata.filter((m) => m.type === 'nestedValidation').map((m) => m.propertyName))],
  };
}

function typeOf(schema: Schema | undefined, each: boolean): string | undefined {
  return each ? (schema?.type === 'array' ? schema.items?.type : schema?.type) : schema?.type;
}

describe('integer fields are `type: integer` in the OpenAPI document', () => {
  let app: NestFastifyApplication;
  /** `<operationId> <body|query> <field path>` of every integer field checked. */
  const checked: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    app = await createApp(testConfig(), { quiet: true });
    await app.init();
  }, 60_000);

  afterAll(async () => {
    await app?.close();
  });

  /** The integer fields of a body class and of the objects it nests, against the schema it is documented as. */
  function checkSchema(type: Class, schema: Schema | undefined, where: string, seen: Set<Class>): void {
    if (seen.has(type)) return;
    seen.add(type);
    const { integers, nested } = rulesOf(type);
    for (const { property, each } of integers) {
      const name = `${where}.${property}`;
      checked.push(name);
      const documented = typeOf(schema?.properties?.[property], each);
      if (documented !== 'integer') problems.push(`${name} (${type.name}): documented as ${documented ?? 'nothing'}`);
    }
    for (const property of nested) {
      const inner = Reflect.getMetadata('design:type', type.prototype as object, property) as Class | undefined;
      const documented = schema?.properties?.[property];
      if (inner === undefined || inner === Object || inner === Array) continue;
      checkSchema(
        inner,
        deref(documented?.type === 'array' ? documented.items : documented),
        `${where}.${property}`,
        seen,
      );
    }
  }

  it('checks every route body and query string that has an integer field', () => {
    const discovery = app.get(DiscoveryService);
    const scanner = app.get(MetadataScanner);
    const operations = operationsById(DOCUMENT);
    for (const wrapper of discovery.getControllers()) {
      const controller = wrapper.metatype as Class | null;
      if (!controller || !wrapper.instance) continue;
      const prototype = Object.getPrototypeOf(wrapper.instance) as object;
      for (const handler of scanner.getAllMethodNames(prototype)) {
        const method = (prototype as Record<string, unknown>)[handler];
        if (typeof method !== 'function' || Reflect.getMetadata(METHOD_METADATA, method) === undefined) continue;
        const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler) ?? {}) as Record<
          string,
          { index: number; data?: unknown }
        >;
        const types = (Reflect.getMetadata('design:paramtypes', prototype, handler) ?? []) as (Class | undefined)[];
        const found = operations.get(handler) ?? [];
        for (const [key, arg] of Object.entries(args)) {
          const kind = Number(key.split(':')[0]);
          if (kind !== Number(RouteParamtypes.BODY) && kind !== Number(RouteParamtypes.QUERY)) continue;
          // A body the handler validates itself (optional: `@Body() raw: unknown`) is typed by its `@ApiBody`.
          const declared = (Reflect.getMetadata('swagger/apiParameters', method) ?? []) as {
            in?: string;
            type?: Class;
          }[];
          const type =
            kind === Number(RouteParamtypes.BODY) && types[arg.index] === Object
              ? declared.find((p) => p.in === 'body')?.type
              : types[arg.index];
          if (type === undefined || arg.data !== undefined) continue;
          const rules = rulesOf(type);
          if (rules.integers.length === 0 && rules.nested.length === 0) continue;
          // A route that takes integers is in the document once (left out, or two operations named alike: fail).
          if (found.length !== 1) {
            problems.push(`${controller.name}.${handler}: ${found.length} operations with operationId ${handler}`);
            continue;
          }
          const operation = found[0]!;
          if (kind === Number(RouteParamtypes.BODY)) {
            const schema = deref(operation.requestBody?.content?.['application/json']?.schema);
            checkSchema(type, schema, `${handler} body`, new Set());
            continue;
          }
          for (const { property, each } of rules.integers) {
            const name = `${handler} query.${property}`;
            checked.push(name);
            const parameter = operation.parameters?.find((p) => p.in === 'query' && p.name === property);
            const documented = typeOf(parameter?.schema, each);
            if (documented !== 'integer')
              problems.push(`${name} (${type.name}): documented as ${documented ?? 'nothing'}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    // The walk reaches bodies, nested objects and query strings (else it would pass by checking nothing).
    expect(checked).toEqual(
      expect.arrayContaining([
        'stress body.repetitions',
        'qa body.routing.max_latency_ms',
        'startFaultDrill body.duration_s',
        'createIncident body.monitor_id',
        'chatCompletions body.max_tokens',
        'chatCompletions body.n',
        'recordResult body.period_days',
        'roiReportByBody body.days',
        'roiReport query.days',
        'costForecast query.hours',
        'listIncidents query.limit',
      ]),
    );
  });
});
