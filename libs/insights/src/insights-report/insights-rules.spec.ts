import type { AppConfig } from '@app/config';
import type { BudgetOutlookStatus } from '@app/forecast';
import { type HealthAssessment, type HealthReport, HealthScoreService, type HealthSignals } from '@app/health-score';
import type { UsageLedger } from '@app/ledger';
import type { MetricsPort } from '@app/telemetry';
import {
  confidenceOf,
  type DriftSnapshot,
  type LiveFacts,
  livePredictions,
  liveRecommendations,
  requestPredictions,
  requestRecommendations,
  windowOf,
} from './insights-rules';
import { spanLabel } from './span-label';

const SLO = 400;
const NOW = Date.UTC(2026, 2, 10, 14, 30);
const CONFIG = {
  health: {
    latencySloMs: SLO,
    costPerRequestUsd: 0.01,
    weights: { performance: 0.25, reliability: 0.25, cost: 0.2, quality: 0.2, security: 0.1 },
  },
  budget: { dailyUsd: undefined },
} as unknown as AppConfig;
/** The real calculator (through the service's public method), so components match the signals. */
const health = new HealthScoreService(CONFIG, {} as UsageLedger, {} as MetricsPort);

const HEALTHY: Partial<HealthSignals> = {
  p95LatencyMs: 120,
  meanLatencyMs: 80,
  errorRate: 0,
  timeoutRate: 0,
  retriesPerRequest: 0,
  costPerRequestUsd: 0.001,
  meanQuality: 0.85,
  ungroundedRate: 0,
  failureToAnswerRate: 0,
  safetyBlockRate: 0,
  promptInjectionRate: 0,
  piiRate: 0,
  tokenAbuseRate: 0,
};

const assessment = (requests: number, s: Partial<HealthSignals> = {}): HealthAssessment =>
  health.assessAggregates({ ...HEALTHY, ...s, requests });

/** An answered-traffic row of `n` calls, all answered and priced, at a cost per call and a mean quality. */
const answeredRow = (endpoint: string, model: string, n: number, costPerCall: number, quality: number) => ({
  endpoint,
  model,
  requests: n,
  answered: n,
  errors: 0,
  costUsd: n * costPerCall,
  pricedRequests: n,
  freeFailures: 0,
  fallbacks: 0,
  qualitySum: n * quality,
  qualityCount: n,
});

function report(
  window: '5m' | '1h',
  models: Record<string, HealthAssessment>,
  overall?: HealthAssessment,
): HealthReport {
  const length = window === '5m' ? 300_000 : 3_600_000;
  const list = Object.entries(models).map(([model, a]) => ({ model, ...a }));
  return {
    window,
    from: NOW - length,
    to: NOW,
    overall: overall ?? list[0] ?? assessment(0),
    models: list,
    endpoints: [],
  };
}

function facts(
  short: Record<string, HealthAssessment>,
  long: Record<string, HealthAssessment> = short,
  extra: Partial<LiveFacts> = {},
): LiveFacts {
  return {
    short: report('5m', short),
    long: report('1h', long),
    prompts: [],
    promptsWindow: windowOf('24h', NOW - 86_400_000, NOW),
    budget: null,
    drift: [],
    safety: { redactPrompts: false, injectionPolicy: 'flag' },
    latencySloMs: SLO,
    p95CeilingMs: health.p95CeilingMs,
    costPerRequestUsd: 0.01,
    refusals: [],
    refusalsWindow: windowOf('5m', NOW - 300_000, NOW),
    repeats: [],
    repeatsLimit: 200,
    answered: [],
    repeatsWindow: windowOf('1h', NOW - 3_600_000, NOW),
    cache: { mode: 'off', scope: 'key' },
    chainModels: [],
    spendShort: [],
    routerCandidates: [],
    ...extra,
  };
}

describe('insights rules: live recommendations', () => {
  it('reports a cost per call that jumped several-fold under the target, naming the endpoint and model', () => {
    // gpt-4o-mini's answers grew from 8 to 4000 output tokens: $0.0000078 to $0.0024 a call, under the $0.01
    // target, and the report said nothing (loopback upstream).
    const models = { 'gpt-4o-mini': assessment(30, { costPerRequestUsd: 0.0024 }) };
    const long = { 'gpt-4o-mini': assessment(80, { costPerRequestUsd: 0.000905 }) };
    const answered = [{ ...answeredRow('qa', 'gpt-4o-mini', 80, 0, 0.8), costUsd: 50 * 0.0000078 + 30 * 0.0024 }];
    const spendShort = [answeredRow('qa', 'gpt-4o-mini', 30, 0.0024, 0.8)];
    const recs = liveRecommendations(facts(models, long, { answered, spendShort }));
    expect(recs.map((r) => [r.category, r.priority, r.endpoint, r.model])).toEqual([
      ['cost', 'medium', 'qa', 'gpt-4o-mini'],
    ]);
    expect(recs[0]!.title).toContain('cost per call rose 307.7 ×');
  });

  it('names the model with rising errors, with the numbers and the window, and says nothing of the healthy one', () => {
    const recs = liveRecommendations(
      facts(
        { 'model-a': assessment(100), 'model-b': assessment(60, { errorRate: 0.4 }) },
        { 'model-a': assessment(1200), 'model-b': assessment(600, { errorRate: (0.4 * 60 + 0.01 * 540) / 600 }) },
      ),
    );
    expect(recs).toHaveLength(1);
    const [rec] = recs;
    expect(rec).toMatchObject({ category: 'reliability', model: 'model-b', priority: 'critical' });
    expect(rec!.title).toContain('model-b');
    expect(rec!.title).toContain('rose from 1% to 40%');
    expect(rec!.evidence.figures).toMatchObject({ error_rate: 0.4, baseline_error_rate: 0.01 });
    expect(rec!.evidence.requests).toBe(60);
    expect(rec!.evidence.window).toMatchObject({ name: '5m', duration_ms: 300_000 });
    expect(rec!.evidence.baseline_window).toMatchObject({ name: '1h' });
    expect(rec!.evidence.summary).toContain('24 of 60 calls to model-b failed');
    expect(rec!.confidence).toBeGreaterThan(0);
    expect(rec!.confidence).toBeLessThan(1);
  });

  it('names a slow model against the latency objective (performance)', () => {
    const recs = liveRecommendations(
      facts({ fast: assessment(80), slow: assessment(80, { p95LatencyMs: 1300, meanLatencyMs: 1100 }) }),
    );
    expect(recs.map((r) => [r.category, r.model])).toEqual([['performance', 'slow']]);
    expect(recs[0]!.title).toContain('p95 latency 1300 ms');
    expect(recs[0]!.evidence.figures).toMatchObject({ p95_latency_ms: 1300, latency_slo_ms: SLO });
  });

  it('says "at least" of a p95 at the last latency bucket, where the slowest calls are above the buckets', () => {
    // SLO 400 ms: the buckets end at 1500 ms (the ladder up to 4 × SLO). Measured with 9.6 s calls (SLO 2000 ms):
    // "p95 latency 6800 ms ... (mean 9612 ms)", a p95 below the mean.
    expect(health.p95CeilingMs).toBe(1500);
    const [rec] = liveRecommendations(facts({ slow: assessment(80, { p95LatencyMs: 1500, meanLatencyMs: 2500 }) }));
    expect(rec!.title).toBe(
      'Model slow: p95 latency at least 1500 ms in the last 5m, at least 3.8 × the 400 ms objective',
    );
    expect(rec!.evidence.summary).toContain(
      "p95 latency of slow was at least 1500 ms (the health score's last latency bucket) (mean 2500 ms)",
    );
  });

  it('names a model whose calls succeed only after retries: the reliability component is low, the error rate is not', () => {
    // Measured on the simulated provider with a 30 % error drill and 2 retries: 80 calls, 1 failed (1.25 %),
    // 0.45 retries per call; reliability 38.83, the overall score degraded (76.12), and no recommendation said why.
    const flaky = assessment(80, { errorRate: 0.0125, retriesPerRequest: 0.45 });
    expect(flaky.components.reliability).toBeLessThan(50);
    const recs = liveRecommendations(
      facts(
        { steady: assessment(80), flaky },
        { steady: assessment(900), flaky: assessment(880, { retriesPerRequest: (0.45 * 80 + 0.02 * 800) / 880 }) },
      ),
    );
    expect(recs.map((r) => [r.category, r.model])).toEqual([['reliability', 'flaky']]);
    const [rec] = recs;
    expect(rec!.priority).toBe(flaky.components.reliability! < 25 ? 'critical' : 'high');
    expect(rec!.title).toContain('retries per call rose from 0.02 to 0.45');
    expect(rec!.title).toContain('1.3% of calls failed');
    expect(rec!.evidence.summary).toContain('36 retries over 80 calls');
    expect(rec!.evidence.figures).toMatchObject({
      error_rate: 0.0125,
      retries_per_request: 0.45,
      baseline_retries_per_request: 0.02,
      reliability_score: flaky.components.reliability,
    });
    expect(rec!.evidence.baseline_window).toMatchObject({ name: '1h' });
    expect(rec!.confidence).toBeGreaterThan(0);
    expect(rec!.confidence).toBeLessThan(1);

    // Below the point where the curve is at 50 (e + 0.5 timeouts + 0.1 retries < 0.05): nothing.
    expect(liveRecommendations(facts({ m: assessment(80, { errorRate: 0.01, retriesPerRequest: 0.3 }) }))).toEqual([]);
    // At or above 5 % errors the error-rate recommendation speaks, and only it.
    const failing = liveRecommendations(facts({ m: assessment(80, { errorRate: 0.2, retriesPerRequest: 0.9 }) }));
    expect(failing).toHaveLength(1);
    expect(failing[0]!.title).toContain('error rate is 20%');
  });

  it('does not advise moving traffic to a cheaper model that the same report says is failing', () => {
    // Measured: cheap failing 45 % of attempts, its calls falling back to dear. The ledger records the fallbacks under
    // dear (answered, as good), so the cheaper-model rule advised moving dear's traffic to cheap, next to the retry
    // rule's "move traffic away from cheap".
    const answered = [answeredRow('qa', 'dear', 55, 0.00013, 0.58), answeredRow('qa', 'cheap', 25, 0.000013, 0.58)];
    const short = {
      dear: assessment(55, { retriesPerRequest: 0.15 }),
      cheap: assessment(25, { retriesPerRequest: 0.52 }),
    };
    const recs = liveRecommendations(facts(short, short, { answered }));
    expect(recs.map((r) => [r.category, r.model])).toEqual([['reliability', 'cheap']]);
    // With cheap healthy, the saving is advised.
    const healthy = { dear: assessment(55), cheap: assessment(25) };
    expect(liveRecommendations(facts(healthy, healthy, { answered })).map((r) => [r.category, r.model])).toEqual([
      ['cost', 'cheap'],
    ]);
    // Both slow alike: moving traffic between them changes nothing there, so the saving is still advised.
    const slow = { p95LatencyMs: 1500, meanLatencyMs: 1200 };
    const bothSlow = { dear: assessment(55, slow), cheap: assessment(25, slow) };
    expect(
      liveRecommendations(facts(bothSlow, bothSlow, { answered }))
        .map((r) => `${r.category} ${r.model}`)
        .sort(),
    ).toEqual(['cost cheap', 'performance cheap', 'performance dear']);
  });

  it('names the model whose calls fell back, not the healthy model that answered them, and advises no move to it', () => {
    // Measured on a loopback upstream: mini failing 90 % of its attempts (2 retries each), flash healthy. The ledger
    // records a fallback, with mini's retries, under flash: the report said "Model flash: 0.63 retries per call ...
    // its attempts are failing, check the provider's status for it" and "mini answered as well as flash for 68.6 %
    // less per call: move part of flash's traffic to mini". The health score now keeps a model's own retries (flash:
    // 0), and the fallbacks name mini.
    const answered = [
      answeredRow('chat', 'flash', 146, 0.00021, 0.633),
      answeredRow('chat', 'mini', 54, 0.000066, 0.633),
    ];
    const short = { flash: assessment(146), mini: assessment(54, { retriesPerRequest: 17 / 54 }) };
    const refusals = [
      { model: 'flash', requests: 146, errors: 0, refused: 0, noCapacity: 0, fallbacks: 46, fallbackRetries: 92 },
      { model: 'mini', requests: 54, errors: 0, refused: 0, noCapacity: 0, fallbacks: 0, fallbackRetries: 0 },
    ];
    const recs = liveRecommendations(facts(short, short, { answered, refusals, chainModels: ['mini', 'flash'] }));
    expect(recs.map((r) => [r.category, r.model])).toEqual([['reliability', 'mini']]);
    const [rec] = recs;
    expect(rec!.title).toBe('Model mini: 46 calls (23%) fell back to flash in the last 5m');
    expect(rec!.priority).toBe('high');
    expect(rec!.evidence.figures).toMatchObject({ fallback_calls: 46, fallback_rate: 0.23, fallback_retries: 92 });
    expect(rec!.evidence.summary).toContain('46 of 146 calls recorded under flash reached it after mini failed');
    expect(rec!.description).toContain('send its traffic to flash');

    // The fallbacks' latency (mini's failed attempts and the backoff) is recorded under flash, but the health score's
    // per-model p95 leaves it out: a p95 still over the objective is flash's own, over the calls it served first.
    const slowShort = { flash: assessment(146, { p95LatencyMs: 1500, meanLatencyMs: 700 }), mini: short.mini };
    const perf = liveRecommendations(
      facts(slowShort, slowShort, { answered, refusals, chainModels: ['mini', 'flash'] }),
    ).find((r) => r.category === 'performance');
    expect(perf).toMatchObject({ model: 'flash', evidence: { figures: { fallback_calls: 46 } } });
    expect(perf!.description).toMatch(
      /^Answers from flash are slow on the 100 calls it served from their start \(the 46 that fell back to it after another model failed are left out of this p95/,
    );
    expect(perf!.evidence.summary).toContain('over 100 calls (not the 46 fallbacks) in the 5m window');
    // Without fallbacks, the plain advice.
    const plain = liveRecommendations(facts(slowShort, slowShort, { answered })).find(
      (r) => r.category === 'performance',
    );
    expect(plain!.description).toMatch(/^Answers from flash are slow: check the provider's latency/);
  });

  it('says nothing on healthy traffic, and nothing on too few calls', () => {
    expect(liveRecommendations(facts({ a: assessment(500), b: assessment(50) }))).toEqual([]);
    expect(liveRecommendations(facts({ a: assessment(4, { errorRate: 1 }) }))).toEqual([]);
    expect(livePredictions(facts({ a: assessment(500) }))).toEqual([]);
  });

  it('derives confidence from volume and effect size: more calls or a larger effect, more confidence', () => {
    const conf = (n: number, errorRate: number): number =>
      liveRecommendations(facts({ m: assessment(n, { errorRate }) }))[0]!.confidence;
    expect(conf(10, 0.3)).toBeLessThan(conf(100, 0.3));
    expect(conf(100, 0.3)).toBeLessThan(conf(1000, 0.3));
    expect(conf(100, 0.06)).toBeLessThan(conf(100, 0.09));
    expect(confidenceOf(30, 1)).toBe(0.5);
    expect(confidenceOf(0, 1)).toBe(0);
  });

  it('flags long prompts per endpoint from the hourly rollups, not short ones', () => {
    const recs = liveRecommendations(
      facts({ m: assessment(50) }, undefined, {
        prompts: [
          { endpoint: 'qa', requests: 100, inputTokens: 100 * 6000 },
          { endpoint: 'reason', requests: 100, inputTokens: 100 * 300 },
        ],
      }),
    );
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ category: 'cost', endpoint: 'qa', priority: 'high' });
    expect(recs[0]!.title).toContain('6000 tokens');
  });

  it('reports a security signal only with enough flagged calls', () => {
    const flagged = facts({ m: assessment(100, { promptInjectionRate: 0.1 }) });
    const recs = liveRecommendations(flagged);
    expect(recs.map((r) => r.category)).toEqual(['security']);
    expect(recs[0]!.evidence.figures).toMatchObject({ prompt_injection_rate: 0.1, flagged_calls: 10 });
    expect(liveRecommendations(facts({ m: assessment(50, { piiRate: 0.04 }) }))).toEqual([]);
  });

  it('advises the setting that acts on each signal: PII_REDACT_PROMPTS for PII, the injection policy for injections', () => {
    const [pii] = liveRecommendations(facts({ m: assessment(200, { piiRate: 0.05 }) }));
    expect(pii!.title).toContain('personal data (PII)');
    expect(pii!.description).toContain('PII_REDACT_PROMPTS=true');
    expect(pii!.description).not.toContain('PROMPT_INJECTION_POLICY');
    const [redacting] = liveRecommendations(
      facts({ m: assessment(200, { piiRate: 0.05 }) }, undefined, {
        safety: { redactPrompts: true, injectionPolicy: 'flag' },
      }),
    );
    expect(redacting!.description).toContain('PII_REDACT_PROMPTS is already true');
    const [injection] = liveRecommendations(facts({ m: assessment(200, { promptInjectionRate: 0.05 }) }));
    expect(injection!.description).toContain('PROMPT_INJECTION_POLICY=block');
    expect(injection!.description).not.toContain('PII');
  });

  it('reports an exceeded daily budget first, as a measured fact, with what BUDGET_POLICY does about it', () => {
    const exceeded = (policy: 'alert' | 'enforce', spentTodayUsd = 0.006752) =>
      ({
        policy,
        dailyBudgetUsd: 0.002,
        spentTodayUsd,
        reservedUsd: 0.0001,
        utilizationPct: (100 * (spentTodayUsd + 0.0001)) / 0.002,
        risk: 'exceeded',
        exceeded: true,
        resetAt: '2026-03-11T00:00:00.000Z',
        forecast24hUsd: null,
        forecastServedBy: null,
        predictedBreach: null,
      }) as BudgetOutlookStatus;
    // A critical reliability item with the highest confidence there is, and a quality one: the budget still leads.
    const traffic = { m: assessment(100_000, { errorRate: 0.9, meanQuality: 0.2 }) };
    const recs = liveRecommendations(facts(traffic, traffic, { budget: exceeded('alert') }));
    expect(recs.map((r) => r.category).sort()).toEqual(['cost', 'quality', 'reliability']);
    expect(recs.find((r) => r.category === 'reliability')).toMatchObject({ priority: 'critical', confidence: 1 });
    expect(recs[0]!.category).toBe('cost');
    const [budget] = recs;
    expect(budget).toMatchObject({ category: 'cost', priority: 'critical', confidence: 1, model: null });
    expect(budget!.title).toBe('Daily budget exceeded: spent $0.006752 of $0.002 (337.6 %) today');
    expect(budget!.description).toMatch(/^BUDGET_POLICY=alert: nothing stops the calls/);
    expect(budget!.description).toContain('BUDGET_POLICY=enforce');
    expect(budget!.evidence.figures).toEqual({
      spent_today_usd: 0.006752,
      daily_budget_usd: 0.002,
      spent_pct: 337.6,
      over_budget_usd: 0.004752,
      reserved_usd: 0.0001,
    });
    expect(budget!.evidence.summary).toContain('resets at 2026-03-11T00:00:00.000Z');

    const enforced = liveRecommendations(facts({}, {}, { budget: exceeded('enforce', 0.002) }));
    expect(enforced).toHaveLength(1);
    expect(enforced[0]!.title).toBe('Daily budget reached: spent $0.002 of $0.002 (100 %) today');
    expect(enforced[0]!.description).toMatch(/^BUDGET_POLICY=enforce: the LLM endpoints answer 429 BUDGET_EXCEEDED/);

    // Not exceeded: no exceeded item (a high risk has its own, below).
    const under = { ...exceeded('alert', 0.0015), exceeded: false, risk: 'medium' } as BudgetOutlookStatus;
    expect(liveRecommendations(facts({}, {}, { budget: under }))).toEqual([]);
  });

  it("explains a cost component lowered by the spend pace: when the rest of today's budget runs out at it", () => {
    const outlook = (spentTodayUsd: number, resetAt = '2026-03-11T00:00:00.000Z') =>
      ({
        policy: 'alert',
        dailyBudgetUsd: 10,
        spentTodayUsd,
        reservedUsd: 0,
        utilizationPct: spentTodayUsd * 10,
        risk: 'medium',
        riskBasis: "today's spend",
        exceeded: false,
        resetAt,
        projectedDayUsd: null,
        forecast24hUsd: null,
        forecastServedBy: null,
        forecastConfidence: null,
        predictedBreach: null,
      }) as BudgetOutlookStatus;
    // 5 minutes at $0.104 each: $30 a day against a $10 budget (pace 3), each call well under the per-call target.
    const burning = assessment(400, { costPerRequestUsd: 0.00026, budgetPace: 3 });
    expect(burning.components.cost).toBe(0);
    const withPace = (budget: BudgetOutlookStatus) =>
      liveRecommendations({ ...facts({ m: burning }), short: report('5m', { m: burning }, burning), budget });
    const [pace, ...rest] = withPace(outlook(4));
    expect(rest).toEqual([]);
    expect(pace).toMatchObject({ category: 'cost', priority: 'critical', model: null });
    expect(pace!.title).toBe('Spend pace: the last 5m cost $0.104167, 3 × DAILY_BUDGET_USD ($10) over a day');
    // $6 left at $30 a day: 4.8 h after 14:30, 4.7 h before midnight.
    expect(pace!.description).toContain(
      "the $6 left of today's budget runs out at 2026-03-10T19:18:00.000Z, 4.7 h before it resets",
    );
    expect(pace!.evidence.figures).toMatchObject({ budget_pace: 3, left_today_usd: 6, hours_until_runs_out: 4.8 });
    expect(pace!.confidence).toBe(confidenceOf(400, 1));

    // Late in the day the rest lasts until the reset: said so, no run-out time.
    const late = withPace(outlook(9.9, '2026-03-10T14:31:00.000Z'))[0]!;
    expect(late.description).toContain('lasts until it resets at 2026-03-10T14:31:00.000Z');
    expect(late.evidence.figures.hours_until_runs_out).toBeNull();
    // Under 1 × the budget, no budget, or already exceeded (the exceeded budget's own item says it): nothing.
    const calm = assessment(400, { budgetPace: 0.9 });
    expect(liveRecommendations({ ...facts({ m: calm }), budget: outlook(1) })).toEqual([]);
    expect(withPace(null as unknown as BudgetOutlookStatus)).toEqual([]);
    const over = withPace({ ...outlook(12), exceeded: true, risk: 'exceeded' });
    expect(over.map((r) => r.title)).toEqual(['Daily budget exceeded: spent $12 of $10 (120 %) today']);
  });

  it('names a window by its configured length in its texts, not by its API name (HEALTH_WINDOW_SHORT_MS=60000)', () => {
    const failing = { m: assessment(100, { errorRate: 0.4 }) };
    const short = { ...report('5m', failing), from: NOW - 60_000 };
    const long = { ...report('1h', failing), from: NOW - 2 * 3_600_000 };
    const [rec] = liveRecommendations({ ...facts(failing), short, long });
    expect(rec!.title).toBe('Model m: error rate is 40% in the last 1m');
    expect(rec!.evidence.summary).toContain('in the 1m window');
    expect(rec!.evidence.window).toMatchObject({ name: '5m', duration_ms: 60_000 }); // the API's name stays
    expect([spanLabel(300_000), spanLabel(3_600_000), spanLabel(90_000), spanLabel(86_400_000)]).toEqual([
      '5m',
      '1h',
      '90s',
      '24h',
    ]);
  });

  it('says a high budget risk that nothing else explains: projected near the budget, no breach predicted yet', () => {
    const outlook = (over: Partial<BudgetOutlookStatus>): BudgetOutlookStatus => ({
      policy: 'alert',
      dailyBudgetUsd: 10,
      spentTodayUsd: 6,
      reservedUsd: 0,
      utilizationPct: 60,
      risk: 'high',
      riskBasis: 'spend so far plus the ml forecast for the rest of the UTC day: $9.44, 94.4 %',
      exceeded: false,
      resetAt: '2026-03-11T00:00:00.000Z',
      projectedDayUsd: 9.44,
      forecast24hUsd: 12,
      forecastServedBy: 'ml',
      forecastConfidence: 0.8,
      predictedBreach: null,
      ...over,
    });
    const [risk, ...rest] = liveRecommendations(facts({}, {}, { budget: outlook({}) }));
    expect(rest).toEqual([]);
    expect(risk).toMatchObject({ category: 'cost', priority: 'medium', confidence: 0.8, model: null });
    expect(risk!.title).toBe('Daily budget at risk: today is projected at $9.44 of $10 (94.4 %)');
    expect(risk!.evidence.summary).toContain('$9.44, 94.4 %');
    // On the spend so far alone (no forecast with a confidence): a measured fact.
    const [spent] = liveRecommendations(
      facts({}, {}, { budget: outlook({ spentTodayUsd: 9.2, forecastConfidence: 0, utilizationPct: 92 }) }),
    );
    expect(spent).toMatchObject({
      confidence: 1,
      title: 'Daily budget at risk: $9.2 of $10 (92 %) spent or reserved today',
    });
    // Explained elsewhere (a predicted breach is a predictive insight; exceeded comes first), or not high: nothing.
    const breach = { projectedDayUsd: 11, dailyBudgetUsd: 10, breachAt: 'x', servedBy: 'ml', forecastConfidence: 0.8 };
    expect(liveRecommendations(facts({}, {}, { budget: outlook({ predictedBreach: breach }) }))).toEqual([]);
    expect(liveRecommendations(facts({}, {}, { budget: outlook({ risk: 'medium' }) }))).toEqual([]);
  });

  it('sorts by priority, then confidence', () => {
    const recs = liveRecommendations(
      facts({
        a: assessment(200, { errorRate: 0.06 }),
        b: assessment(200, { errorRate: 0.5 }),
        c: assessment(200, { p95LatencyMs: 450 }),
      }),
    );
    expect(recs.map((r) => [r.priority, r.model])).toEqual([
      ['critical', 'b'],
      ['high', 'a'],
      ['low', 'c'],
    ]);
  });
});

describe('insights rules: predictive insights', () => {
  it('budget breach from the outlook, quality degradation from drift, latency trend per model', () => {
    const drift: DriftSnapshot[] = [
      {
        endpoint: 'qa',
        model: 'm',
        samples: 200,
        currentQuality: 0.7,
        trend: 'degrading',
        slopePerHour: -0.01,
        projected24h: 0.46,
        risk: 'medium',
      },
      {
        endpoint: 'reason',
        model: 'm',
        samples: 200,
        currentQuality: 0.8,
        trend: 'stable',
        slopePerHour: 0,
        projected24h: 0.8,
        risk: 'low',
      },
    ];
    const budget = {
      dailyBudgetUsd: 10,
      spentTodayUsd: 6,
      forecast24hUsd: 12,
      predictedBreach: {
        projectedDayUsd: 14,
        dailyBudgetUsd: 10,
        breachAt: '2026-03-10T18:00:00.000Z',
        servedBy: 'x',
        forecastConfidence: 0.8,
      },
    } as BudgetOutlookStatus;
    const out = livePredictions(
      facts(
        { m: assessment(100, { p95LatencyMs: 900 }) },
        { m: assessment(1000, { p95LatencyMs: 300 }) },
        {
          drift,
          budget,
        },
      ),
    );
    expect(out.map((p) => [p.type, p.model, p.endpoint])).toEqual([
      ['budget_breach', null, null],
      ['quality_degradation', 'm', 'qa'],
      ['latency_trend', 'm', null],
    ]);
    // 900 ms against a 400 ms objective: there is a performance recommendation to point to.
    expect(out[2]!.description).toContain("see the model's performance recommendation");
    // A rise well under the objective has none: the trend says where it stands instead.
    const [under] = livePredictions(
      facts({ m: assessment(100, { p95LatencyMs: 200 }) }, { m: assessment(1000, { p95LatencyMs: 100 }) }),
    );
    expect(under).toMatchObject({ type: 'latency_trend', model: 'm' });
    expect(under!.description).toBe(
      'Still under the 400 ms objective (HEALTH_LATENCY_SLO_MS; performance score 100); that score starts falling ' +
        'at 300 ms (0.75 × the objective) if the rise continues.',
    );
    for (const p of out) {
      expect(p.confidence).toBeGreaterThan(0);
      expect(p.confidence).toBeLessThanOrEqual(1);
    }
    expect(out[0]!.evidence.figures).toMatchObject({
      projected_day_usd: 14,
      daily_budget_usd: 10,
      forecast_confidence: 0.8,
    });
    // The forecast's own confidence × the overshoot's (40 %: 1 − e^−4).
    expect(out[0]!.confidence).toBe(Math.round(0.8 * (1 - Math.exp(-4)) * 100) / 100);
  });
});

describe('insights rules: the origin body', () => {
  it('recommends on the components the posted aggregates leave unhealthy, naming the posted numbers', () => {
    const a = health.assessAggregates({ errorRate: 0.2, p95LatencyMs: 100, meanQuality: 0.9 });
    const recs = requestRecommendations(
      { error_rate: 0.2, avg_latency_ms: 100, avg_quality_score: 0.9 },
      a.components,
      SLO,
    );
    expect(recs.map((r) => r.category)).toEqual(['reliability']);
    expect(recs[0]!.evidence.figures).toMatchObject({ error_rate: 0.2, reliability_score: 0 });
    expect(recs[0]!.evidence.window).toBeNull();
    expect(recs[0]!.confidence).toBe(0.5);
    const mild = health.assessAggregates({ errorRate: 0.04 });
    expect(requestRecommendations({ error_rate: 0.04 }, mild.components, SLO)[0]!.confidence).toBeLessThan(0.5);
  });

  it('turns a worsening reported trend into a reported_trend insight, not a stable one', () => {
    const a = health.assessAggregates({ p95LatencyMs: 700 });
    const out = requestPredictions({ latency_trend: 'increasing', cost_trend: 'stable' }, a.components);
    expect(out.map((p) => p.type)).toEqual(['reported_trend']);
    expect(out[0]!.title).toContain('latency');
  });
});
