import type { Recommendation, RecommendationResult } from '../../libs/insights/src/optimization/recommendation';
import type { RecommendationStore } from '../../libs/insights/src/optimization/store/recommendation-store.port';

export interface RecommendationStoreHarness {
  /** A store on the same database as every other `open` (initialised). */
  open(): Promise<RecommendationStore>;
  /** Restarts the database itself when it is a server (PostgreSQL); nothing for a file. */
  restartDatabase(): Promise<void>;
}

const T0 = Date.UTC(2026, 11, 1, 12);

export function recommendation(id: string, overrides: Partial<Recommendation> = {}): Recommendation {
  return {
    id,
    title: `title ${id}`,
    category: 'caching',
    description: 'cache answers',
    estimatedSavingsPerRequest: 0.001,
    estimatedSavingsPercentage: 20,
    priority: 'medium',
    implementationCost: 0,
    status: 'pending',
    createdAt: T0,
    implementedAt: null,
    baseline: null,
    ...overrides,
  };
}

function result(id: string, recommendationId: string, afterTo: number, afterFrom = T0): RecommendationResult {
  return {
    id,
    recommendationId,
    recordedAt: afterTo,
    periodDays: 7,
    before: { from: T0 - 7 * 86_400_000, to: T0, requests: 101, pricedRequests: 100, costUsd: 1.5 },
    after: { from: afterFrom, to: afterTo, requests: 50, pricedRequests: 50, costUsd: 0.25 },
    beforeCost: 0.75,
    afterCost: 0.25,
    actualSavings: 0.5,
    implementationCost: 0,
    roiPercentage: null,
    roiReason: 'implementation_cost is 0',
    confidenceScore: 0.625,
  };
}

/** The behaviour both stores must have: round trips, newest first, one implement wins, filters, restart. */
export function recommendationStoreContract(name: string, harness: () => RecommendationStoreHarness): void {
  describe(`${name} (RecommendationStore contract)`, () => {
    let h: RecommendationStoreHarness;
    let store: RecommendationStore;
    let n = 0;
    const id = (label: string): string => `${label}-${++n}-${Math.random().toString(16).slice(2, 8)}`;

    beforeAll(async () => {
      h = harness();
      store = await h.open();
    }, 60_000);
    afterAll(() => store?.close());

    it('round trips a recommendation and lists newest first', async () => {
      const a = id('a');
      const b = id('b');
      await store.create(recommendation(a, { createdAt: T0 + 1000, implementationCost: 12.5, priority: 'high' }));
      await store.create(recommendation(b, { createdAt: T0 + 2000 }));
      expect(await store.get(a)).toEqual(
        recommendation(a, { createdAt: T0 + 1000, implementationCost: 12.5, priority: 'high' }),
      );
      expect(await store.get('missing')).toBeUndefined();
      const ids = (await store.list()).map((r) => r.id);
      expect(ids.indexOf(b)).toBeLessThan(ids.indexOf(a));
    });

    it('lists a page at a time: at most limit, older than a position (creation time, then id); results of a page', async () => {
      // Created after every other row of the shared store: they are its newest.
      const at = T0 + 400 * 86_400_000;
      const rows = [
        { id: id('page-a'), createdAt: at + 1 },
        { id: id('page-b'), createdAt: at + 2 },
        { id: id('page-c'), createdAt: at + 2 },
        { id: id('page-d'), createdAt: at + 3 },
      ];
      for (const row of rows) await store.create(recommendation(row.id, { createdAt: row.createdAt }));
      const newestFirst = [...rows].sort((x, y) => y.createdAt - x.createdAt || (x.id < y.id ? 1 : -1));
      const first = await store.list({ limit: 2 });
      expect(first.map((r) => r.id)).toEqual(newestFirst.slice(0, 2).map((r) => r.id));
      const second = await store.list({ limit: 2, before: first[1]! });
      expect(second.map((r) => r.id)).toEqual(newestFirst.slice(2, 4).map((r) => r.id));
      const rest = await store.list({ limit: 1000, before: second[1]! });
      expect(rest.every((r) => r.createdAt < at + 1)).toBe(true);

      await store.addResult(result(`${rows[0]!.id}-r`, rows[0]!.id, T0 + 1000));
      await store.addResult(result(`${rows[3]!.id}-r`, rows[3]!.id, T0 + 1000));
      const ofPage = await store.results({ recommendationIds: [rows[0]!.id, rows[1]!.id] });
      expect(ofPage.map((r) => r.id)).toEqual([`${rows[0]!.id}-r`]);
      expect(await store.results({ recommendationIds: [] })).toEqual([]);
    });

    it("holds text with a NUL (JSON's \\u0000) as U+FFFD; a look-up by an id holding one finds nothing", async () => {
      // PostgreSQL's text refuses NUL: creating or reading such a recommendation was a 500; both stores answer the same.
      const a = id('nul');
      await store.create(
        recommendation(a, { title: 'Cache\u0000 it', category: 'cach\u0000ing', description: 'd\u0000' }),
      );
      expect(await store.get(a)).toMatchObject({
        title: 'Cache\ufffd it',
        category: 'cach\ufffding',
        description: 'd\ufffd',
      });
      expect(await store.get(`${a}\u0000`)).toBeUndefined();
      expect(
        await store.implement(`${a}\u0000`, T0, {
          window: { from: 0, to: 1, requests: 0, pricedRequests: 0, costUsd: 0 },
          declared: null,
        }),
      ).toBe(false);
      expect(await store.addResult({ ...result(`${a}-r\u0000`, a, T0 + 1000), roiReason: 'why\u0000' })).toBe(true);
      expect((await store.results({ recommendationId: a })).map((r) => [r.id, r.roiReason])).toEqual([
        [`${a}-r\ufffd`, 'why\ufffd'],
      ]);
    });

    it('implements once: the baseline round trips, a second implement is refused', async () => {
      const a = id('impl');
      await store.create(recommendation(a));
      const baseline = {
        window: { from: T0 - 7 * 86_400_000, to: T0, requests: 10, pricedRequests: 9, costUsd: 0.123456 },
        declared: { cost_per_request: 0.01, note: 'x' },
      };
      const [first, second] = await Promise.all([
        store.implement(a, T0, baseline),
        store.implement(a, T0 + 1, { ...baseline, declared: null }),
      ]);
      expect([first, second].filter(Boolean)).toHaveLength(1);
      const got = await store.get(a);
      expect(got?.status).toBe('implemented');
      expect(got?.baseline?.window).toEqual(baseline.window);
      expect(await store.implement('missing', T0, baseline)).toBe(false);
    });

    it('round trips results and filters them by recommendation, period end and category', async () => {
      const a = id('res');
      const other = id('other');
      await store.create(recommendation(a, { category: 'routing' }));
      await store.create(recommendation(other, { category: 'caching' }));
      expect(await store.addResult(result(`${a}-r1`, a, T0 + 1000))).toBe(true);
      expect(
        await store.addResult({
          ...result(`${a}-r2`, a, T0 + 5000, T0 + 1000),
          roiPercentage: 150.25,
          roiReason: null,
        }),
      ).toBe(true);
      expect(await store.addResult(result(`${other}-r1`, other, T0 + 9000))).toBe(true);
      const mine = await store.results({ recommendationId: a });
      expect(mine.map((r) => r.id)).toEqual([`${a}-r1`, `${a}-r2`]);
      expect(mine[0]).toEqual(result(`${a}-r1`, a, T0 + 1000));
      expect(mine[1]!.roiPercentage).toBe(150.25);
      const recent = await store.results({ periodEndFrom: T0 + 4000, category: 'routing' });
      expect(recent.map((r) => r.id)).toEqual([`${a}-r2`]);
      await expect(store.addResult(result(`${a}-r1`, a, T0 + 6000, T0 + 5000))).rejects.toThrow();
    });

    it('refuses a result whose window starts before another of the same recommendation ended; one of two concurrent wins', async () => {
      const a = id('overlap');
      const other = id('overlap-other');
      await store.create(recommendation(a));
      await store.create(recommendation(other));
      expect(await store.addResult(result(`${a}-r1`, a, T0 + 5000))).toBe(true);
      // [T0, T0 + 8000) would count [T0, T0 + 5000) twice; [T0 + 4000, ...) too; [T0 + 5000, ...) is the next period.
      expect(await store.addResult(result(`${a}-r2`, a, T0 + 8000))).toBe(false);
      expect(await store.addResult(result(`${a}-r3`, a, T0 + 8000, T0 + 4000))).toBe(false);
      // Another recommendation's results are its own.
      expect(await store.addResult(result(`${other}-r1`, other, T0 + 8000))).toBe(true);
      const racing = await Promise.all(
        [1, 2, 3, 4].map((k) => store.addResult(result(`${a}-race${k}`, a, T0 + 9000 + k, T0 + 5000))),
      );
      expect(racing.filter(Boolean)).toHaveLength(1);
      expect((await store.results({ recommendationId: a })).map((r) => r.after.from)).toEqual([T0, T0 + 5000]);
    });

    it('keeps everything across a restart', async () => {
      const a = id('restart');
      await store.create(recommendation(a));
      await store.implement(a, T0, {
        window: { from: T0 - 1, to: T0, requests: 1, pricedRequests: 1, costUsd: 1 },
        declared: null,
      });
      await store.addResult(result(`${a}-r`, a, T0 + 1));
      await store.close();
      await h.restartDatabase();
      store = await h.open();
      expect((await store.get(a))?.status).toBe('implemented');
      expect((await store.results({ recommendationId: a })).map((r) => r.id)).toEqual([`${a}-r`]);
    }, 60_000);
  });
}
