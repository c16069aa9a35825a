import { globSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Ajv from 'ajv';
import { type OpenApiDocument, operationsOf, type SchemaObject } from './client-contract';

/**
 * The requests the docs show are requests the service takes: every curl command of a shell block in README.md and
 * docs/*.md, and the first JSON block under a `### \`POST /path\`` heading (the request of that route), checked
 * against the committed OpenAPI document (test/openapi.e2e-spec.ts keeps it what the service serves): the route and
 * method exist, the query names are declared and their values fit, and the body fits the request schema, with
 * unknown fields refused as the service refuses them (except on /v1, which follows OpenAI).
 */
const ROOT = resolve(__dirname, '..');
const DOCS = ['README.md', ...globSync('docs/*.md', { cwd: ROOT })];
const document = JSON.parse(readFileSync(join(ROOT, 'openapi/control-plane.json'), 'utf8')) as OpenApiDocument;
const operations = operationsOf(document);
const NOT_IN_THE_DOCUMENT = /^\/(health|docs|docs-json|docs-yaml|openapi\.json|ui)(\/|$)/;

interface Example {
  where: string;
  method: string;
  path: string;
  query: URLSearchParams;
  body: string | undefined;
}

/** Schemas refuse what they do not declare, as the service's validation does (`forbidNonWhitelisted`). */
function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) out[key] = strict(value);
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined)
    out.additionalProperties = false;
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
ajv.addSchema({ components: strict(document.components) as SchemaObject }, 'openapi');
const rebase = (schema: unknown): unknown =>
  JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"openapi#/components/')) as unknown;

function operationOf(method: string, path: string) {
  return operations.find(
    (op) => op.method === method && new RegExp(`^${op.path.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path),
  );
}

/** The curl commands of the shell blocks (continuation lines joined; `# comments` dropped). */
function curlExamples(file: string, text: string): Example[] {
  const examples: Example[] = [];
  for (const block of text.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)) {
    const commands = block[1]!.replace(/\\\n\s*/g, ' ').split('\n');
    for (const command of commands) {
      const curl = /(?:^|\s)curl\s(.*)$/.exec(command.replace(/\s#\s.*$/, ''));
      if (!curl) continue;
      const args = curl[1]!;
      const url = /'?(?:https?:\/\/)?(?:localhost|127\.0\.0\.1):\d+(\/[^\s']*)'?/.exec(args);
      if (!url) continue;
      const data = /(?:-d|--data(?:-raw)?)\s+'([^']*)'/.exec(args)?.[1];
      const explicit = /-X\s*([A-Z]+)/.exec(args)?.[1];
      const parsed = new URL(url[1]!, 'http://127.0.0.1');
      examples.push({
        where: `${file}: ${command.trim().slice(0, 80)}`,
        method: explicit ?? (data === undefined ? 'GET' : 'POST'),
        path: parsed.pathname,
        query: parsed.searchParams,
        body: data,
      });
    }
  }
  return examples;
}

/** The first JSON block under each `### \`POST /path\`` heading: that route's request, as the page shows it. */
function headingExamples(file: string, text: string): Example[] {
  const examples: Example[] = [];
  for (const section of text.split(/^(?=#{2,4} )/m)) {
    const heading = /^#{2,4} `(POST|PUT|PATCH) (\/[^`\s?]*)`\n/.exec(section);
    const json = /```json\n([\s\S]*?)```/.exec(section);
    if (!heading || !json) continue;
    examples.push({
      where: `${file}: ${heading[0].trim()}`,
      method: heading[1]!,
      path: heading[2]!,
      query: new URLSearchParams(),
      body: json[1],
    });
  }
  return examples;
}

interface ParameterObject {
  name: string;
  in: string;
  schema?: SchemaObject;
}

function problemsOf(example: Example): string[] {
  if (NOT_IN_THE_DOCUMENT.test(example.path)) return [];
  const op = operationOf(example.method, example.path);
  if (!op) return [`${example.where}: no ${example.method} ${example.path} in the OpenAPI document`];
  const problems: string[] = [];
  const parameters = (op.object.parameters ?? []) as ParameterObject[];
  for (const [name, value] of example.query) {
    const parameter = parameters.find((p) => p.in === 'query' && p.name === name);
    if (!parameter) {
      if (!example.path.startsWith('/v1/')) problems.push(`${example.where}: query ${name} is not declared`);
      continue;
    }
    const schema = rebase(parameter.schema ?? {}) as SchemaObject;
    const typed = schema.type === 'integer' || schema.type === 'number' ? Number(value) : value;
    if (!ajv.validate(schema, schema.type === 'boolean' ? value === 'true' : typed))
      problems.push(`${example.where}: query ${name}=${value}: ${ajv.errorsText()}`);
  }
  if (example.body === undefined) return problems;
  let body: unknown;
  try {
    body = JSON.parse(example.body);
  } catch (error) {
    return [...problems, `${example.where}: the body is not JSON (${(error as Error).message})`];
  }
  const request = op.object.requestBody as { content?: Record<string, { schema?: unknown }> } | undefined;
  const schema = request?.content?.['application/json']?.schema;
  if (!schema) return [...problems, `${example.where}: ${op.method} ${op.path} takes no JSON body`];
  const checked = example.path.startsWith('/v1/') ? schema : strict(schema);
  if (!ajv.validate(rebase(checked) as SchemaObject, body))
    problems.push(`${example.where}: ${ajv.errorsText(ajv.errors, { dataVar: 'body' })}`);
  return problems;
}

describe('request examples in the docs', () => {
  const examples = DOCS.flatMap((file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    return [...curlExamples(file, text), ...headingExamples(file, text)];
  });

  it('finds them (a check of nothing passes)', () => {
    expect(examples.filter((e) => e.body !== undefined).length).toBeGreaterThanOrEqual(5);
    expect(examples.some((e) => e.path === '/incidents/create-from-insight')).toBe(true);
  });

  it('are requests the service takes: route, method, query and body', () => {
    expect(examples.flatMap(problemsOf)).toEqual([]);
  });
});

describe('streaming routes in the docs', () => {
  /** The routes a page lists after "`Accept: text/event-stream` on" (`/qa`, `/reason`: backquoted paths in a row). */
  const claimed = DOCS.flatMap((file) =>
    [
      ...readFileSync(join(ROOT, file), 'utf8').matchAll(
        /`Accept: text\/event-stream` on ((?:`\/[\w/-]+`(?:,? and |[ ,]+)?)+)/g,
      ),
    ].flatMap((m) => [...m[1]!.matchAll(/`(\/[\w/-]+)`/g)].map((r) => ({ file, path: r[1]! }))),
  );

  it('finds them (a check of nothing passes)', () => {
    expect(claimed.length).toBeGreaterThanOrEqual(4);
  });

  it('are the routes whose answer the OpenAPI document declares as text/event-stream', () => {
    const problems = claimed.flatMap(({ file, path }) => {
      const op = operationOf('POST', path);
      const responses = (op?.object.responses ?? {}) as Record<string, { content?: Record<string, unknown> }>;
      return responses['200']?.content?.['text/event-stream'] ? [] : [`${file}: POST ${path} does not stream`];
    });
    expect(problems).toEqual([]);
  });
});
