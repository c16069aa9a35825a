import { DAY_MS, HOUR_MS, hourStart } from '@app/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { emptyHourly, UsageLedger } from '@app/ledger';
import { generateSyntheticUsage } from '@app/ml';
import { createApp } from '../apps/control-plane/src/create-app';
import { testConfig } from './support/app-config';
import { usageRecord } from './support/ledger-store-contract';

/** In-process app (Fastify inject) with its own DATA_DIR; MODELS_DIR is the committed models/ unless given. */
async function startApp(env: Record<string, string>): Promise<{ app: NestFastifyApplication; ledger: UsageLedger }> {
  const app = await createApp(testConfig({ MODELS_DIR: join(__dirname, '..', 'models'), ...env }), { quiet: true });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return { app, ledger: app.get(UsageLedger) };
}

interface HourBody {
  hour: string;
  costUsd: number;
  lowerUsd: number;
  upperUsd: number;
}
interface ForecastBody {
  method: string;
  reason: string;
  confidence: number;
  validation: { mape: number };
  model: { bestBaselineMape: number };
  hourly: HourBody[];
  totalUsd: number;
  peakHour: { hour: string; costUsd: number };
  budget: { forecastUtilizationPct: number; risk: string };
}
interface ProblemBody {
  code: string;
  errors: { field: string }[];
}
interface ReadyBody {
  dependencies: Record<string, { status: string; detail: string }>;
}

async function importHistory(ledger: UsageLedger, days: number): Promise<void> {
  const to = hourStart(Date.now());
  const series = generateSyntheticUsage({ days, seed: 5, start: to - days * DAY_MS });
  await ledger.importHourly(
    series.cost.map((cost, i) => ({
      ...emptyHourly(series.start + i * HOUR_MS),
      costUsd: cost,
      requests: series.requests[i]!,
    })),
  );
}

describe('GET /forecast/cost', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'forecast-e2e-'));
  let app: NestFastifyApplication;
  let ledger: UsageLedger;
  beforeAll(async () => {
    ({ app, ledger } = await startApp({ DATA_DIR: dataDir, DAILY_BUDGET_USD: '10' }));
    await importHistory(ledger, 21);
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the committed trained model: hourly breakdown with intervals, total, peak, budget, validation', async () => {
    const res = await app.inject({ method: 'GET', url: '/forecast/cost?hours=24' });
    expect(res.statusCode).toBe(200);
    const body = res.json<ForecastBody>();
    expect(body).toMatchObject({ method: 'ml', servedBy: 'ml', historyHours: 21 * 24 });
    expect(body.model).toMatchObject({ dataSource: expect.any(String), backend: expect.any(String) });
    expect(body.validation.mape).toBeLessThan(body.model.bestBaselineMape);
    expect(body.confidence).toBeCloseTo(1 - body.validation.mape / 100, 3);
    expect(body.hourly).toHaveLength(24);
    expect(body.hourly[0]!.hour).toBe(new Date(hourStart(Date.now())).toISOString());
    for (const h of body.hourly) {
      expect(h.costUsd).toBeGreaterThan(0);
      expect(h.lowerUsd).toBeLessThanOrEqual(h.costUsd);
      expect(h.upperUsd).toBeGreaterThanOrEqual(h.costUsd);
    }
    const total = body.hourly.reduce((s, h) => s + h.costUsd, 0);
    expect(body.totalUsd).toBeCloseTo(total, 4);
    const peak = body.hourly.reduce((a, b) => (b.costUsd > a.costUsd ? b : a));
    expect(body.peakHour).toEqual({ hour: peak.hour, costUsd: peak.costUsd });
    expect(body.budget).toMatchObject({ dailyBudgetUsd: 10, policy: 'alert', resetAt: expect.any(String) });
    expect(body.budget.forecastUtilizationPct).toBeCloseTo((100 * body.totalUsd) / 10, 1);
    expect(['low', 'medium', 'high', 'critical']).toContain(body.budget.risk);
  });

  it('answers shorter horizons', async () => {
    const res = await app.inject({ method: 'GET', url: '/forecast/cost?hours=3' });
    expect(res.statusCode).toBe(200);
    expect(res.json<ForecastBody>().hourly).toHaveLength(3);
  });

  it.each([
    ['hours=0', 'hours'],
    ['hours=25', 'hours'],
    ['hours=abc', 'hours'],
    ['hours=2.5', 'hours'],
    ['model=x', 'model'],
  ])('refuses %s with 400 problem+json naming the field', async (query, field) => {
    const res = await app.inject({ method: 'GET', url: `/forecast/cost?${query}` });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json<ProblemBody>();
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.errors.map((e) => e.field)).toContain(field);
  });

  it('reports the ledger and the forecaster in readiness', async () => {
    const res = await app.inject({ method: 'GET', url: '/health/ready' });
    const deps = res.json<ReadyBody>().dependencies;
    expect(deps.ledger).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^sqlite/) });
    expect(deps['cost-forecaster']).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^serving ml/) });
  });
});

describe('GET /forecast/cost without trained artifacts', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'forecast-e2e-'));
  const modelsDir = mkdtempSync(join(tmpdir(), 'forecast-models-'));
  let app: NestFastifyApplication;
  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('serves an untrained baseline and says so (no interval, confidence 0)', async () => {
    let ledger: UsageLedger;
    ({ app, ledger } = await startApp({ DATA_DIR: dataDir, MODELS_DIR: modelsDir }));
    await importHistory(ledger, 3);
    const body = (await app.inject({ method: 'GET', url: '/forecast/cost' })).json<ForecastBody>();
    expect(body).toMatchObject({
      method: 'seasonal_naive_24',
      servedBy: 'baseline',
      model: null,
      validation: null,
      confidence: 0,
    });
    expect(body.reason).toMatch(/no trained artifacts/);
    expect(body.budget).toMatchObject({ dailyBudgetUsd: null, risk: 'none' });
  });
});

describe('budget enforcement on the LLM endpoints', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'budget-e2e-'));
  let app: NestFastifyApplication;
  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 429 BUDGET_EXCEEDED with the reset time once today reaches the budget exactly', async () => {
    let ledger: UsageLedger;
    ({ app, ledger } = await startApp({ DATA_DIR: dataDir, DAILY_BUDGET_USD: '2', BUDGET_POLICY: 'enforce' }));
    ledger.record(usageRecord({ ts: Date.now(), costUsd: 1.5 }));
    const below = await app.inject({ method: 'POST', url: '/qa', payload: { question: 'What is 2+2?' } });
    expect(below.statusCode).toBe(200);

    ledger.record(usageRecord({ ts: Date.now(), costUsd: 2 - ledger.spendToday() }));
    expect(ledger.spendToday()).toBeGreaterThanOrEqual(2);
    const res = await app.inject({ method: 'POST', url: '/qa', payload: { question: 'What is 2+2?' } });
    expect(res.statusCode).toBe(429);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const reset = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS).toISOString();
    expect(res.json()).toMatchObject({ code: 'BUDGET_EXCEEDED', status: 429, resetAt: reset });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});
