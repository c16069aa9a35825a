import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAiServer } from './support/fake-openai-server';
import { post } from './support/http';
import { ServiceProcess } from './support/service-process';
import { withinOneUtcDay } from './support/wall-clock';

/**
 * Issue #14, "Insights": `POST /insights` against the built service. With no body it reads live data (the health
 * score's short window, shortened here to 10 s on 1 s steps, against the hour); driving the simulated provider into
 * an error fault, then a latency fault, makes it name the model with the numbers and the window. With the origin's
 * body it scores the posted aggregates; a field out of range is a 400 naming it.
 */
const QUESTION = { question: 'What colour is the sky on Mars?', document: 'The sky on Mars is butterscotch by day.' };
const BASE = {
  HEALTH_WINDOW_SHORT_MS: '10000',
  HEALTH_WINDOW_STEP_MS: '1000',
  HEALTH_INTERVAL_MS: '0',
  HEALTH_LATENCY_SLO_MS: '400',
  LEDGER_FLUSH_MS: '200',
  SIM_LATENCY_MEDIAN_MS: '40',
  SIM_LATENCY_SIGMA: '0.2',
  LLM_MAX_RETRIES: '0',
};

interface Recommendation {
  title: string;
  category: string;
  priority: string;
  confidence: number;
  description: string;
  evidence: {
    summary: string;
    window: { name: string; duration_ms: number } | null;
    requests: number | null;
    figures: Record<string, number | null>;
  };
  expected_impact: string;
  model: string | null;
}
interface InsightsBody {
  source: string;
  health_summary: {
    overall_health_score: number | null;
    component_scores: Record<string, number | null>;
    status: string;
    requests: number | null;
  };
  recommendations: Recommendation[];
  predictive_insights: { type: string; title: string; confidence: number }[];
  priority_actions: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function insights(service: ServiceProcess, body?: unknown): Promise<InsightsBody> {
  const res =
    body === undefined
      ? await fetch(`${service.url}/insights`, { method: 'POST' })
      : await post(`${service.url}/insights`, body);
  expect(res.status).toBe(200);
  return (await res.json()) as InsightsBody;
}

/** Sends calls, `concurrency` at a time, for `ms`; returns the models the answers (or problems) named. */
async function drive(service: ServiceProcess, ms: number, concurrency = 6): Promise<number[]> {
  const statuses: number[] = [];
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const res = await post(`${service.url}/qa`, QUESTION);
        statuses.push(res.status);
        await res.text();
      }
    }),
  );
  return statuses;
}

/**
 * `calls` calls of /qa, `concurrency` at a time; their statuses. By count, not by time: a call that fails is retried
 * with backoff, and on a loaded runner one second held only the first two calls (no refusal at all).
 */
async function driveCalls(service: ServiceProcess, calls: number, concurrency: number): Promise<number[]> {
  const statuses: number[] = [];
  let left = calls;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left > 0) {
        left -= 1;
        const res = await post(`${service.url}/qa`, QUESTION);
        statuses.push(res.status);
        await res.text();
      }
    }),
  );
  return statuses;
}

describe('insights (POST /insights)', () => {
  const dirs: string[] = [];
  const running: ServiceProcess[] = [];
  const report: string[] = [];
  const start = async (env: Record<string, string>, dir?: string): Promise<ServiceProcess> => {
    const dataDir = dir ?? mkdtempSync(join(tmpdir(), 'insights-'));
    dirs.push(dataDir);
    const service = new ServiceProcess({ ...BASE, DATA_DIR: dataDir, ...env });
    running.push(service);
    return service.start();
  };

  /** gpt-4o-mini first, gemini-2.5-flash its fallback, on a loopback OpenAI upstream; two retries, no circuit. */
  const startFallingBack = (upstreamUrl: string): Promise<ServiceProcess> =>
    start({
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: upstreamUrl,
      ML_REMOTE_EMBEDDINGS: 'false',
      LLM_MODEL: 'gpt-4o-mini',
      LLM_FALLBACK_MODELS: 'gemini-2.5-flash',
      LLM_MAX_RETRIES: '2',
      LLM_RETRY_BASE_MS: '1',
      LLM_RETRY_MAX_MS: '5',
      LLM_BREAKER_FAILURE_THRESHOLD: '1000',
      LLM_BREAKER_MIN_REQUESTS: '10000',
      HEALTH_WINDOW_SHORT_MS: '60000', // every call in it, however slow the runner
    });

  beforeAll(() => ServiceProcess.assertBuilt());
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    process.stdout.write(`\ninsights:\n${report.join('\n')}\n`);
  });

  it('live with no body: no_data and nothing invented; the origin body is scored; a bad field is a 400 naming it', async () => {
    const service = await start({});
    for (const body of [undefined, {}]) {
      const live = await insights(service, body);
      expect(live).toMatchObject({
        source: 'live',
        health_summary: { overall_health_score: null, status: 'no_data', requests: 0 },
        recommendations: [],
        predictive_insights: [],
        priority_actions: [],
      });
    }

    const origin = await insights(service, {
      avg_latency_ms: 300,
      avg_cost_per_request: 0.002,
      avg_input_tokens: 500,
      avg_output_tokens: 200,
      error_rate: 0.2,
      retry_rate: 0.1,
      avg_quality_score: 0.85,
      ungrounded_rate: 0,
      safety_block_rate: 0,
      latency_trend: 'stable',
    });
    expect(origin.source).toBe('request');
    expect(origin.health_summary.component_scores.reliability).toBe(0);
    expect(origin.health_summary.status).toBe('critical');
    expect(origin.recommendations.map((r) => r.category)).toEqual(['reliability']);
    expect(origin.recommendations[0]!.evidence.figures).toMatchObject({ error_rate: 0.2 });
    expect(origin.priority_actions).toEqual([origin.recommendations[0]!.title]);

    // The origin's query parameter, `compute_health_score` (ignored there, and here): taken, the same report.
    for (const flag of ['true', 'false', '1', 'True', 'False']) {
      const res = await post(`${service.url}/insights?compute_health_score=${flag}`, { error_rate: 0.2 });
      expect(res.status).toBe(200);
      const body = (await res.json()) as InsightsBody;
      expect(body.health_summary.component_scores.reliability).toBe(0);
    }
    const badFlag = await post(`${service.url}/insights?compute_health_score=maybe`, {});
    expect(badFlag.status).toBe(400);
    expect(((await badFlag.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual([
      'compute_health_score',
    ]);

    for (const [field, value] of [
      ['error_rate', 1.5],
      ['avg_latency_ms', -1],
      ['latency_trend', 7],
    ] as const) {
      const bad = await post(`${service.url}/insights`, { [field]: value });
      expect(bad.status).toBe(400);
      expect(bad.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await bad.json()) as { code: string; errors: { field: string }[] };
      expect(problem.code).toBe('VALIDATION_FAILED');
      expect(problem.errors.map((e) => e.field)).toContain(field);
    }
  }, 60_000);

  it('names the faulty model with evidence under an error fault, and under a latency fault', async () => {
    // Clean traffic first: no reliability or performance recommendation.
    const dir = mkdtempSync(join(tmpdir(), 'insights-'));
    const clean = await start({}, dir);
    const first = await post(`${clean.url}/qa`, QUESTION);
    const model = ((await first.json()) as { metadata: { model: string } }).metadata.model;
    await drive(clean, 2000);
    await sleep(1500); // a flush, and the next window boundary
    const healthy = await insights(clean);
    expect(healthy.health_summary.requests).toBeGreaterThan(0);
    expect(healthy.recommendations.filter((r) => ['reliability', 'performance'].includes(r.category))).toEqual([]);
    await clean.stop();

    // The same ledger, once the clean calls have left the 10 s window: they are the baseline (the rest of the hour).
    await sleep(10_000);
    const failing = await start({ SIM_ERROR_RATE: '0.6' }, dir);
    await drive(failing, 2000);
    await sleep(1500);
    const errors = await insights(failing);
    const reliability = errors.recommendations.find((r) => r.category === 'reliability');
    expect(reliability).toBeDefined();
    expect(reliability!.model).toBe(model);
    expect(reliability!.title).toContain(model);
    expect(reliability!.evidence.figures.error_rate).toBeGreaterThan(0.3);
    expect(reliability!.evidence.figures.baseline_error_rate).toBe(0);
    expect(reliability!.title).toMatch(/error rate rose from 0% to \d/);
    expect(reliability!.evidence.window).toMatchObject({ name: '5m', duration_ms: 10_000 });
    expect(reliability!.evidence.summary).toContain(model);
    expect(reliability!.confidence).toBeGreaterThan(0);
    expect(errors.priority_actions).toContain(reliability!.title);
    report.push(`  SIM_ERROR_RATE=0.6: ${JSON.stringify(reliability)}`);
    await failing.stop();

    const slow = await start({ SIM_LATENCY_MEDIAN_MS: '1200' });
    await drive(slow, 4000, 8);
    await sleep(1500);
    const latency = await insights(slow);
    const performance = latency.recommendations.find((r) => r.category === 'performance');
    expect(performance).toBeDefined();
    expect(performance!.model).toBe(model);
    expect(performance!.evidence.figures.p95_latency_ms).toBeGreaterThan(400);
    expect(performance!.evidence.figures.latency_slo_ms).toBe(400);
    report.push(`  SIM_LATENCY_MEDIAN_MS=1200: ${JSON.stringify(performance)}`);
  }, 120_000);

  it('an exceeded daily budget is the first recommendation and action, with the spend, the budget and the policy', async () => {
    const service = await start({ DAILY_BUDGET_USD: '0.002' });
    type Forecast = { budget: { spentTodayUsd: number; risk: string } };
    const forecastOf = async (): Promise<Forecast> =>
      (await (await fetch(`${service.url}/forecast/cost`)).json()) as Forecast;
    // Calls until the ledger holds more than the budget: a loaded runner answers fewer calls a second (bounded). The
    // spend is today's: when midnight comes before the reads, it is driven over the budget again on the new day.
    const { body, forecast } = await withinOneUtcDay(async () => {
      for (let round = 0; round < 10; round++) {
        await drive(service, 1500, 4);
        await sleep(1200); // the ledger's flush
        if ((await forecastOf()).budget.spentTodayUsd > 0.002) break;
      }
      return { body: await insights(service), forecast: await forecastOf() };
    });
    expect(forecast.budget.risk).toBe('exceeded');
    const [first] = body.recommendations;
    expect(first).toMatchObject({ category: 'cost', priority: 'critical', confidence: 1, model: null });
    expect(first!.title).toMatch(/^Daily budget exceeded: spent \$[\d.]+ of \$0\.002 \(\d+(\.\d)? %\) today$/);
    expect(first!.description).toMatch(/^BUDGET_POLICY=alert: nothing stops the calls/);
    expect(first!.evidence.figures.daily_budget_usd).toBe(0.002);
    expect(first!.evidence.figures.spent_today_usd).toBeGreaterThan(0.002);
    expect(body.priority_actions[0]).toBe(first!.title);
    report.push(`  DAILY_BUDGET_USD=0.002: ${JSON.stringify(first)}`);
  }, 60_000);

  it('names a response-cache candidate from repeated prompts, and calls refused by open circuits', async () => {
    // The same question and document, asked again and again: every answer after the first could come from a cache.
    const repeated = await start({});
    const statuses = await drive(repeated, 1500, 4);
    expect(statuses.every((s) => s === 200)).toBe(true);
    await sleep(1500);
    const cache = (await insights(repeated)).recommendations.find((r) => r.title.includes('repeated an earlier'));
    expect(cache).toBeDefined();
    expect(cache).toMatchObject({ category: 'cost', endpoint: 'qa' });
    expect(cache!.evidence.figures.repeated_prompts).toBe(1);
    expect(cache!.evidence.figures.repeat_calls).toBe(statuses.length - 1);
    expect(cache!.evidence.figures.cost_of_repeats_usd).toBeGreaterThan(0);
    expect(cache!.evidence.summary).not.toContain(QUESTION.question);
    report.push(`  repeated prompt: ${JSON.stringify(cache)}`);
    await repeated.stop();

    // Every call fails: after two failures the breaker opens and the next calls are refused without an attempt.
    const broken = await start({
      SIM_ERROR_RATE: '1',
      LLM_BREAKER_FAILURE_THRESHOLD: '2',
      LLM_BREAKER_MIN_REQUESTS: '2',
      LLM_BREAKER_COOLDOWN_MS: '60000',
    });
    const refused = await driveCalls(broken, 12, 2);
    expect(refused.filter((s) => s === 503).length).toBeGreaterThan(2);
    await sleep(1500);
    const circuit = (await insights(broken)).recommendations.find((r) => r.title.startsWith('Circuit breakers open'));
    expect(circuit).toBeDefined();
    expect(circuit).toMatchObject({ category: 'reliability', priority: 'high' });
    expect(circuit!.evidence.figures.refused_calls).toBeGreaterThan(0);
    expect(circuit!.evidence.figures.refused_calls).toBeLessThan(refused.length);
    report.push(`  open circuits: ${JSON.stringify(circuit)}`);
  }, 60_000);

  it('names calls refused for capacity (503 NO_CAPACITY), apart from the provider’s errors', async () => {
    // One call at a time, a queue that waits 20 ms, answers that take 200 ms: most of 6 concurrent callers are refused.
    const full = await start({ LLM_MAX_CONCURRENCY: '1', LLM_QUEUE_TIMEOUT_MS: '20', SIM_LATENCY_MEDIAN_MS: '200' });
    const statuses = await drive(full, 1500, 6);
    const refused = statuses.filter((s) => s === 503).length;
    expect(refused).toBeGreaterThan(3);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    await sleep(1500);
    const body = await insights(full);
    const capacity = body.recommendations.find((r) => r.title.startsWith('No capacity:'));
    expect(capacity).toBeDefined();
    expect(capacity).toMatchObject({ category: 'reliability', priority: 'high', model: 'gemini-2.5-flash' });
    expect(capacity!.evidence.figures.refused_calls).toBe(refused);
    expect(capacity!.description).toContain('LLM_MAX_CONCURRENCY');
    // Not read as the provider failing: no error-rate advice to check the provider, no circuit advice.
    expect(body.recommendations.some((r) => r.title.includes('error rate'))).toBe(false);
    expect(body.recommendations.some((r) => r.title.startsWith('Circuit breakers open'))).toBe(false);
    report.push(`  refused for capacity: ${JSON.stringify(capacity)}`);
  }, 60_000);

  it('names the model whose calls fell back, not the healthy fallback that answered them', async () => {
    // The primary fails every attempt; its fallback answers. Each call is one ledger row under the fallback, with the
    // primary's retries: before, the fallback was the model said to fail ("retries per call ... its attempts are
    // failing, check the provider's status for it"), scored below the failing one, and the failing one was named
    // nowhere.
    const upstream = await new FakeOpenAiServer().start();
    try {
      upstream.setDefault((request) =>
        request.model === 'gpt-4o-mini'
          ? { type: 'error', status: 500 }
          : { type: 'answer', text: 'The sky on Mars is butterscotch by day.', usage: { prompt: 20, output: 8 } },
      );
      const service = await startFallingBack(upstream.url);
      const statuses = await driveCalls(service, 20, 4);
      expect(statuses).toEqual(new Array<number>(20).fill(200));
      await sleep(1500);

      const score = (await (await fetch(`${service.url}/insights/health-score`)).json()) as {
        models: { model: string; components: Record<string, number | null>; signals: Record<string, number> }[];
      };
      const flash = score.models.find((m) => m.model === 'gemini-2.5-flash');
      expect(flash).toMatchObject({
        components: { reliability: 100 },
        signals: { requests: 20, retriesPerRequest: 0 },
      });

      const recs = (await insights(service)).recommendations;
      const fallback = recs.find((r) => r.title.includes('fell back'));
      expect(fallback).toMatchObject({ category: 'reliability', priority: 'high', model: 'gpt-4o-mini' });
      expect(fallback!.title).toBe('Model gpt-4o-mini: 20 calls (100%) fell back to gemini-2.5-flash in the last 1m');
      expect(fallback!.evidence.figures).toMatchObject({ fallback_calls: 20, fallback_retries: 40 });
      expect(recs.filter((r) => r.model === 'gemini-2.5-flash' && r.category === 'reliability')).toEqual([]);
      report.push(`  fallbacks: ${JSON.stringify(fallback)}`);
    } finally {
      await upstream.close();
    }
  }, 60_000);

  it("does not call the healthy fallback slow: the failed model's attempts are out of its p95", async () => {
    // The primary fails after 300 ms, three attempts a call; its fallback answers at once. Each call is one ledger row
    // under the fallback with its whole latency: before, the fallback read a p95 of over a second, performance 0,
    // and the report's first item was "Model gemini-2.5-flash: p95 latency ... × the 400 ms objective".
    const upstream = await new FakeOpenAiServer().start();
    try {
      upstream.setDefault((request) =>
        request.model === 'gpt-4o-mini'
          ? { type: 'error', status: 500, delayMs: 300 }
          : { type: 'answer', text: 'The sky on Mars is butterscotch by day.', usage: { prompt: 20, output: 8 } },
      );
      const service = await startFallingBack(upstream.url);
      const statuses = await driveCalls(service, 12, 4);
      expect(statuses).toEqual(new Array<number>(12).fill(200));
      await sleep(1500);

      const score = (await (await fetch(`${service.url}/insights/health-score`)).json()) as {
        components: Record<string, number | null>;
        signals: Record<string, number | null>;
        models: { model: string; components: Record<string, number | null>; signals: Record<string, number | null> }[];
      };
      // The callers waited for the failed attempts: the window's p95 is theirs.
      expect(score.signals.p95LatencyMs!).toBeGreaterThan(800);
      const flash = score.models.find((m) => m.model === 'gemini-2.5-flash');
      // Every call was a fallback: flash has no latency of its own to judge, and is not called slow.
      expect(flash).toMatchObject({ signals: { requests: 12, p95LatencyMs: null }, components: { performance: null } });
      const recs = (await insights(service)).recommendations;
      expect(recs.filter((r) => r.model === 'gemini-2.5-flash' && r.category === 'performance')).toEqual([]);
      expect(recs.find((r) => r.title.includes('fell back'))).toMatchObject({ model: 'gpt-4o-mini' });
      report.push(
        `  slow fallbacks: ${JSON.stringify(score.signals.p95LatencyMs)} ms overall, flash ${JSON.stringify(flash)}`,
      );
    } finally {
      await upstream.close();
    }
  }, 60_000);

  it('names a cheaper model where quality holds: two replicas on one ledger, each serving one model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'insights-'));
    const [pro, flash] = await Promise.all([
      start({ LLM_MODEL: 'gemini-2.5-pro' }, dir),
      start({ LLM_MODEL: 'gemini-2.5-flash' }, dir),
    ]);
    await Promise.all([drive(pro, 2500, 3), drive(flash, 2500, 3)]);
    await sleep(1500);
    const recs = (await insights(flash)).recommendations;
    const cheaper = recs.find((r) => r.title.includes('answered as well as'));
    expect(cheaper).toBeDefined();
    expect(cheaper).toMatchObject({ category: 'cost', model: 'gemini-2.5-flash' });
    expect(cheaper!.title).toContain('as well as gemini-2.5-pro');
    const figures = cheaper!.evidence.figures;
    expect(figures.candidate_cost_per_call_usd!).toBeLessThan(figures.current_cost_per_call_usd!);
    expect(figures.candidate_quality!).toBeGreaterThanOrEqual(figures.current_quality! - 0.03);
    report.push(`  cheaper model: ${JSON.stringify(cheaper)}`);
  }, 60_000);
});
