import { Logger } from '@nestjs/common';
import { emptyWindow, UsageLedger, type WindowQuery, type WindowUsage } from '@app/ledger';
import { InMemoryMetrics } from '@app/telemetry';
import { testConfig } from '../../../test/support/app-config';
import { latencyBounds } from './health-score.calculator';
import { HealthScoreService, presentSignals } from './health-score.service';

/** A ledger that only answers window reads, and counts them (anything else is a test error). */
function countingLedger(reads: WindowQuery[]): UsageLedger {
  const window = (query: WindowQuery): Promise<WindowUsage[]> => {
    reads.push(query);
    return Promise.resolve([]);
  };
  return new Proxy({ window } as unknown as UsageLedger, {
    get(_target, key) {
      if (key === 'window') return window;
      if (key === 'then') return undefined;
      throw new Error(`unexpected UsageLedger.${String(key)}`);
    },
  });
}

/** A ledger whose window reads fail while `down.now` is true (a database outage), else answer no rows. */
function failingLedger(down: { now: boolean }): UsageLedger {
  const window = (): Promise<WindowUsage[]> =>
    down.now
      ? Promise.reject(new Error('The ledger store (PostgreSQL, DATABASE_URL) cannot be used'))
      : Promise.resolve([]);
  return { window } as unknown as UsageLedger;
}

describe('HealthScoreService during a ledger outage', () => {
  const config = testConfig({ HEALTH_INTERVAL_MS: '0', HEALTH_WINDOW_STEP_MS: '10000' });
  const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);

  it('warns once, not at every gauge report (HEALTH_INTERVAL_MS), and says once when the ledger is back', async () => {
    // Every report (5 s by default) that met the outage logged its own warning: 720 lines an hour per replica.
    const down = { now: true };
    const health = new HealthScoreService(config, failingLedger(down), new InMemoryMetrics());
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    try {
      for (let i = 0; i < 10; i++) expect(await health.report(T0 + i * 5000)).toEqual([]);
      const unavailable = warn.mock.calls.filter(([m]) => String(m).startsWith('health score unavailable'));
      expect(unavailable).toHaveLength(1);
      expect(String(unavailable[0]![0])).toContain('ledger store');
      down.now = false;
      expect(await health.report(T0 + 60_000)).toHaveLength(2);
      expect(await health.report(T0 + 65_000)).toHaveLength(2);
      const back = log.mock.calls.filter(([m]) => String(m).startsWith('health score available again'));
      expect(back.map(([m]) => String(m))).toEqual(['health score available again after 10 failed reports']);
    } finally {
      warn.mockRestore();
      log.mockRestore();
    }
  });
});

describe('HealthScoreService reads', () => {
  const config = testConfig({ HEALTH_INTERVAL_MS: '0', HEALTH_WINDOW_STEP_MS: '10000' });
  const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);

  it('reads a window once per window end, however many ask within the step', async () => {
    const reads: WindowQuery[] = [];
    const health = new HealthScoreService(config, countingLedger(reads), new InMemoryMetrics());
    await Promise.all([health.score('5m', T0 + 1000), health.score('5m', T0 + 2000), health.score('5m', T0 + 9999)]);
    expect(reads).toHaveLength(1);
    await health.score('5m', T0 + 10_000);
    expect(reads).toHaveLength(2);
    expect(reads[1]!.to - reads[0]!.to).toBe(10_000);
  });

  it('re-reads the long window for the gauges at most every 1/60 of its length; the short one every step', async () => {
    const reads: WindowQuery[] = [];
    const health = new HealthScoreService(config, countingLedger(reads), new InMemoryMetrics());
    for (let t = 0; t < 120_000; t += 5000) await health.report(T0 + t);
    const long = reads.filter((r) => r.to - r.from === 3_600_000);
    const short = reads.filter((r) => r.to - r.from === 300_000);
    expect(short).toHaveLength(12); // one per 10 s step
    expect(long).toHaveLength(2); // one per minute
    // An explicit request for the long window is exact: it reads the window ending now.
    await health.score('1h', T0 + 125_000);
    expect(reads[reads.length - 1]!.to).toBe(T0 + 120_000);
  });
});

describe('HealthScoreService presents', () => {
  const config = testConfig({ HEALTH_INTERVAL_MS: '0' });

  it('signals without float noise: latencies to 2 decimals, the rest to 6 significant digits', () => {
    const shown = presentSignals({
      ...new HealthScoreService(config, countingLedger([]), new InMemoryMetrics()).assessAggregates({}).signals,
      requests: 3,
      p50LatencyMs: 812.3456,
      p95LatencyMs: 1409.9999999999998,
      meanLatencyMs: null,
      errorRate: 1 / 3,
      costPerRequestUsd: 0.000012345678,
    });
    expect(shown).toMatchObject({
      requests: 3,
      p50LatencyMs: 812.35,
      p95LatencyMs: 1410,
      meanLatencyMs: null,
      errorRate: 0.333333,
      costPerRequestUsd: 0.0000123457,
    });
  });

  it('applies them to the aggregates it scores', () => {
    const health = new HealthScoreService(config, countingLedger([]), new InMemoryMetrics());
    const a = health.assessAggregates({ p95LatencyMs: 1409.9999999999998, errorRate: 0.1 + 0.2 });
    expect(a.signals.p95LatencyMs).toBe(1410);
    expect(a.signals.errorRate).toBe(0.3);
  });
});

describe('HealthScoreService per model', () => {
  const config = testConfig({ HEALTH_INTERVAL_MS: '0', HEALTH_WINDOW_STEP_MS: '10000' });
  const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);

  it("does not charge a model the retries of the calls that fell back to it (the failed model's attempts)", async () => {
    // Measured on a loopback upstream: mini failing 90 % of its attempts (2 retries each), its calls falling back to
    // flash. The ledger records a fallback, with its retries, under flash: flash read 0.63 retries per call and
    // reliability 30.92, worse than mini's 76.51, so the healthy model was the one to look unreliable.
    const bounds = latencyBounds(config.health.latencySloMs);
    const row = (model: string, calls: number, extra: Partial<WindowUsage>): WindowUsage => ({
      ...emptyWindow(bounds.length, 'chat', 'openai', model),
      requests: calls,
      answered: calls,
      latencyCount: calls,
      latencyMsSum: 100 * calls,
      latencyAtMost: bounds.map(() => calls),
      ...extra,
    });
    const rows = [
      row('flash', 146, { retries: 92, fallbacks: 46, fallbackRetries: 92 }),
      row('mini', 54, { retries: 17 }),
    ];
    const ledger = { window: () => Promise.resolve(rows.map((r) => ({ ...r }))) } as unknown as UsageLedger;
    const report = await new HealthScoreService(config, ledger, new InMemoryMetrics()).score('5m', T0);
    const [flash, mini] = report.models;
    expect(flash).toMatchObject({ model: 'flash', components: { reliability: 100 } });
    expect(flash!.signals.retriesPerRequest).toBe(0);
    // mini's own retries stay its own: 17 over 54 calls.
    expect(mini!.signals.retriesPerRequest).toBe(0.314815);
    expect(mini!.components.reliability!).toBeLessThan(100);
    // The whole window still counts every retry: the calls did wait for them.
    expect(report.overall.signals.retriesPerRequest).toBe(Number((109 / 200).toPrecision(6)));
  });

  it("keeps the fallbacks' latency (the failed model's attempts and the backoff) out of the answering model's p95", async () => {
    // Measured on a loopback upstream: gemini-2.5-flash-lite failing after 600 ms, its calls falling back to
    // gpt-4o-mini, which answers in about 30 ms. The ledger records a fallback, with its whole latency, under
    // gpt-4o-mini: it read a p95 of 1485 ms, performance 0 and a score of 50 (critical), and the report's first item
    // was "Model gpt-4o-mini: p95 latency 1485 ms ... 3.7 x the 400 ms objective".
    const slo = 400;
    const cfg = testConfig({ HEALTH_INTERVAL_MS: '0', HEALTH_LATENCY_SLO_MS: String(slo) });
    const bounds = latencyBounds(slo);
    const le = (ms: number, calls: number): number[] => bounds.map((b) => (ms <= b ? calls : 0));
    const sum = (a: number[], b: number[]): number[] => a.map((n, i) => n + b[i]!);
    const mini: WindowUsage = {
      ...emptyWindow(bounds.length, 'qa', 'openai', 'gpt-4o-mini'),
      requests: 50,
      answered: 50,
      latencyCount: 50,
      latencyMsSum: 20 * 30 + 30 * 1400,
      latencyAtMost: sum(le(30, 20), le(1400, 30)),
      fallbacks: 30,
      fallbackLatencyCount: 30,
      fallbackLatencyMsSum: 30 * 1400,
      fallbackLatencyAtMost: le(1400, 30),
    };
    const ledger = { window: () => Promise.resolve([{ ...mini }]) } as unknown as UsageLedger;
    const report = await new HealthScoreService(cfg, ledger, new InMemoryMetrics()).score('5m', T0);
    const [model] = report.models;
    expect(model!.signals.p95LatencyMs!).toBeLessThanOrEqual(33);
    expect(model!.signals.meanLatencyMs).toBe(30);
    expect(model!.components.performance).toBe(100);
    expect(model!.score!).toBeGreaterThan(80);
    // The callers did wait: the whole window, and the endpoint, keep every call's latency.
    expect(report.overall.signals.p95LatencyMs!).toBeGreaterThan(1000);
    expect(report.overall.components.performance).toBe(0);
    expect(report.endpoints[0]!.signals.p95LatencyMs!).toBeGreaterThan(1000);

    // Every call a fallback: the model's own latency has nothing to measure.
    const only = { ...mini, requests: 30, answered: 30, latencyCount: 30, latencyMsSum: 30 * 1400 };
    only.latencyAtMost = le(1400, 30);
    const all = await new HealthScoreService(
      cfg,
      { window: () => Promise.resolve([only]) } as unknown as UsageLedger,
      new InMemoryMetrics(),
    ).score('5m', T0);
    expect(all.models[0]!.signals.p95LatencyMs).toBeNull();
    expect(all.models[0]!.components.performance).toBeNull();
    expect(all.overall.components.performance).toBe(0);
  });
});

describe('HealthScoreService gauges', () => {
  const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);
  const bounds = latencyBounds(2000);
  const answered = (model: string): WindowUsage => ({
    ...emptyWindow(bounds.length, 'qa', 'openai', model),
    requests: 10,
    answered: 10,
    latencyCount: 10,
    latencyMsSum: 1000,
    latencyAtMost: bounds.map(() => 10),
  });
  const modelGauges = async (env: Record<string, string>, models: string[]): Promise<string[]> => {
    const config = testConfig({ HEALTH_INTERVAL_MS: '0', ...env });
    const ledger = { window: () => Promise.resolve(models.map(answered)) } as unknown as UsageLedger;
    const metrics = new InMemoryMetrics();
    await new HealthScoreService(config, ledger, metrics).report(T0);
    return metrics
      .named('llm.health.score')
      .filter((m) => m.tags.includes('scope:model') && m.tags.includes('window:5m'))
      .flatMap((m) => m.tags.filter((t) => t.startsWith('model:')));
  };

  it('sends a per-model score for a router candidate outside the fallback chain, which the router sends traffic to', async () => {
    // Measured on a loopback upstream: ROUTER_CANDIDATES=gemini-2.5-flash-lite,gpt-4o-mini with the chain
    // gpt-4o-mini → gemini-2.5-flash; the router sent every call to flash-lite, which had no per-model gauge.
    const env = {
      LLM_MODEL: 'gpt-4o-mini',
      LLM_FALLBACK_MODELS: 'gemini-2.5-flash',
      ROUTER_MODE: 'rules',
      ROUTER_CANDIDATES: 'gemini-2.5-flash-lite,gpt-4o-mini',
    };
    expect(await modelGauges(env, ['gemini-2.5-flash-lite', 'gpt-4o-mini', 'made-up-by-a-chat-call'])).toEqual([
      'model:gemini-2.5-flash-lite',
      'model:gpt-4o-mini',
    ]);
    // The router off: its candidates take no traffic, and the tag set stays the chain's.
    expect(await modelGauges({ ...env, ROUTER_MODE: 'off' }, ['gemini-2.5-flash-lite', 'gpt-4o-mini'])).toEqual([
      'model:gpt-4o-mini',
    ]);
  });
});
