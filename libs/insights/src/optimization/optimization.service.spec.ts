import { UsageLedger, type WindowQuery, type WindowUsage } from '@app/ledger';
import { DomainError } from '@app/common';
import { OptimizationService } from './optimization.service';
import { computeRoi, confidenceFromVolume, DAY_MS } from './recommendation';
import { SqliteRecommendationStore } from './store/sqlite-recommendation.store';

/** A ledger whose windows are computed from (time, cost) calls; any other method throws (strict fake). */
function fakeLedger(calls: { ts: number; cost: number | null }[]): UsageLedger {
  const window = (q: WindowQuery): Promise<WindowUsage[]> => {
    const inside = calls.filter((c) => c.ts >= q.from && c.ts < q.to);
    return Promise.resolve([
      {
        requests: inside.length,
        pricedRequests: inside.filter((c) => c.cost !== null).length,
        costUsd: inside.reduce((s, c) => s + (c.cost ?? 0), 0),
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

async function setup(calls: { ts: number; cost: number | null }[]) {
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
    for (const value of [implemented, result, report, detail, await service.list()]) expectFinite(value);
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
