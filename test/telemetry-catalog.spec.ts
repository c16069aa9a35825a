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

  it('every metric the pages name is a metric of the catalogues (or a span tag of docs/telemetry.md "Spans")', () => {
    // A name in backquotes that starts like a metric (`llm.cost.`, `http.request.`: the first two parts of one with
    // three or more) and is none: `llm.cost.per_request`, named in two pages, was never emitted.
    const names = new Set(allMetrics().map((m) => m.name));
    const telemetry = readFileSync(join(root, 'docs/telemetry.md'), 'utf8');
    const spans = /^## Spans$([\s\S]*?)^## /m.exec(telemetry)?.[1] ?? '';
    const spanTags = new Set([...spans.matchAll(/`([a-z_]+(?:\.[a-z0-9_]+)+)`/g)].map((m) => m[1]!));
    const prefixes = new Set(
      [...names].filter((n) => n.split('.').length >= 3).map((n) => `${n.split('.').slice(0, 2).join('.')}.`),
    );
    const pages = ['README.md', ...readdirSync(join(root, 'docs')).map((f) => `docs/${f}`)];
    const problems: string[] = [];
    for (const page of [...pages, ...readdirSync(join(root, 'runbooks')).map((f) => `runbooks/${f}`)]) {
      if (!page.endsWith('.md')) continue;
      for (const m of readFileSync(join(root, page), 'utf8').matchAll(/`([a-z_]+(?:\.[a-z0-9_]+){2,})(\.\*)?`/g)) {
        const name = m[1]!;
        if (![...prefixes].some((p) => name.startsWith(p)) || spanTags.has(name)) continue;
        const known = m[2] ? [...names].some((n) => n.startsWith(`${name}.`)) : names.has(name);
        if (!known) problems.push(`${page}: \`${m[0].slice(1, -1)}\``);
      }
    }
    expect(prefixes.size).toBeGreaterThan(10);
    expect(problems).toEqual([]);
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

/** One metric query found in a payload file: where it is (a JSON path) and its text. */
interface FoundQuery {
  where: string;
  query: string;
}

/** Keys whose string values are metric queries in Datadog payloads (monitors, SLOs, widgets, notebook cells). */
const QUERY_KEYS = new Set(['query', 'q', 'numerator', 'denominator']);

/** Every metric query of a payload: strings under a query key, and any other string holding `agg:metric{`. */
function queryStrings(value: unknown, where = ''): FoundQuery[] {
  if (typeof value === 'string') return queriedMetrics(value).length > 0 ? [{ where, query: value }] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => queryStrings(v, `${where}[${i}]`));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => {
      const path = where ? `${where}.${k}` : k;
      if (QUERY_KEYS.has(k) && typeof v === 'string') return [{ where: path, query: v }];
      return queryStrings(v, path);
    });
  }
  return [];
}

/** Each `agg:metric{...}[ by {...}][.fn(...)...]` term of a query, with its functions. */
function queryTerms(query: string): { aggregation: string; metric: string; functions: string }[] {
  const pattern =
    /\b(avg|sum|min|max|count|p\d+):([a-z][a-z0-9_.]*)\s*\{[^}]*\}(?:\s*by\s*\{[^}]*\})?((?:\.\w+\([^)]*\))*)/g;
  return [...query.matchAll(pattern)].map((m) => ({ aggregation: m[1]!, metric: m[2]!, functions: m[3] ?? '' }));
}

/** What is wrong with one term against the catalogue (empty: nothing). */
function termProblems(term: { aggregation: string; metric: string; functions: string }): string[] {
  const catalogue = new Map(allMetrics().map((m) => [m.name, m]));
  const def = catalogue.get(term.metric);
  const histogramForm = /\.(avg|max|min|median|count|sum|\d+percentile)$/.exec(term.metric);
  if (!def) {
    return [
      histogramForm && catalogue.get(term.metric.slice(0, histogramForm.index))?.type === 'distribution'
        ? `${term.metric} queries a distribution as a DogStatsD histogram`
        : `${term.metric} is not emitted`,
    ];
  }
  const counted = /\.as_(count|rate)\(\)/.test(term.functions);
  if (term.aggregation.startsWith('p') && def.type !== 'distribution') {
    return [`${term.aggregation} on ${term.metric}, a ${def.type} (percentiles need a distribution)`];
  }
  if (def.type === 'gauge' && counted) return [`.as_count() on ${term.metric}, a gauge`];
  if (def.type === 'count' && !counted) return [`${term.metric} is a count: query it with .as_count() or .as_rate()`];
  if (def.type === 'distribution' && counted && term.aggregation !== 'count') {
    return [`.as_count() on ${term.metric}, a distribution, with ${term.aggregation}: (only count: counts samples)`];
  }
  return [];
}

describe('Datadog payload files against the metric catalogue (every kind)', () => {
  const datadogDir = join(root, 'datadog');
  const files = jsonFiles(datadogDir).map((path) => ({
    path: path.slice(root.length + 1),
    kind: path.slice(datadogDir.length + 1).split('/')[0]!,
    key: path.replace(/^.*\//, '').replace(/\.json$/, ''),
    payload: JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>,
  }));
  const keysOf = (kind: string): Set<string> => new Set(files.filter((f) => f.kind === kind).map((f) => f.key));

  it('every query of every file (monitors, SLO numerators and denominators, widgets, notebook cells) fits the catalogue', () => {
    const problems: string[] = [];
    const perKind = new Map<string, number>();
    for (const file of files) {
      for (const { where, query } of queryStrings(file.payload)) {
        for (const term of queryTerms(query)) {
          perKind.set(file.kind, (perKind.get(file.kind) ?? 0) + 1);
          for (const problem of termProblems(term)) problems.push(`${file.path} ${where}: ${problem}`);
        }
      }
    }
    expect(problems).toEqual([]);
    for (const kind of ['monitors', 'slos', 'dashboards']) expect(perKind.get(kind)).toBeGreaterThan(0);
  });

  it('the term check fails where it should (so the check above can fail)', () => {
    const check = (q: string): string[] => queryTerms(q).flatMap(termProblems);
    expect(check('sum:llm.cost.usd{*}.as_count() + p95:llm.request.latency_ms{*}')).toEqual([]);
    expect(check('p95:llm.error.count{*}.as_count()')[0]).toMatch(/percentiles need a distribution/);
    expect(check('avg:llm.request.latency_ms.95percentile{*}')[0]).toMatch(/distribution as a DogStatsD histogram/);
    expect(check('sum:llm.health.score{*}.as_count()')[0]).toMatch(/a gauge/);
    expect(check('sum:llm.error.count{*}')[0]).toMatch(/query it with .as_count/);
    expect(check('avg:llm.nope{*}')[0]).toMatch(/not emitted/);
  });

  it('every SLO is good/total counts of emitted count metrics, and every monitor query is checked or a reference', () => {
    const problems: string[] = [];
    for (const slo of files.filter((f) => f.kind === 'slos')) {
      const query = slo.payload.query as { numerator?: string; denominator?: string } | undefined;
      for (const part of ['numerator', 'denominator'] as const) {
        const terms = queryTerms(query?.[part] ?? '');
        if (terms.length === 0) problems.push(`${slo.path}: no metric in the ${part}`);
        const catalogue = new Map(allMetrics().map((m) => [m.name, m]));
        for (const t of terms) {
          if (catalogue.get(t.metric)?.type !== 'count')
            problems.push(`${slo.path}: ${part} ${t.metric} is not a count`);
        }
      }
    }
    const monitorKeys = keysOf('monitors');
    const sloKeys = keysOf('slos');
    for (const monitor of files.filter((f) => f.kind === 'monitors')) {
      const { type, query } = monitor.payload as { type: string; query: string };
      if (type === 'composite') {
        const refs = [...query.matchAll(/\[\[monitor_id:([\w.-]+)\]\]/g)].map((m) => m[1]!);
        if (refs.length < 2) problems.push(`${monitor.path}: a composite of fewer than two monitors`);
        for (const ref of refs) if (!monitorKeys.has(ref)) problems.push(`${monitor.path}: no monitor file ${ref}`);
        if (query.replace(/\[\[monitor_id:[\w.-]+\]\]/g, '').replace(/[\s&|!()]/g, '') !== '') {
          problems.push(`${monitor.path}: a composite may only combine monitor references`);
        }
      } else if (type === 'slo alert') {
        const match =
          /^burn_rate\("\[\[slo_id:([\w.-]+)\]\]"\)\.over\("\w+"\)\.long_window\("\w+"\)\.short_window\("\w+"\) > [\d.]+$/.exec(
            query,
          );
        if (!match) problems.push(`${monitor.path}: not a multi-window burn-rate query`);
        else if (!sloKeys.has(match[1]!)) problems.push(`${monitor.path}: no SLO file ${match[1]}`);
      } else if (queryTerms(query).length === 0) {
        problems.push(`${monitor.path}: a metric monitor without a metric the scanner can check`);
      }
    }
    expect(problems).toEqual([]);
  });
});
