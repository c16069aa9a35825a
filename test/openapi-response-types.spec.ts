import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * What a generated client reads from the answers is typed as precisely as the service fills it: in every schema an
 * operation answers with (its responses, the schemas they reach, problem+json included),
 * - a moment (a string said to be ISO 8601, or named like one: `*At`, `*_at`, a window's `from`/`to`/`start`/`end`,
 *   an `hour`) is `format: date-time` (the service writes them with `toISOString()`; test/client-contract.ts checks
 *   the live values against the format);
 * - a count (`calls`, `requests`, `*_tokens`, `attempts`, `*_count`...) and the problem's HTTP `status` are
 *   `type: integer`, not `number` (a float in a typed client). Request fields: test/openapi-integers.spec.ts.
 * The names are read from the committed document (openapi/control-plane.json, which clients are generated from), so
 * a new response field is checked without being listed here.
 */

interface Schema {
  type?: string;
  format?: string;
  description?: string;
  $ref?: string;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  items?: Schema;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
}

interface Document {
  paths: Record<
    string,
    Record<string, { responses?: Record<string, { content?: Record<string, { schema?: Schema }> }> }>
  >;
  components?: { schemas?: Record<string, Schema> };
}

const DOCUMENT = JSON.parse(readFileSync(resolve(__dirname, '../openapi/control-plane.json'), 'utf8')) as Document;

/** The moments named without a telling suffix: a window's bounds, an hour. */
const MOMENT_NAMES = new Set(['from', 'to', 'start', 'end', 'hour', 'period_start', 'period_end', 'complete_from']);
const isMomentName = (name: string): boolean => /(At|_at)$/.test(name) || MOMENT_NAMES.has(name);

/** The last word of a name says it is a count (`safety_blocks`, `baselineRequests`, `llm.request.count`...). */
const COUNT_WORDS = new Set([
  'count',
  'calls',
  'requests',
  'attempts',
  'tokens',
  'hits',
  'blocks',
  'errors',
  'samples',
  'days',
  'aborted',
]);
function lastWord(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s_.]+/)
    .filter(Boolean);
  return (words.at(-1) ?? '').toLowerCase();
}
const isCountName = (name: string): boolean => COUNT_WORDS.has(lastWord(name));

/** Every schema the operations answer with, by `Component.path` of each property reached. */
function responseProperties(): Map<string, Schema & { name: string }> {
  const out = new Map<string, Schema & { name: string }>();
  const visited = new Set<string>();
  const visit = (schema: Schema | undefined, where: string): void => {
    if (!schema) return;
    if (schema.$ref) {
      const name = schema.$ref.replace('#/components/schemas/', '');
      if (visited.has(name)) return;
      visited.add(name);
      visit(DOCUMENT.components?.schemas?.[name], name);
      return;
    }
    for (const part of [...(schema.allOf ?? []), ...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) visit(part, where);
    visit(schema.items, `${where}[]`);
    if (typeof schema.additionalProperties === 'object') visit(schema.additionalProperties, `${where}{}`);
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      out.set(`${where}.${name}`, { ...property, name });
      visit(property, `${where}.${name}`);
    }
  };
  for (const [path, item] of Object.entries(DOCUMENT.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      for (const [status, response] of Object.entries(operation?.responses ?? {})) {
        for (const [type, media] of Object.entries(response.content ?? {}))
          visit(media.schema, `${method.toUpperCase()} ${path} ${status} ${type}`);
      }
    }
  }
  return out;
}

describe('response fields are typed as precisely as the service fills them', () => {
  const properties = responseProperties();

  it('declares every moment `format: date-time`', () => {
    const moments = [...properties].filter(
      ([, p]) => p.type === 'string' && (isMomentName(p.name) || /ISO 8601/.test(p.description ?? '')),
    );
    expect(moments.filter(([, p]) => p.format !== 'date-time').map(([where]) => where)).toEqual([]);
    expect(moments.map(([where]) => where)).toEqual(
      expect.arrayContaining([
        'CostForecastResponseDto.generatedAt',
        'HourlyCostForecastDto.hour',
        'SpendReportDto.from',
        'SpendReportDto.to',
        'OutboxEntryDto.next_attempt_at',
        'RecommendationSummaryDto.implemented_at',
        'AttributionWindowDto.end',
      ]),
    );
  });

  it('lists null in the enum of every nullable field (OpenAPI 3.0: else null is not a value of it)', () => {
    const wrong: string[] = [];
    const nullable: string[] = [];
    const visit = (node: unknown, where: string): void => {
      if (!node || typeof node !== 'object') return;
      const schema = node as { nullable?: unknown; enum?: unknown[] };
      if (schema.nullable === true && Array.isArray(schema.enum)) {
        nullable.push(where);
        if (!schema.enum.includes(null)) wrong.push(where);
      }
      for (const [key, value] of Object.entries(node)) visit(value, `${where}.${key}`);
    };
    visit(DOCUMENT.components, 'components');
    visit(DOCUMENT.paths, 'paths');
    expect(wrong).toEqual([]);
    expect(nullable).toContain('components.schemas.OutboxEntryDto.properties.incident_state');
  });

  it('declares every count, and the problem status, `type: integer`', () => {
    const counts = [...properties].filter(
      ([where, p]) =>
        (p.type === 'number' || p.type === 'integer') && (isCountName(p.name) || where === 'ProblemDetailsDto.status'),
    );
    expect(counts.filter(([, p]) => p.type !== 'integer').map(([where]) => where)).toEqual([]);
    expect(counts.map(([where]) => where)).toEqual(
      expect.arrayContaining([
        'ProblemDetailsDto.status',
        'SpendMeasuresDto.calls',
        'SpendMeasuresDto.input_tokens',
        'LlmMetadataDto.attempts',
        'ListIncidentsResponseDto.count',
        'ChatCompletionUsageDto.total_tokens',
        'RoiReportResponseDto.results_count',
        'AttributionItemDto.baselineRequests',
        'OutboxEntryDto.attempts',
      ]),
    );
  });
});
