import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderMetricsTable } from '@app/telemetry';
import { allMetrics, METRIC_CATALOGUES } from '../scripts/metric-catalogues';

const root = resolve(__dirname, '..');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return jsonFiles(path);
    return name.endsWith('.json') ? [path] : [];
  });
}

/** Every metric name a Datadog query in the text uses: `agg:metric.name{...}`. */
export function queriedMetrics(text: string): { metric: string; aggregation: string }[] {
  const found: { metric: string; aggregation: string }[] = [];
  const pattern = /\b(avg|sum|min|max|count|p50|p75|p90|p95|p99|p999):([a-z][a-z0-9_.]*)\s*\{/g;
  for (const match of text.matchAll(pattern)) found.push({ aggregation: match[1]!, metric: match[2]! });
  return found;
}

describe('metric catalogue', () => {
  it('docs/telemetry.md lists exactly the metrics of the catalogues (run `npm run docs:telemetry` after a change)', () => {
    const doc = readFileSync(join(root, 'docs/telemetry.md'), 'utf8');
    expect(doc).toContain(renderMetricsTable(allMetrics()));
  });

  it('lists every catalogue of the libraries (scripts/metric-catalogues.ts)', () => {
    const declared = filesUnder(join(root, 'libs'))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
      .flatMap((f) =>
        [...readFileSync(f, 'utf8').matchAll(/^export const (\w+_METRICS|METRICS) = \{/gm)].map((m) => m[1]!),
      );
    expect(declared.sort()).toEqual(Object.keys(METRIC_CATALOGUES).sort());
  });

  it('names every metric once, with bounded tag keys only', () => {
    const names = allMetrics().map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const metric of allMetrics()) {
      for (const tag of metric.tags) expect(tag).not.toMatch(/trace|span|prompt|user|request_id|url|id$/);
    }
  });

  it('every metric a Datadog monitor, dashboard or SLO in datadog/ queries is emitted by the code, with a fitting aggregation', () => {
    const catalogue = new Map(allMetrics().map((m) => [m.name, m]));
    const problems: string[] = [];
    let queries = 0;
    for (const file of jsonFiles(join(root, 'datadog'))) {
      for (const { metric, aggregation } of queriedMetrics(readFileSync(file, 'utf8'))) {
        queries += 1;
        const def = catalogue.get(metric);
        if (!def) problems.push(`${file}: ${metric} is not emitted`);
        else if (aggregation.startsWith('p') && def.type !== 'distribution')
          problems.push(`${file}: ${aggregation} on ${metric}, a ${def.type}`);
      }
    }
    expect(problems).toEqual([]);
    expect(queries).toBeGreaterThan(0);
  });

  it('the query scanner finds metric names (so the check above can fail)', () => {
    expect(queriedMetrics('p95:llm.request.latency_ms{service:x} > 1 and sum:llm.error.count{*}.as_count()')).toEqual([
      { aggregation: 'p95', metric: 'llm.request.latency_ms' },
      { aggregation: 'sum', metric: 'llm.error.count' },
    ]);
  });
});
