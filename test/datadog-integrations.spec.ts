import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { QaRequestDto } from '@app/llm';
import { InMemoryMetrics, NoopTracer, ReadinessRegistry } from '@app/telemetry';
import { HealthController } from '../apps/control-plane/src/health/health.controller';
import { loadDatadogSdk } from '../libs/datadog/src/adapters/sdk-configuration';
import { modelProblems } from '../libs/datadog/src/integrations/adapters/datadog-integrations-client.adapter';
import {
  IntegrationTemplates,
  NOTEBOOK_TEMPLATES,
  SYNTHETIC_KINDS,
} from '../libs/datadog/src/integrations/integration-templates';
import { allMetrics } from '../scripts/metric-catalogues';
import { testConfig } from './support/app-config';

const ROOT = resolve(__dirname, '..');
const templates = IntegrationTemplates.load(join(ROOT, 'datadog'));
const SYNTHETIC_VALUES = {
  service: 'llm-cp',
  env: 'prod',
  notify: '@slack-llm-oncall',
  publicBaseUrl: 'https://127.0.0.1:8443',
};
const NOTEBOOK_VALUES = { service: 'llm-cp', env: 'prod', title: 'A notebook', context: 'Context.' };

interface Assertion {
  type: string;
  operator: string;
  target?: unknown;
}
interface SyntheticWire {
  config: { request: { method: string; url: string; body?: string }; assertions: Assertion[] };
}
interface NotebookWire {
  data: {
    attributes: {
      name: string;
      cells: { attributes: { definition: { text?: string; requests?: { q: string }[] } } }[];
    };
  };
}

describe('the payload files of /datadog/* (datadog/synthetics, datadog/notebooks)', () => {
  it('are valid Datadog API payloads once rendered: the SDK model takes each whole (no unknown field, enum or oneOf miss)', async () => {
    const sdk = await loadDatadogSdk();
    const payloads: [string, unknown][] = [
      ...SYNTHETIC_KINDS.map((kind): [string, unknown] => [
        'SyntheticsAPITest',
        templates.synthetic(kind, SYNTHETIC_VALUES),
      ]),
      ...NOTEBOOK_TEMPLATES.map((name): [string, unknown] => [
        'NotebookCreateRequest',
        templates.notebook(name, NOTEBOOK_VALUES),
      ]),
    ];
    for (const [type, payload] of payloads) {
      const model = sdk.v1.ObjectSerializer.deserialize(payload, type, '') as unknown;
      expect({ type, problems: modelProblems(model, '') }).toEqual({ type, problems: [] });
      // What the SDK sends is the file itself: serialising the model gives the payload back.
      expect(sdk.v1.ObjectSerializer.serialize(model, type, '')).toEqual(payload);
    }
  });

  it('the model check finds what a file could get wrong (so the test above can fail)', async () => {
    const sdk = await loadDatadogSdk();
    const broken = templates.synthetic('health', SYNTHETIC_VALUES) as { options: Record<string, unknown> };
    broken.options = { ...broken.options, tick_evry: 60 };
    const model = sdk.v1.ObjectSerializer.deserialize(broken, 'SyntheticsAPITest', '') as unknown;
    expect(modelProblems(model, '')).toEqual(['options.tick_evry: unknown field']);
  });

  it('the /health test asserts what GET /health actually answers (the origin expected "healthy" and always failed)', () => {
    const test = templates.synthetic('health', SYNTHETIC_VALUES) as unknown as SyntheticWire;
    expect(test.config.request).toMatchObject({ method: 'GET', url: 'https://127.0.0.1:8443/health' });
    const jsonPath = test.config.assertions.find((a) => a.operator === 'validatesJSONPath')!.target as {
      jsonPath: string;
      operator: string;
      targetValue: unknown;
    };
    expect(jsonPath.jsonPath).toMatch(/^\$\.\w+$/);
    const liveness = new HealthController(
      testConfig(),
      new InMemoryMetrics(),
      new NoopTracer(),
      new ReadinessRegistry(),
    ).liveness() as unknown as Record<string, unknown>;
    expect(jsonPath.operator).toBe('is');
    expect(liveness[jsonPath.jsonPath.slice(2)]).toBe(jsonPath.targetValue);
    expect(test.config.assertions).toContainEqual({ type: 'statusCode', operator: 'is', target: 200 });
    expect(test.config.assertions).toContainEqual(expect.objectContaining({ type: 'responseTime' }));
  });

  it('the /qa test posts a body POST /qa accepts', () => {
    const test = templates.synthetic('qa', SYNTHETIC_VALUES) as unknown as SyntheticWire;
    expect(test.config.request).toMatchObject({ method: 'POST', url: 'https://127.0.0.1:8443/qa' });
    const body = plainToInstance(QaRequestDto, JSON.parse(test.config.request.body!) as object);
    expect(validateSync(body, { whitelist: true, forbidNonWhitelisted: true })).toEqual([]);
  });

  it('the notebooks query only metrics the service emits, percentiles of distributions only, counts as counts, scoped to service and env', () => {
    const catalogue = new Map(allMetrics().map((m) => [m.name, m]));
    for (const name of NOTEBOOK_TEMPLATES) {
      const notebook = templates.notebook(name, NOTEBOOK_VALUES) as unknown as NotebookWire;
      const queries = notebook.data.attributes.cells.flatMap((c) =>
        (c.attributes.definition.requests ?? []).map((r) => r.q),
      );
      expect(queries.length).toBeGreaterThan(5);
      for (const q of queries) {
        const match = /^(avg|sum|min|max|p50|p75|p90|p95|p99):([a-z0-9_.]+)\{([^}]*)\}/.exec(q);
        expect({ q, parsed: match !== null }).toEqual({ q, parsed: true });
        const [, aggregation, metric, scope] = match!;
        const def = catalogue.get(metric!);
        expect({ q, emitted: def !== undefined }).toEqual({ q, emitted: true });
        if (aggregation!.startsWith('p')) expect({ q, type: def!.type }).toEqual({ q, type: 'distribution' });
        if (def!.type === 'count') expect({ q, asCount: q.endsWith('.as_count()') }).toEqual({ q, asCount: true });
        expect(scope!.startsWith('service:llm-cp,env:prod')).toBe(true);
      }
    }
  });

  it('escapes every value it places: a title with quotes, backslashes and newlines stays the name, nothing else', () => {
    const title = 'He said "stop"\\n\nthen }]} left';
    const notebook = templates.notebook('root-cause', { ...NOTEBOOK_VALUES, title, context: 'a "quoted"\nline' });
    const wire = notebook as unknown as NotebookWire;
    expect(wire.data.attributes.name).toBe(title);
    expect(wire.data.attributes.cells[0]!.attributes.definition.text).toContain('a "quoted"\nline');
  });

  describe('loading', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'dd-templates-'));
      for (const sub of ['synthetics', 'notebooks']) mkdirSync(join(dir, sub));
      for (const file of [
        'synthetics/health.json',
        'synthetics/qa.json',
        'notebooks/root-cause.json',
        'notebooks/cost.json',
      ]) {
        writeFileSync(join(dir, file), readFileSync(join(ROOT, 'datadog', file)));
      }
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('loads a complete directory', () => {
      expect(() => IntegrationTemplates.load(dir)).not.toThrow();
    });

    it('refuses a missing file at load (boot), naming it and where it is looked for', () => {
      rmSync(join(dir, 'notebooks/cost.json'));
      expect(() => IntegrationTemplates.load(dir)).toThrow(
        /notebooks\/cost\.json cannot be read \(ENOENT\).*repository root/,
      );
    });

    it('refuses an unknown placeholder or a file that is not JSON once rendered', () => {
      writeFileSync(join(dir, 'synthetics/qa.json'), '{"name": "[[nope]]"}');
      expect(() => IntegrationTemplates.load(dir)).toThrow(/unknown placeholders \[\[nope\]\]/);
      writeFileSync(join(dir, 'synthetics/qa.json'), '{"name": [[service]]}');
      expect(() => IntegrationTemplates.load(dir)).toThrow(/not valid JSON once rendered/);
    });
  });
});
