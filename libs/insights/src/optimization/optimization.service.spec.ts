import { UsageLedger, type WindowQuery, type WindowUsage } from '@app/ledger';
import { DomainError } from '@app/common';
import { growthRatio } from '../../../../test/support/growth';
import { OptimizationService, summarise } from './optimization.service';
import {
  computeRoi,
  confidenceFromVolume,
  DAY_MS,
  type Recommendation,
  type RecommendationResult,
} from './recommendation';
import { SqliteRecommendationStore } from './store/sqlite-recommendation.store';

/** A ledger whose windows are computed from (time, cost) calls; any other method throws (strict fake). */
function fakeLedger(calls: { ts: number; cost: number | null; failed?: boolean }[]): UsageLedger {
  const window = (q: WindowQuery): Promise<WindowUsage[]> => {
    const inside = calls.filter((c) => c.ts >= q.from && c.ts < q.to);
    return Promise.resolve([
      {
        requests: inside.length,
        pricedRequests: inside.filter((c) => c.cost !== null).length,
        costUsd: inside.reduce((s, c) => s + (c.cost ?? 0), 0),
        freeFailures: inside.filter((c) => c.failed === true && c.cost === 0).length,
      } as WindowUsage,
    ]);
  };
  return new Proxy({ window, flush: () => Promise.resolve() } as unknown as UsageLedger, {
    get(target, prop) {
      if (prop in target) return target[prop as keyof UsageLedger];
      if (prop === 'then') return undefined;
      throw new Error(`unexpected UsageLedger.${String(prop)}`);
    },
  });
}

/** Every number in a JSON-bound value is finite (JSON.stringify would turn NaN and ±Infinity into null). */
function expectFinite(value: unknown, path = '$'): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${path} is ${value}`);
  } else if (Array.isArray(value)) value.forEach((v, i) => expectFinite(v, `${path}[${i}]`));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) expectFinite(v, `${path}.${k}`);
}

const IMPL = Date.UTC(2026, 11, 1, 12);

async function setup(calls: { ts: number; cost: number | null; failed?: boolean }[]) {
  const store = new SqliteRecommendationStore(':memory:');
  const service = new OptimizationService(store, fakeLedger(calls));
  await service.onModuleInit();
  return { service, store };
}

/** 100 calls at $0.01 in the week before IMPL, 40 at $0.004 after. */
const CALLS = [
  ...Array.from({ length: 100 }, (_, i) => ({ ts: IMPL - DAY_MS + i * 1000, cost: 0.01 })),
  { ts: IMPL - 2 * DAY_MS, cost: null },
  ...Array.from({ length: 40 }, (_, i) => ({ ts: IMPL + 1000 + i * 1000, cost: 0.004 })),
];
const BODY = {
  title: 'cache',
  category: 'caching',
  description: 'd',
  estimated_savings_per_request: 0.001,
  estimated_savings_percentage: 10,
};

describe('ROI', () => {
  it('ROI with zero cost: null with a reason, never Infinity', () => {
    expect(computeRoi(5, 0)).toEqual({
      roiPercentage: null,
      roiReason: expect.stringContaining('implementation_cost is 0'),
    });
    expect(computeRoi(0, 0).roiPercentage).toBeNull();
    expect(computeRoi(-3, 0).roiPercentage).toBeNull();
  });
  it('(savings − cost) / cost × 100 otherwise', () => {
    expect(computeRoi(15, 10)).toEqual({ roiPercentage: 50, roiReason: null });
    expect(computeRoi(0, 10).roiPercentage).toBe(-100);
    expect(computeRoi(1e6, 1e-9).roiPercentage).toBeLessThan(Number.MAX_VALUE);
  });
  it('confidence grows with the thinner window and is never a constant', () => {
    expect(confidenceFromVolume(0, 100)).toBe(0);
    expect(confidenceFromVolume(30, 1000)).toBe(0.5);
    expect(confidenceFromVolume(300, 300)).toBeGreaterThan(0.9);
    expect(confidenceFromVolume(300, 300)).toBeLessThan(1);
  });
});

describe('OptimizationService', () => {
  it('measures before (baseline) vs after (since implementation) from the ledger; zero cost: ROI null', async () => {
    const { service } = await setup(CALLS);
    const { id } = await service.create(BODY, IMPL - 5000);
    const implemented = await service.implement(id, { cost_per_request: 1 }, IMPL);
    expect(implemented.baseline).toMatchObject({
      requests: 101,
      priced_requests: 100,
      cost_usd: 1,
      cost_per_request: 0.01,
    });
    const result = await service.recordResult(id, 7, IMPL + DAY_MS);
    expect(result).toMatchObject({
      before_cost: 0.4,
      after_cost: 0.16,
      actual_savings: 0.24,
      roi_percentage: null,
      roi_reason: expect.stringContaining('implementation_cost is 0'),
      confidence_score: 0.571,
    });
    expect(result.before.end).toBe(result.after.start);
    const report = await service.roiReport(7, undefined, IMPL + DAY_MS);
    expect(report).toMatchObject({ total_savings: 0.24, roi_percentage: null, average_roi: null, results_count: 1 });
    expect(report.roi_reason).toContain('implementation_cost is 0');
    const detail = await service.get(id);
    expect(detail).toMatchObject({ total_savings: 0.24, results_count: 1, baseline_metrics: { cost_per_request: 1 } });
    for (const value of [implemented, result, report, detail, await service.list(50)]) expectFinite(value);
    expect(JSON.stringify([result, report, detail])).not.toMatch(/NaN|Infinity/);
  });

  it('with a cost, ROI is a finite percentage; the report filters by category', async () => {
    const { service } = await setup(CALLS);
    const { id } = await service.create({ ...BODY, implementation_cost: 0.12 }, IMPL - 5000);
    await service.implement(id, undefined, IMPL);
    const result = await service.recordResult(id, 7, IMPL + DAY_MS);
    expect(result.roi_percentage).toBe(100);
    expect((await service.roiReport(7, 'caching', IMPL + DAY_MS)).roi_percentage).toBe(100);
    expect((await service.roiReport(7, 'routing', IMPL + DAY_MS)).results_count).toBe(0);
    expect((await service.roiReport(7, undefined, IMPL + 30 * DAY_MS)).results_count).toBe(0);
  });

  it('an outage is no saving: failed calls that cost nothing are left out of both windows', async () => {
    // Baseline: 100 calls at $0.01 and 100 failed at $0; after: 40 at $0.01 (the change saved nothing) and 40 failed
    // at $0. Counted as priced requests, the baseline read $0.005 a call and the after window's 80 calls "would have
    // cost" $0.40 at that rate against $0.40 spent; with the failures after only, $0.80 against $0.40: "saved" $0.40.
    const calls = [
      ...Array.from({ length: 100 }, (_, i) => ({ ts: IMPL - DAY_MS + i * 1000, cost: 0.01 })),
      ...Array.from({ length: 40 }, (_, i) => ({ ts: IMPL + 1000 + i * 1000, cost: 0.01 })),
      ...Array.from({ length: 40 }, (_, i) => ({ ts: IMPL + 500 + i * 1000, cost: 0, failed: true })),
    ];
    const { service } = await setup(calls);
    const { id } = await service.create(BODY, IMPL - 5000);
    const implemented = await service.implement(id, undefined, IMPL);
    expect(implemented.baseline).toMatchObject({ requests: 100, priced_requests: 100, cost_per_request: 0.01 });
    const result = await service.recordResult(id, 7, IMPL + DAY_MS);
    expect(result).toMatchObject({ before_cost: 0.4, after_cost: 0.4, actual_savings: 0 });
    expect(result.after).toMatchObject({ requests: 80, priced_requests: 40 });

    const withFailedBaseline = await setup([
      ...calls,
      ...Array.from({ length: 100 }, (_, i) => ({ ts: IMPL - DAY_MS + 500 + i * 1000, cost: 0, failed: true })),
    ]);
    const other = await withFailedBaseline.service.create(BODY, IMPL - 5000);
    const baseline = await withFailedBaseline.service.implement(other.id, undefined, IMPL);
    expect(baseline.baseline).toMatchObject({ requests: 200, priced_requests: 100, cost_per_request: 0.01 });
  });

  it('results over several periods: each starts where the last ended, so totals count every request once', async () => {
    // 40 calls at $0.004 in the first day after IMPL (CALLS), then 20 at $0.002 in the second day.
    const calls = [
      ...CALLS,
      ...Array.from({ length: 20 }, (_, i) => ({ ts: IMPL + DAY_MS + 1000 + i * 1000, cost: 0.002 })),
    ];
    const { service } = await setup(calls);
    const { id } = await service.create({ ...BODY, implementation_cost: 0.1 }, IMPL - 5000);
    await service.implement(id, undefined, IMPL);
    const first = await service.recordResult(id, 7, IMPL + DAY_MS);
    expect(first).toMatchObject({ before_cost: 0.4, after_cost: 0.16, actual_savings: 0.24 });
    const second = await service.recordResult(id, 7, IMPL + 2 * DAY_MS);
    // Only the second day's 20 calls: at the baseline's $0.01 they would have cost $0.2; they cost $0.04.
    expect(second.after).toMatchObject({ start: first.after.end, priced_requests: 20 });
    expect(second).toMatchObject({ before_cost: 0.2, after_cost: 0.04, actual_savings: 0.16, roi_percentage: 60 });
    // Nothing new since: nothing to measure, and nothing stored.
    const code = await service.recordResult(id, 7, IMPL + 2 * DAY_MS + 1000).then(
      () => 'resolved',
      (e: unknown) => (e instanceof DomainError ? `${e.status} ${e.code} ${e.detail}` : String(e)),
    );
    expect(code).toMatch(/^409 INSUFFICIENT_USAGE .*since the last result recorded/);
    const detail = await service.get(id);
    expect(detail).toMatchObject({ total_savings: 0.4, results_count: 2, latest_roi: 60 });
    const report = await service.roiReport(7, 'caching', IMPL + 2 * DAY_MS);
    // 60 requests in all, saved $0.24 + $0.16; ROI over the total: (0.4 − 0.1) / 0.1.
    expect(report).toMatchObject({ total_savings: 0.4, total_requests: 60, results_count: 2, roi_percentage: 300 });
  });

  it('period_days bounds the window from now, even after an earlier result', async () => {
    const { service } = await setup(CALLS);
    const { id } = await service.create(BODY, IMPL - 5000);
    await service.implement(id, undefined, IMPL);
    // The first 10 calls only (IMPL + 1 s .. + 10 s), then a 1-day period 30 days later: nothing in it.
    await service.recordResult(id, 7, IMPL + 10_500);
    await expect(service.recordResult(id, 1, IMPL + 30 * DAY_MS)).rejects.toMatchObject({ code: 'INSUFFICIENT_USAGE' });
    const result = await service.recordResult(id, 7, IMPL + DAY_MS);
    expect(result.after).toMatchObject({ start: new Date(IMPL + 10_500).toISOString(), priced_requests: 30 });
  });

  it('refuses: unknown 404, not implemented 409, implemented twice 409, no usage since 409', async () => {
    const { service } = await setup(CALLS);
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (e: unknown) => (e instanceof DomainError ? `${e.status} ${e.code}` : String(e)),
      );
    expect(await code(service.recordResult('nope', 7))).toBe('404 RECOMMENDATION_NOT_FOUND');
    expect(await code(service.implement('nope', undefined))).toBe('404 RECOMMENDATION_NOT_FOUND');
    const { id } = await service.create(BODY, IMPL - 5000);
    expect(await code(service.recordResult(id, 7, IMPL))).toBe('409 RECOMMENDATION_NOT_IMPLEMENTED');
    await service.implement(id, undefined, IMPL + 100 * 1000);
    expect(await code(service.implement(id, undefined, IMPL + 200 * 1000))).toBe(
      '409 RECOMMENDATION_ALREADY_IMPLEMENTED',
    );
    expect(await code(service.recordResult(id, 7, IMPL + 100 * 1000 + 1))).toBe('409 INSUFFICIENT_USAGE');
  });
});

describe('the list of recommendations', () => {
  it('pages newest first with next_cursor, each page with its own results, stable while new ones are created', async () => {
    const { service } = await setup(CALLS);
    const created: { at: number; id: string }[] = [];
    // Seven, two of them created in the same millisecond (the id breaks the tie).
    for (const at of [1, 2, 3, 3, 4, 5, 6])
      created.push({ at, id: (await service.create(BODY, IMPL - 10_000 + at)).id });
    const ids = created.map((c) => c.id);
    await service.implement(ids[0]!, undefined, IMPL);
    await service.recordResult(ids[0]!, 7, IMPL + DAY_MS);

    const seen: { id: string; results_count: number; total_savings: number }[] = [];
    let cursor: string | undefined;
    const pages: number[] = [];
    for (let page = 0; page < 10; page++) {
      const answer = await service.list(3, cursor);
      pages.push(answer.entries.length);
      seen.push(...answer.entries);
      // Created between two pages: on a fresh first page, never shifting the pages under way.
      if (page === 0) await service.create(BODY, IMPL + 1);
      if (answer.next_cursor === null) break;
      cursor = answer.next_cursor;
    }
    expect(pages).toEqual([3, 3, 1]);
    // The order of a single read of all of them, each once; the one implemented (the oldest) with its result.
    const newestFirst = [...created].sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1)).map((c) => c.id);
    expect(seen.map((e) => e.id)).toEqual(newestFirst);
    expect(seen.at(-1)).toMatchObject({ id: ids[0], results_count: 1, total_savings: 0.24 });
    expect(seen.filter((e) => e.results_count > 0)).toHaveLength(1);
    expect((await service.list(50)).entries).toHaveLength(8);
    expect(await service.list(50)).toMatchObject({ next_cursor: null });
  });

  it('summarises in time linear in the results (grouping them by recommendation was quadratic)', () => {
    const rec: Recommendation = {
      id: 'opt-20261201-120000-abcdef',
      title: 't',
      category: 'c',
      description: 'd',
      estimatedSavingsPerRequest: 0,
      estimatedSavingsPercentage: 0,
      priority: 'medium',
      implementationCost: 0,
      status: 'implemented',
      createdAt: IMPL,
      implementedAt: IMPL,
      baseline: null,
    };
    const window = { from: IMPL, to: IMPL + 1, requests: 1, pricedRequests: 1, costUsd: 0.01 };
    const results = (n: number): RecommendationResult[] =>
      Array.from({ length: n }, (_, i) => ({
        id: `res-${i}`,
        recommendationId: rec.id,
        recordedAt: IMPL + i,
        periodDays: 1,
        before: window,
        after: window,
        beforeCost: 0.01,
        afterCost: 0.005,
        actualSavings: 0.005,
        implementationCost: 0,
        roiPercentage: null,
        roiReason: 'implementation_cost is 0',
        confidenceScore: 0.5,
      }));
    const sets = new Map([2000, 16_000].map((n) => [n, results(n)]));
    expect(summarise([rec], sets.get(16_000)!)[0]).toMatchObject({ results_count: 16_000 });
    expect(growthRatio((n) => summarise([rec], sets.get(n)!), 2000, 16_000)).toBeLessThan(24);
  });
});
