import { HOUR_MS, hourStart } from '@app/common';
import type { UsageRecord } from '@app/ledger';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteLedgerStore } from '../libs/ledger/src/store/sqlite-ledger.store';
import { FakeDatadogApi } from './support/fake-datadog-api';
import { post } from './support/http';
import { usageRecord } from './support/ledger-store-contract';
import { ServiceProcess } from './support/service-process';

/**
 * Anomaly attribution against the built service: a ledger generated with a planted cause (one model's latency
 * tripled in the analysis hour) is written to a SQLite file, the service starts on it, both routes must name
 * that model.
 */
const MODELS = [
  { model: 'gemini-2.5-flash', provider: 'vertex' },
  { model: 'gemini-2.5-pro', provider: 'vertex' },
  { model: 'gpt-4o-mini', provider: 'openai' },
];
const ENDPOINTS = ['qa', 'reason', 'stress'];
const FAULTY = 'gemini-2.5-pro';

/** 24 baseline hours and the analysis hour (the one before the current), 4 calls per endpoint × model × hour. */
function generateRecords(analysisHour: number): UsageRecord[] {
  const records: UsageRecord[] = [];
  let seed = 7;
  const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  for (let h = analysisHour - 24 * HOUR_MS; h <= analysisHour; h += HOUR_MS)
    for (const endpoint of ENDPOINTS)
      for (const { model, provider } of MODELS)
        for (let i = 0; i < 4; i++) {
          const latency = 300 + 200 * random();
          records.push(
            usageRecord({
              ts: h + i * 60_000,
              endpoint,
              provider,
              model,
              latencyMs: h === analysisHour && model === FAULTY ? latency * 3 : latency,
              costUsd: 0.001,
              promptHash: `sha256:${h}-${i}`,
            }),
          );
        }
  return records;
}

interface Item {
  dimension: string;
  value: string;
  contributionPct: number;
  changePct: number | null;
}
interface Report {
  status: string;
  metric: string;
  summary: string;
  baseline: { value: number | null; requests: number };
  analysis: { value: number | null; requests: number };
  change: { percent: number | null; direction: string } | null;
  severity: string | null;
  confidence: number | null;
  primaryCause: Item | null;
  contributingFactors: Item[];
}
interface Problem {
  code: string;
  errors: { field: string; reason: string }[];
}

describe('anomaly attribution (built service, generated ledger)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'attribution-e2e-'));
  const emptyDir = mkdtempSync(join(tmpdir(), 'attribution-e2e-empty-'));
  const analysisHour = hourStart(Date.now()) - HOUR_MS;
  const anomalyTimestamp = new Date(analysisHour + 30 * 60_000).toISOString();
  let service: ServiceProcess;
  let empty: ServiceProcess;
  /** The same ledger, on a host whose time zone is not UTC (+05:30). */
  let kolkata: ServiceProcess;

  beforeAll(async () => {
    const store = new SqliteLedgerStore(join(dataDir, 'ledger.sqlite'));
    await store.init();
    await store.append(generateRecords(analysisHour));
    await store.close();
    [service, empty, kolkata] = await Promise.all([
      new ServiceProcess({ DATA_DIR: dataDir, DD_TRACE_ENABLED: 'false', DD_DOGSTATSD_PORT: '9' }).start(),
      new ServiceProcess({ DATA_DIR: emptyDir, DD_TRACE_ENABLED: 'false', DD_DOGSTATSD_PORT: '9' }).start(),
      new ServiceProcess({
        DATA_DIR: dataDir,
        DD_TRACE_ENABLED: 'false',
        DD_DOGSTATSD_PORT: '9',
        TZ: 'Asia/Kolkata',
      }).start(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([service?.stop(), empty?.stop(), kolkata?.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(emptyDir, { recursive: true, force: true });
  });

  it("cost over a baseline longer than the ledger: it starts at the ledger's first hour, no $0 hours before it", async () => {
    // The ledger holds 24 hours before the analysis hour, at a flat cost. Asked for 48, the baseline used to count
    // 24 hours at $0: cost +100 %, severity high.
    const res = await post(`${service.url}/optimization/attribute-anomaly`, {
      metric: 'cost',
      anomalyTimestamp,
      baselinePeriodHours: 48,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Report & { baseline: { start: string; elapsedHours: number }; notes: string[] };
    expect(body.baseline).toMatchObject({
      start: new Date(analysisHour - 24 * HOUR_MS).toISOString(),
      elapsedHours: 24,
    });
    expect(body.change!.percent).toBeCloseTo(0, 6);
    expect(body.severity).toBe('none');
    expect(body.notes.join(' ')).toMatch(/the baseline is the 24 hours from then, not the 48 asked/);
  });

  it('POST /optimization/attribute-anomaly names the faulty model as the primary cause', async () => {
    const res = await post(`${service.url}/optimization/attribute-anomaly`, { metric: 'latency', anomalyTimestamp });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Report;
    expect(body).toMatchObject({ status: 'ok', metric: 'latency', change: { direction: 'worse' } });
    expect(body.baseline.requests).toBe(24 * 36);
    expect(body.analysis.requests).toBe(36);
    expect(body.primaryCause).toMatchObject({ dimension: 'model', value: FAULTY });
    expect(body.primaryCause!.contributionPct).toBeGreaterThan(60);
    expect(body.change!.percent).toBeGreaterThan(40);
    expect(['medium', 'high', 'critical']).toContain(body.severity);
    expect(body.confidence).toBeGreaterThan(0);
    expect(body.confidence).toBeLessThan(1);
    expect(body.summary).toContain(`model ${FAULTY}`);
  });

  it('POST /optimization/anomaly/attribute (query form, origin metric names) gives the same cause', async () => {
    const query = `metric_name=llm.latency.ms&anomaly_timestamp=${encodeURIComponent(anomalyTimestamp)}&baseline_period_hours=24&analysis_window_hours=1`;
    const res = await fetch(`${service.url}/optimization/anomaly/attribute?${query}`, { method: 'POST' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Report;
    expect(body.primaryCause).toMatchObject({ dimension: 'model', value: FAULTY });
  });

  it('a timestamp without an offset is UTC, whatever the host time zone (Python isoformat() writes naive ones)', async () => {
    const naive = anomalyTimestamp.slice(0, 19); // 2026-12-07T03:30:00
    expect(naive).not.toMatch(/Z|[+-]\d\d:\d\d$/);
    for (const target of [service, kolkata]) {
      const query = `metric_name=latency&anomaly_timestamp=${encodeURIComponent(naive)}`;
      const res = await fetch(`${target.url}/optimization/anomaly/attribute?${query}`, { method: 'POST' });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Report & { anomalyTimestamp: string; analysis: { start: string } };
      expect(body.anomalyTimestamp).toBe(anomalyTimestamp);
      expect(body.analysis.start).toBe(new Date(analysisHour).toISOString());
      expect(body.primaryCause).toMatchObject({ dimension: 'model', value: FAULTY });
      const byBody = await post(`${target.url}/optimization/attribute-anomaly`, {
        metric: 'latency',
        anomalyTimestamp: naive,
      });
      expect(((await byBody.json()) as { anomalyTimestamp: string }).anomalyTimestamp).toBe(anomalyTimestamp);
    }
  });

  it('cost did not move: no cause is invented', async () => {
    const res = await post(`${service.url}/optimization/attribute-anomaly`, { metric: 'cost', anomalyTimestamp });
    const body = (await res.json()) as Report;
    expect(body.change).toMatchObject({ percent: 0, direction: 'unchanged' });
    expect(body.primaryCause).toBeNull();
    expect(body.severity).toBe('none');
  });

  it('an empty ledger: no_data, null figures', async () => {
    const res = await post(`${empty.url}/optimization/attribute-anomaly`, { metric: 'errors' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'no_data',
      change: null,
      severity: null,
      confidence: null,
      primaryCause: null,
      baseline: { value: null, requests: 0 },
      analysis: { value: null, requests: 0 },
    });
  });

  it.each([
    ['/optimization/anomaly/attribute?metric_name=latency&anomaly_timestamp=yesterday', undefined, 'anomaly_timestamp'],
    ['/optimization/anomaly/attribute?metric_name=throughput', undefined, 'metric_name'],
    ['/optimization/anomaly/attribute?metric_name=cost&baseline_period_hours=721', undefined, 'baseline_period_hours'],
    ['/optimization/attribute-anomaly', { metric: 'latency', anomalyTimestamp: '2026-W10' }, 'anomalyTimestamp'],
    ['/optimization/attribute-anomaly', { metric: 'latency', analysisWindowHours: 0 }, 'analysisWindowHours'],
    ['/optimization/attribute-anomaly', { anomalyTimestamp }, 'metric'],
  ])('%s %j: 400 problem+json naming %s', async (path, body, field) => {
    const res = body
      ? await post(`${service.url}${path}`, body)
      : await fetch(`${service.url}${path}`, { method: 'POST' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await res.json()) as Problem;
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors.map((e) => e.field)).toEqual([field]);
  });
});

/**
 * The same routes on live traffic: two replicas on one ledger, each serving one model of the simulated provider;
 * the one serving gemini-2.5-pro is driven into a latency and error fault (SIM_LATENCY_MEDIAN_MS, SIM_ERROR_RATE).
 * The baseline is 24 clean hours of both models written before they start; the analysis window is this hour.
 */
describe('anomaly attribution (live traffic, a simulated fault on one of two models)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'attribution-live-'));
  const services: ServiceProcess[] = [];
  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('names the faulted model as the primary cause of the latency and of the errors', async () => {
    // Not across an hour boundary: the analysis window is the current hour.
    const left = hourStart(Date.now()) + HOUR_MS - Date.now();
    if (left < 40_000) await new Promise((r) => setTimeout(r, left + 1000));
    const hour = hourStart(Date.now());
    const store = new SqliteLedgerStore(join(dataDir, 'ledger.sqlite'));
    await store.init();
    let seed = 11;
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const baseline: UsageRecord[] = [];
    for (let h = hour - 24 * HOUR_MS; h < hour; h += HOUR_MS)
      for (const model of ['gemini-2.5-flash', 'gemini-2.5-pro'])
        for (let i = 0; i < 6; i++)
          baseline.push(
            usageRecord({
              ts: h + i * 60_000,
              endpoint: 'qa',
              provider: 'simulated',
              model,
              latencyMs: 30 + 20 * random(),
            }),
          );
    await store.append(baseline);
    await store.close();

    const common = {
      DATA_DIR: dataDir,
      DD_TRACE_ENABLED: 'false',
      DD_DOGSTATSD_PORT: '9',
      LEDGER_FLUSH_MS: '200',
      LLM_MAX_RETRIES: '0',
      SIM_LATENCY_SIGMA: '0.2',
    };
    const [clean, faulty] = await Promise.all([
      new ServiceProcess({ ...common, LLM_MODEL: 'gemini-2.5-flash', SIM_LATENCY_MEDIAN_MS: '40' }).start(),
      new ServiceProcess({
        ...common,
        LLM_MODEL: 'gemini-2.5-pro',
        SIM_LATENCY_MEDIAN_MS: '400',
        SIM_ERROR_RATE: '0.5',
      }).start(),
    ]);
    services.push(clean, faulty);
    const end = Date.now() + 3000;
    await Promise.all(
      [clean, faulty, clean, faulty].map(async (service) => {
        while (Date.now() < end) {
          const res = await post(`${service.url}/qa`, { question: `Which planet is red? (${random()})` });
          await res.text();
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 800)); // both ledgers flushed

    for (const metric of ['latency', 'errors'] as const) {
      const res = await post(`${clean.url}/optimization/attribute-anomaly`, { metric });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Report;
      expect(body).toMatchObject({ status: 'ok', metric, change: { direction: 'worse' } });
      expect(body.baseline.requests).toBe(24 * 12);
      expect(body.primaryCause).toMatchObject({ dimension: 'model', value: 'gemini-2.5-pro' });
      expect(body.primaryCause!.contributionPct).toBeGreaterThan(60);
      expect(body.summary).toContain('model gemini-2.5-pro');
      process.stdout.write(`live ${metric}: ${body.summary}\n`);
    }
  }, 90_000);
});

/**
 * `source: datadog`: the same attribution from the service's metrics in Datadog, through the real SDK against a
 * loopback stand-in for the metrics query API serving a planted cause (gemini-2.5-pro's latency tripled in the
 * analysis hour), summed over whatever the query groups by.
 */
describe('anomaly attribution from Datadog metrics (source: datadog)', () => {
  const analysisHour = hourStart(Date.now()) - HOUR_MS;
  const anomalyTimestamp = new Date(analysisHour + 30 * 60_000).toISOString();
  const api = new FakeDatadogApi();
  const dirs: string[] = [];
  let keyed: ServiceProcess;
  let keyless: ServiceProcess;

  /** One hour of one model on one endpoint, as the metrics would count it. */
  const cell = (hour: number, model: string): Record<string, number> => {
    const latency = hour === analysisHour && model === FAULTY ? 900 : 300;
    return {
      'sum:llm.request.count': 10,
      'sum:llm.error.count': 0,
      'sum:llm.cost.usd': 0.01,
      'sum:llm.request.latency_ms': 10 * latency,
      'sum:llm.quality.score': 8,
      'count:llm.quality.score': 10,
    };
  };

  beforeAll(async () => {
    await api.start();
    api.route('GET', '/api/v1/query', (request) => {
      const query = request.query.get('query') ?? '';
      const match = /^(sum|count):([\w.]+)\{([^}]*)\}(?: by \{(\w+)\})?/.exec(query);
      if (!match) return { status: 400, body: { errors: [`unreadable query ${query}`] } };
      const [, aggregator, metric, , dim] = match;
      const from = Number(request.query.get('from')) * 1000;
      const to = Number(request.query.get('to')) * 1000;
      const groups = new Map<string, Map<number, number>>();
      for (let hour = hourStart(from); hour <= to; hour += HOUR_MS)
        for (const endpoint of ENDPOINTS)
          for (const { model, provider } of MODELS) {
            const value = cell(hour, model)[`${aggregator}:${metric}`] ?? 0;
            const tag = dim === 'model' ? model : dim === 'provider' ? provider : dim === 'endpoint' ? endpoint : '';
            const points = groups.get(tag) ?? new Map<number, number>();
            points.set(hour, (points.get(hour) ?? 0) + value);
            groups.set(tag, points);
          }
      const series = [...groups].map(([tag, points]) => ({
        metric,
        scope: tag ? `${dim}:${tag}` : '*',
        tag_set: tag ? [`${dim}:${tag}`] : [],
        pointlist: [...points].map(([ts, value]) => [ts, value]),
      }));
      return { status: 200, body: { status: 'ok', res_type: 'time_series', series } };
    });
    const env = (dir: string) => ({ DATA_DIR: dir, DD_TRACE_ENABLED: 'false', DD_DOGSTATSD_PORT: '9' });
    for (let i = 0; i < 2; i++) dirs.push(mkdtempSync(join(tmpdir(), 'attribution-datadog-')));
    [keyed, keyless] = await Promise.all([
      new ServiceProcess({
        ...env(dirs[0]!),
        DATADOG_API_URL: api.url,
        DD_API_KEY: 'fake-api-key-0123',
        DD_APP_KEY: 'fake-app-key-0123',
        DD_SERVICE: 'lrcp',
        DD_ENV: 'e2e',
      }).start(),
      new ServiceProcess({ ...env(dirs[1]!), DATADOG_API_URL: api.url }).start(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([keyed?.stop(), keyless?.stop()]);
    await api.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('names the faulty model from the metrics, scoped to the service and env, grouped by each dimension', async () => {
    const res = await post(`${keyed.url}/optimization/attribute-anomaly`, {
      metric: 'latency',
      anomalyTimestamp,
      source: 'datadog',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Report & { source: string; notes: string[] };
    expect(body).toMatchObject({ status: 'ok', source: 'datadog', change: { direction: 'worse' } });
    expect(body.baseline.requests).toBe(24 * 90);
    expect(body.analysis.requests).toBe(90);
    expect(body.primaryCause).toMatchObject({ dimension: 'model', value: FAULTY });
    expect(body.notes.join(' ')).toContain('Datadog');
    const queries = api.received('GET', '/api/v1/query').map((r) => r.query.get('query'));
    expect(queries).toContain('sum:llm.request.latency_ms{service:lrcp,env:e2e} by {provider}.rollup(sum, 3600)');
    expect(queries).toContain('sum:llm.request.count{service:lrcp,env:e2e}.as_count().rollup(sum, 3600)');
    expect(queries.every((q) => q?.includes('{service:lrcp,env:e2e}'))).toBe(true);

    const query = `metric_name=latency&anomaly_timestamp=${encodeURIComponent(anomalyTimestamp)}&source=datadog`;
    const byQuery = await fetch(`${keyed.url}/optimization/anomaly/attribute?${query}`, { method: 'POST' });
    expect(((await byQuery.json()) as Report).primaryCause).toMatchObject({ value: FAULTY });
  });

  it('without keys: 503 naming them, and nothing asked of Datadog; a Datadog error: 502 naming it', async () => {
    const before = api.requests.length;
    const res = await post(`${keyless.url}/optimization/attribute-anomaly`, { metric: 'cost', source: 'datadog' });
    expect(res.status).toBe(503);
    const problem = (await res.json()) as { code: string; detail: string };
    expect(problem.code).toBe('ATTRIBUTION_SOURCE_UNCONFIGURED');
    expect(problem.detail).toContain('DD_API_KEY');
    expect(api.requests.length).toBe(before);

    api.setFault({ mode: 'status', status: 400 });
    try {
      const failed = await post(`${keyed.url}/optimization/attribute-anomaly`, { metric: 'cost', source: 'datadog' });
      expect(failed.status).toBe(502);
      const detail = (await failed.json()) as { code: string; detail: string };
      expect(detail.code).toBe('ATTRIBUTION_SOURCE_FAILED');
      expect(detail.detail).toContain('metrics query');
      expect(detail.detail).not.toContain('fake-api-key');
    } finally {
      api.setFault({ mode: 'none' });
    }

    const bad = await post(`${keyed.url}/optimization/attribute-anomaly`, { metric: 'cost', source: 'prometheus' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Problem).errors.map((e) => e.field)).toContain('source');
  });
});
