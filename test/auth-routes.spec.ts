import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { API_KEY_SCHEME, BEARER_SCHEME, OPEN_EXTENSION, REQUIRED_SCOPE_EXTENSION } from '@app/common';
import { describeAccess, RouteAccessCatalog } from '@app/security';
import { createApp } from '../apps/control-plane/src/create-app';
import { createOpenApiDocument } from '../apps/control-plane/src/openapi/openapi';
import { testConfig } from './support/app-config';

/**
 * Every route of the application and who may call it (docs/security.md). A new route fails this test until it
 * declares its access (`@RequireScope`, `@Public`, `@OwnAuth` from @app/common) and is added here: a route without
 * one is refused to everyone, so it cannot be forgotten open.
 */
const EXPECTED: Record<string, string> = {
  'GET /datadog/products': 'read',
  'GET /forecast/cost': 'read',
  'GET /health': 'open',
  'GET /health/ready': 'open',
  'GET /incidents': 'read',
  'GET /incidents/status': 'read',
  'GET /insights/health-score': 'read',
  'DELETE /llm/drills/faults': 'admin',
  'GET /llm/drills/faults': 'read',
  'GET /llm/router': 'read',
  'GET /optimization/recommendations': 'read',
  'GET /optimization/recommendations/:id': 'read',
  'GET /optimization/roi-report': 'read',
  'GET /usage/spend': 'read',
  'GET /v1/models': 'invoke',
  'GET /v1/models/:id': 'invoke',
  'POST /datadog/notebooks/create': 'admin',
  'POST /datadog/synthetics/create': 'admin',
  'POST /datadog/workflows/trigger': 'admin',
  'POST /incidents/create': 'admin',
  'POST /incidents/create-from-insight': 'admin',
  'POST /incidents/webhook': 'own:webhook-secret',
  'POST /insights': 'read',
  'POST /llm/drills/faults': 'admin',
  'POST /optimization/anomaly/attribute': 'read',
  'POST /optimization/attribute-anomaly': 'read',
  'POST /optimization/recommendations': 'admin',
  'POST /optimization/recommendations/:id/implement': 'admin',
  'POST /optimization/recommendations/:id/record-result': 'admin',
  'POST /optimization/roi-report': 'read',
  'POST /qa': 'invoke (drills: admin)',
  'POST /reason': 'invoke (drills: admin)',
  'POST /stress': 'admin',
  'POST /v1/chat/completions': 'invoke',
  'GET /ui': 'open',
  'GET /ui/assets/:file': 'open',
};

/** Routes left out of the OpenAPI document (@ApiExcludeController): the control room page and its files. */
const NOT_IN_DOCUMENT = ['GET /ui', 'GET /ui/assets/:file'];

interface Operation {
  security?: Record<string, string[]>[];
  description?: string;
  [extension: string]: unknown;
}

describe('route access (deny by default)', () => {
  let app: NestFastifyApplication;
  const config = testConfig({ AUTH_DISABLED: 'false' });

  beforeAll(async () => {
    app = await createApp(config, { quiet: true });
    await app.init();
  }, 60_000);

  afterAll(async () => {
    await app?.close();
  });

  it('lists every controller route with its access rule, and none without one', () => {
    const routes = app.get(RouteAccessCatalog).routes();
    const actual = Object.fromEntries(routes.map((r) => [r.route, describeAccess(r.access)]));
    expect(actual).toEqual(EXPECTED);
    expect(routes.filter((r) => r.access === undefined)).toEqual([]);
  });

  it('the OpenAPI document declares the schemes and, per operation, the scope it needs (or that it is open) and its refusals', () => {
    const document = createOpenApiDocument(app, config);
    expect(document.components?.securitySchemes).toMatchObject({
      [BEARER_SCHEME]: { type: 'http', scheme: 'bearer' },
      [API_KEY_SCHEME]: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      'webhook-secret': { type: 'apiKey', in: 'header', name: 'X-Webhook-Secret' },
    });
    const problems: string[] = [];
    let operations = 0;
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, value] of Object.entries(item as Record<string, Operation>)) {
        if (!value || typeof value !== 'object' || !('responses' in value)) continue;
        operations += 1;
        const name = `${method.toUpperCase()} ${path}`;
        const scope = value[REQUIRED_SCOPE_EXTENSION];
        const responses = Object.keys((value as { responses: Record<string, unknown> }).responses);
        const refusals = typeof scope === 'string' ? ['401', '403', '429'] : ['429'];
        const undeclared = refusals.filter((status) => !responses.includes(status));
        if (undeclared.length > 0) problems.push(`${name}: does not declare ${undeclared.join(', ')}`);
        const schemes = (value.security ?? []).flatMap((s) => Object.keys(s)).sort();
        if (value[OPEN_EXTENSION] === true) {
          if (value.security === undefined || value.security.length > 0)
            problems.push(`${name}: open without security: []`);
        } else if (typeof scope === 'string') {
          if (schemes.join() !== [API_KEY_SCHEME, BEARER_SCHEME].sort().join())
            problems.push(`${name}: schemes ${schemes.join(', ')}`);
          if (!value.description?.includes(`\`${scope}\` scope`)) problems.push(`${name}: description lacks the scope`);
        } else if (schemes.join() !== 'webhook-secret') {
          problems.push(`${name}: declares neither a scope nor that it is open`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(operations).toBe(Object.keys(EXPECTED).length - NOT_IN_DOCUMENT.length);
  });
});

/**
 * The routes docs/security.md lists per scope ("Scopes per route"): each row's `METHOD /path` entries, with
 * "`GET` and `POST /x`" read as both methods, `[/{id}]` as the path with and without it, and `{id}` as `:id`.
 */
function documentedScopes(): Record<string, string[]> {
  const doc = readFileSync(resolve(__dirname, '../docs/security.md'), 'utf8');
  const section = doc.split(/^## /m).find((part) => part.startsWith('Scopes per route')) ?? '';
  const scopes: Record<string, string[]> = {};
  for (const line of section.split('\n')) {
    const scope = /^\| `(invoke|read|admin)` +\|/.exec(line)?.[1];
    if (!scope) continue;
    const routes: string[] = [];
    for (const m of line.matchAll(/`((?:(?:GET|POST|DELETE)` and `)*)(GET|POST|DELETE) (\/[^`\s]*)`/g)) {
      const methods = [...(m[1] ?? '').matchAll(/GET|POST|DELETE/g)].map((x) => x[0]).concat(m[2]!);
      const path = m[3]!.replace(/\{(\w+)\}/g, ':$1');
      const paths = path.includes('[') ? [path.replace(/\[.*\]/, ''), path.replace(/[[\]]/g, '')] : [path];
      for (const method of methods) for (const p of paths) routes.push(`${method} ${p}`);
    }
    scopes[scope] = routes.sort();
  }
  return scopes;
}

describe('docs/security.md', () => {
  it('lists under each scope the routes that need it, and no other', () => {
    const scopeOf = (access: string): string => access.replace(/ \(drills: admin\)$/, '');
    const expected: Record<string, string[]> = {};
    for (const scope of ['invoke', 'read', 'admin'])
      expected[scope] = Object.keys(EXPECTED)
        .filter((route) => scopeOf(EXPECTED[route]!) === scope)
        .sort();
    expect(expected.read!.length).toBeGreaterThan(10);
    expect(documentedScopes()).toEqual(expected);
  });
});
