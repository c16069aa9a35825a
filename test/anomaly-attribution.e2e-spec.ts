import { HOUR_MS, hourStart } from '@app/common';
import type { UsageRecord } from '@app/ledger';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteLedgerStore } from '../libs/ledger/src/store/sqlite-ledger.store';
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

  beforeAll(async () => {
    const store = new SqliteLedgerStore(join(dataDir, 'ledger.sqlite'));
    await store.init();
    await store.append(generateRecords(analysisHour));
    await store.close();
    [service, empty] = await Promise.all([
      new ServiceProcess({ DATA_DIR: dataDir, DD_TRACE_ENABLED: 'false', DD_DOGSTATSD_PORT: '9' }).start(),
      new ServiceProcess({ DATA_DIR: emptyDir, DD_TRACE_ENABLED: 'false', DD_DOGSTATSD_PORT: '9' }).start(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([service?.stop(), empty?.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(emptyDir, { recursive: true, force: true });
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
