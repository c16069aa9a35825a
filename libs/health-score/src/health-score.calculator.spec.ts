import { emptyWindow, type WindowUsage } from '@app/ledger';
import { LATENCY_LADDER_MS } from '@app/ledger';
import {
  assess,
  assessAggregates,
  combine,
  latencyBounds,
  p95FromBuckets,
  quantileFromBuckets,
  statusOf,
} from './health-score.calculator';

const WEIGHTS = { performance: 0.25, reliability: 0.25, cost: 0.2, quality: 0.2, security: 0.1 };
const SETTINGS = { latencySloMs: 2000, costPerRequestUsd: 0.01, weights: WEIGHTS };
const BOUNDS = latencyBounds(2000);

/** A window of `n` calls all taking `latencyMs`, answered with quality 0.9 at $0.001, with overrides. */
function usage(n: number, latencyMs: number, overrides: Partial<WindowUsage> = {}): WindowUsage {
  const w = emptyWindow(BOUNDS.length);
  Object.assign(w, {
    requests: n,
    answered: n,
    latencyCount: n,
    latencyMsSum: n * latencyMs,
    latencyAtMost: BOUNDS.map((b) => (latencyMs <= b ? n : 0)),
    costUsd: n * 0.001,
    pricedRequests: n,
    qualitySum: n * 0.9,
    qualityCount: n,
    ...overrides,
  });
  return w;
}

describe('health score composition', () => {
  it('scores a healthy window 100 and says healthy', () => {
    const a = assess(usage(100, 300), BOUNDS, 300_000, SETTINGS);
    expect(a.score).toBeCloseTo(100, 6);
    expect(a.status).toBe('healthy');
    expect(a.signals.p95LatencyMs).toBeLessThanOrEqual(500);
  });

  it('says no_data (score null), never invents, for an empty window', () => {
    const a = assess(null, BOUNDS, 300_000, SETTINGS);
    expect(a).toMatchObject({ score: null, status: 'no_data' });
    expect(Object.values(a.components).every((c) => c === null)).toBe(true);
  });

  it('falls to critical when every call fails (quality has no answer: left out, weights renormalised)', () => {
    const a = assess(usage(50, 300, { errors: 50, answered: 0, qualitySum: 0, qualityCount: 0 }), BOUNDS, 1, SETTINGS);
    expect(a.components.reliability).toBe(0);
    expect(a.components.quality).toBeNull();
    expect(a.score).toBe(50); // weighted mean 68.75, capped at the weakest component + 50
    expect(a.status).toBe('critical');
  });

  it('falls to critical on a latency fault alone (p95 at 3 × the SLO)', () => {
    const a = assess(usage(50, 6000), BOUNDS, 300_000, SETTINGS);
    expect(a.components.performance).toBe(0);
    expect(a.score).toBeLessThan(60);
  });

  it('weighs the budget pace into cost when a budget is set', () => {
    // $0.1 in 5 minutes = $28.8 a day against a $10 budget.
    const a = assess(usage(100, 300), BOUNDS, 300_000, { ...SETTINGS, dailyBudgetUsd: 10 });
    expect(a.signals.budgetPace).toBeCloseTo(2.88, 6);
    expect(a.components.cost).toBe(0);
  });

  it('has no budget pace, and no cost, when no call was priced (a model missing from the price table)', () => {
    // Measured: 20 calls to an unpriced model with DAILY_BUDGET_USD=5 read costPerRequestUsd null, budgetPace 0 and a
    // cost component of 100: a spend nobody knows, scored as $0.
    const unpriced = usage(20, 300, { costUsd: 0, pricedRequests: 0 });
    const a = assess(unpriced, BOUNDS, 300_000, { ...SETTINGS, dailyBudgetUsd: 5 });
    expect(a.signals.costPerRequestUsd).toBeNull();
    expect(a.signals.budgetPace).toBeNull();
    expect(a.components.cost).toBeNull();
    // Priced calls that cost nothing (failed before any billing) are a measured $0.
    const free = assess(usage(20, 300, { costUsd: 0 }), BOUNDS, 300_000, { ...SETTINGS, dailyBudgetUsd: 5 });
    expect(free.signals.budgetPace).toBe(0);
    expect(free.components.cost).toBe(100);
  });

  it('prices a call over the calls answered or billed: failures that cost nothing do not make calls cheaper', () => {
    // Measured on a loopback upstream: every model of the chain answering 500, the 50 failed calls (billed nothing)
    // read costPerRequestUsd 0 and a cost component of 100; half the calls failing read half the cost per call.
    const outage = usage(100, 300, { errors: 50, answered: 50, costUsd: 50 * 0.02, freeFailures: 50 });
    const a = assess(outage, BOUNDS, 300_000, SETTINGS);
    expect(a.signals.costPerRequestUsd).toBeCloseTo(0.02, 12);
    const calm = assess(usage(50, 300, { costUsd: 50 * 0.02 }), BOUNDS, 300_000, SETTINGS);
    expect(a.components.cost).toBe(calm.components.cost);
    // A failure the provider billed (its attempts answered empty) is a call that cost something: counted.
    const billed = usage(2, 300, { errors: 1, answered: 1, costUsd: 0.03 });
    expect(assess(billed, BOUNDS, 300_000, SETTINGS).signals.costPerRequestUsd).toBeCloseTo(0.015, 12);
    // Every call failed for free: no cost per call (not $0), the budget pace still reads the $0 spent.
    const none = usage(20, 300, { errors: 20, answered: 0, costUsd: 0, freeFailures: 20 });
    const b = assess(none, BOUNDS, 300_000, { ...SETTINGS, dailyBudgetUsd: 5 });
    expect(b.signals.costPerRequestUsd).toBeNull();
    expect(b.signals.budgetPace).toBe(0);
    expect(b.components.cost).toBe(100);
  });

  it('interpolates the p95 inside its bucket', () => {
    expect(p95FromBuckets([100, 200], [50, 100], 100)).toBeCloseTo(190, 9);
    expect(p95FromBuckets([100, 200], [0, 0], 10)).toBe(200);
    expect(p95FromBuckets([100], [0], 0)).toBeNull();
    // The median of 100 calls, 50 at most 100 ms and 50 between 100 and 200: the first bucket's top.
    expect(quantileFromBuckets([100, 200], [50, 100], 100, 0.5)).toBeCloseTo(100, 9);
    expect(quantileFromBuckets([100, 200], [20, 100], 100, 0.5)).toBeCloseTo(137.5, 9);
  });

  it('leaves a component weighted 0 out of the mean and of the cap', () => {
    const components = { performance: 100, reliability: 100, cost: 0, quality: 90, security: 100 };
    // Weighted in, a cost at 0 caps the score at 50 (critical).
    expect(combine(components, WEIGHTS)).toBe(50);
    // Weighted out (HEALTH_WEIGHTS=cost=0), it neither lowers the mean nor caps it: before, it still read 50.
    expect(combine(components, { ...WEIGHTS, cost: 0 })).toBeCloseTo((25 + 25 + 18 + 10) / 0.8, 9);
    // Only weighted-out components with data: no score.
    expect(
      combine(
        { performance: null, reliability: null, cost: 0, quality: null, security: null },
        { ...WEIGHTS, cost: 0 },
      ),
    ).toBeNull();
  });

  it('combines monotonically and continuously: raising any component never lowers the score', () => {
    const names = Object.keys(WEIGHTS) as (keyof typeof WEIGHTS)[];
    for (let trial = 0; trial < 20_000; trial++) {
      const c = Object.fromEntries(names.map((n) => [n, Math.random() * 100])) as Record<keyof typeof WEIGHTS, number>;
      const name = names[trial % names.length]!;
      const up = { ...c, [name]: Math.min(100, c[name] + Math.random() * 10) };
      expect(combine(up, WEIGHTS)!).toBeGreaterThanOrEqual(combine(c, WEIGHTS)! - 1e-9);
      const nudged = { ...c, [name]: c[name] + 1e-6 };
      expect(Math.abs(combine(nudged, WEIGHTS)! - combine(c, WEIGHTS)!)).toBeLessThanOrEqual(1e-6 + 1e-12);
    }
  });

  it('maps scores to statuses at 80 and 60', () => {
    expect([statusOf(80), statusOf(79.99), statusOf(60), statusOf(59.99), statusOf(null)]).toEqual([
      'healthy',
      'degraded',
      'degraded',
      'critical',
      'no_data',
    ]);
  });
});

describe('caller-supplied aggregates (POST /insights, the origin body)', () => {
  it('scores the given inputs with the same curves, leaving out components with no input', () => {
    const a = assessAggregates({ errorRate: 0.2, p95LatencyMs: 500 }, SETTINGS);
    expect(a.components.reliability).toBe(0);
    expect(a.components.performance).toBeCloseTo(100, 6);
    expect([a.components.cost, a.components.quality, a.components.security]).toEqual([null, null, null]);
    expect(a.score).toBeCloseTo(50, 6); // mean 50, capped at the weakest + 50 = 50
    expect(assessAggregates({}, SETTINGS)).toMatchObject({ score: null, status: 'no_data' });
  });
});

describe('latencyBounds', () => {
  it.each([1, 400, 2000, 30_000])(
    'are on the ledger ladder, from its first bound to 4 × SLO, the last beyond 2.5 × (SLO %i ms)',
    (slo) => {
      const bounds = latencyBounds(slo);
      expect(bounds.every((b) => LATENCY_LADDER_MS.includes(b))).toBe(true);
      expect(bounds[0]).toBe(LATENCY_LADDER_MS[0]);
      expect(bounds[bounds.length - 1]!).toBeLessThanOrEqual(4 * slo);
      expect(bounds[bounds.length - 1]!).toBeGreaterThanOrEqual(2.5 * slo);
    },
  );

  it('reports the p50 and p95 of fast calls as they are, not interpolated up to SLO / 8', () => {
    // 40 calls of 3 to 12 ms against the default 2000 ms SLO (the bounds once started at 270 ms: p50 135, p95 256).
    const latencies = Array.from({ length: 40 }, (_, i) => 3 + (i * 9) / 39);
    const atMost = BOUNDS.map((b) => latencies.filter((l) => l <= b).length);
    const p50 = quantileFromBuckets(BOUNDS, atMost, 40, 0.5)!;
    const p95 = p95FromBuckets(BOUNDS, atMost, 40)!;
    // Within one E12 step (about 21 %) of the true values, 7.5 and 11.6 ms.
    expect(p50).toBeGreaterThan(7.5 / 1.22);
    expect(p50).toBeLessThan(7.5 * 1.22);
    expect(p95).toBeGreaterThan(11.6 / 1.22);
    expect(p95).toBeLessThan(11.6 * 1.22);
  });
});
