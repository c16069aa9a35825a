import type { UsageRecord } from '@app/ledger';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteLedgerStore } from '../libs/ledger/src/store/sqlite-ledger.store';
import { post } from './support/http';
import { usageRecord } from './support/ledger-store-contract';
import { ServiceProcess } from './support/service-process';

/**
 * Optimisation against the built service on a SQLite ledger: 60 calls at $0.01 in the day before implementation;
 * the service implements (baseline from the ledger), stops; 30 calls at $0.004 are written after the
 * implementation time; the service restarts (everything kept) and records the result: savings measured, ROI null
 * with its reason (zero implementation cost), then the ROI report.
 */
const env = (dataDir: string): Record<string, string> => ({
  DATA_DIR: dataDir,
  DD_TRACE_ENABLED: 'false',
  DD_DOGSTATSD_PORT: '9',
});

const calls = (from: number, n: number, cost: number, tag: string): UsageRecord[] =>
  Array.from({ length: n }, (_, i) =>
    usageRecord({ ts: from + i * 10, costUsd: cost, promptHash: `sha256:${tag}-${i}`, model: 'gemini-2.5-flash' }),
  );

async function writeLedger(dataDir: string, records: UsageRecord[]): Promise<void> {
  const store = new SqliteLedgerStore(join(dataDir, 'ledger.sqlite'));
  await store.init();
  await store.append(records);
  await store.close();
}

describe('optimisation recommendations and ROI (built service, SQLite ledger)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'optimization-e2e-'));
  let service: ServiceProcess | undefined;
  afterAll(async () => {
    await service?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('create → implement → (cost drops) → restart → record-result → roi-report; zero cost: ROI null', async () => {
    await writeLedger(dataDir, calls(Date.now() - 3_600_000, 60, 0.01, 'before'));
    service = await new ServiceProcess(env(dataDir)).start();
    const url = service.url;

    const created = await post(`${url}/optimization/recommendations`, {
      title: 'Route short prompts to flash',
      category: 'model_routing',
      description: 'cheaper model for short prompts',
      estimated_savings_per_request: 0.005,
      estimated_savings_percentage: 50,
    });
    expect(created.status).toBe(201);
    const { id, status } = (await created.json()) as { id: string; status: string };
    expect(status).toBe('pending');

    const early = await post(`${url}/optimization/recommendations/${id}/record-result`, {});
    expect(early.status).toBe(409);
    expect(early.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await early.json()).toMatchObject({ code: 'RECOMMENDATION_NOT_IMPLEMENTED' });

    const implemented = await post(`${url}/optimization/recommendations/${id}/implement`, {
      recommendation_id: id,
      baseline_metrics: { note: 'kept as sent' },
    });
    expect(implemented.status).toBe(200);
    const impl = (await implemented.json()) as { implemented_at: string; baseline: Record<string, unknown> };
    expect(impl.baseline).toMatchObject({ priced_requests: 60, cost_usd: 0.6, cost_per_request: 0.01 });
    const implementedAt = Date.parse(impl.implemented_at);
    expect((await post(`${url}/optimization/recommendations/nope/implement`, {})).status).toBe(404);

    await service.stop();
    await writeLedger(dataDir, calls(implementedAt + 1, 30, 0.004, 'after'));
    service = await new ServiceProcess(env(dataDir)).start();
    const url2 = service.url;

    const recorded = await post(`${url2}/optimization/recommendations/${id}/record-result`, { period_days: 7 });
    expect(recorded.status).toBe(200);
    const text = await recorded.text();
    expect(text).not.toMatch(/NaN|Infinity/);
    const result = JSON.parse(text) as Record<string, unknown> & { before: { end: string }; after: { start: string } };
    expect(result).toMatchObject({
      recommendation_id: id,
      before_cost: 0.3,
      after_cost: 0.12,
      actual_savings: 0.18,
      roi_percentage: null,
      roi_reason: expect.stringContaining('implementation_cost is 0'),
    });
    expect(result.before.end).toBe(result.after.start);
    expect(result.confidence_score).toBeGreaterThan(0);
    expect(result.confidence_score).toBeLessThan(1);

    const detail = (await (await fetch(`${url2}/optimization/recommendations/${id}`)).json()) as Record<
      string,
      unknown
    >;
    expect(detail).toMatchObject({
      status: 'implemented',
      total_savings: 0.18,
      baseline_metrics: { note: 'kept as sent' },
    });
    expect(detail.results).toHaveLength(1);
    const listRes = await fetch(`${url2}/optimization/recommendations`);
    // The origin's bare array; one page, so no next page in the headers.
    const list = (await listRes.json()) as { id: string }[];
    expect(list.map((e) => e.id)).toEqual([id]);
    expect(listRes.headers.get('x-next-cursor')).toBeNull();
    expect(listRes.headers.get('link')).toBeNull();

    const reportRes = await fetch(`${url2}/optimization/roi-report?days=7&category=model_routing`);
    const reportText = await reportRes.text();
    expect(reportText).not.toMatch(/NaN|Infinity/);
    expect(JSON.parse(reportText)).toMatchObject({
      total_savings: 0.18,
      roi_percentage: null,
      savings_by_category: { model_routing: 0.18 },
      results_count: 1,
    });
    // The origin's form, `?days=7&category=`: an empty category is every category.
    const all = await fetch(`${url2}/optimization/roi-report?days=7&category=`);
    expect(all.status).toBe(200);
    expect(await all.json()).toMatchObject({ category: null, results_count: 1, total_savings: 0.18 });
    const byBody = await post(`${url2}/optimization/roi-report`, { days: 7, category: 'caching' });
    expect(await byBody.json()).toMatchObject({ results_count: 0, total_savings: 0 });
  }, 90_000);

  it.each([
    [
      '/optimization/recommendations',
      {
        title: 'x',
        category: 'c',
        description: 'd',
        estimated_savings_per_request: -1,
        estimated_savings_percentage: 1,
      },
      'estimated_savings_per_request',
    ],
    ['/optimization/roi-report', { days: 0 }, 'days'],
    // A body's numbers are JSON numbers (the query form, ?days=7, is text).
    ['/optimization/roi-report', { days: '7' }, 'days'],
    ['/optimization/roi-report', { days: '1e3' }, 'days'],
    ['/optimization/recommendations/x/record-result', { before_cost: 1 }, 'before_cost'],
    ['/optimization/recommendations/x/record-result', { period_days: '7' }, 'period_days'],
  ])('%s %j: 400 naming %s', async (path, body, field) => {
    const res = await post(`${service!.url}${path}`, body);
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: { field: string }[] };
    expect(problem.errors.map((e) => e.field)).toEqual([field]);
  });

  /**
   * The list is the origin's bare array, a page at a time (`limit` 1..200, default 50): the next page's cursor is in
   * `X-Next-Cursor` and its address in `Link` (rel="next"). It answered every recommendation of the store in one body.
   */
  it('GET /optimization/recommendations is a bare array paged by X-Next-Cursor and Link; bad limit and cursor are 400 naming them', async () => {
    const url = service!.url;
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await post(`${url}/optimization/recommendations`, {
        title: `paged ${i}`,
        category: 'paging',
        description: 'd',
        estimated_savings_per_request: 0.001,
        estimated_savings_percentage: 1,
      });
      expect(res.status).toBe(201);
      created.push(((await res.json()) as { id: string }).id);
    }
    type Page = { entries: { id: string }[]; next: string | null; link: string | null };
    const page = async (query: string): Promise<Page> => {
      const res = await fetch(`${url}/optimization/recommendations?${query}`);
      expect(res.status).toBe(200);
      const entries = (await res.json()) as { id: string }[];
      expect(Array.isArray(entries)).toBe(true);
      return { entries, next: res.headers.get('x-next-cursor'), link: res.headers.get('link') };
    };
    const everything = await page('limit=200');
    expect(everything.next).toBeNull();
    const ids: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 50; pages++) {
      const answer: Page = await page(`limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(answer.entries.length).toBeLessThanOrEqual(2);
      ids.push(...answer.entries.map((e) => e.id));
      cursor = answer.next;
      if (cursor === null) {
        expect(answer.link).toBeNull();
        break;
      }
      // The Link header's address is the next page: following it gives what the cursor gives.
      expect(answer.link).toBe(`</optimization/recommendations?limit=2&cursor=${cursor}>; rel="next"`);
    }
    expect(ids).toEqual(everything.entries.map((e) => e.id));
    expect(ids).toEqual(expect.arrayContaining(created));
    expect(new Set(ids).size).toBe(ids.length);
    expect((await page('')).entries.length).toBe(Math.min(50, everything.entries.length));

    const forged = Buffer.from('r1:abc:opt-1').toString('base64url');
    const bad: [string, string][] = [
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=1.5', 'limit'],
      ['limit=ten', 'limit'],
      ['cursor=not-a-cursor!', 'cursor'],
      [`cursor=${forged}`, 'cursor'],
      [`cursor=${'x'.repeat(500)}`, 'cursor'],
      ['cursor=', 'cursor'],
    ];
    for (const [query, field] of bad) {
      const res = await fetch(`${url}/optimization/recommendations?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await res.json()) as { code: string; errors: { field: string }[] };
      expect({ query, code: problem.code, fields: problem.errors.map((e) => e.field) }).toEqual({
        query,
        code: 'VALIDATION_FAILED',
        fields: [field],
      });
    }
  });
});
