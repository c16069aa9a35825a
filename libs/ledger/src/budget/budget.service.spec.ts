import { BasicTextRedactor, DAY_MS, DomainError, HOUR_MS } from '@app/common';
import { InMemoryMetrics } from '@app/telemetry';
import { usageRecord } from '../../../../test/support/ledger-store-contract';
import { BufferedUsageLedger } from '../buffered-usage-ledger';
import { SqliteLedgerStore } from '../store/sqlite-ledger.store';
import { BudgetService, type BudgetPolicy } from './budget.service';

const NOON = Date.UTC(2026, 10, 28, 12, 0, 0);

async function setup(policy: BudgetPolicy, dailyUsd: number | undefined, now = NOON) {
  const metrics = new InMemoryMetrics();
  const store = new SqliteLedgerStore(':memory:');
  const ledger = new BufferedUsageLedger(store, metrics, new BasicTextRedactor(), {
    flushMs: 60_000,
    retentionDays: 90,
    storePreview: false,
    now: () => now,
  });
  await ledger.start();
  const budget = new BudgetService(ledger, metrics, { policy, dailyUsd, now: () => now });
  return { metrics, store, ledger, budget };
}

describe('BudgetService', () => {
  it('enforce: allows spend below the budget and refuses with 429 BUDGET_EXCEEDED exactly at it', async () => {
    const { ledger, budget, metrics } = await setup('enforce', 1);
    ledger.record(usageRecord({ ts: NOON - HOUR_MS, costUsd: 0.25 }));
    ledger.record(usageRecord({ ts: NOON - 1, costUsd: 0.74999 }));
    expect(() => budget.assertCanSpend(NOON)).not.toThrow();

    ledger.record(usageRecord({ ts: NOON, costUsd: 0.00001 })); // total exactly 1.00000
    await ledger.flush(); // also after a flush: the store's figure is the same
    let error: unknown;
    try {
      budget.assertCanSpend(NOON);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    const problem = error as DomainError;
    expect(problem.code).toBe('BUDGET_EXCEEDED');
    expect(problem.status).toBe(429);
    expect(problem.extensions).toMatchObject({ resetAt: '2026-11-29T00:00:00.000Z', dailyBudgetUsd: 1 });
    expect(problem.headers).toEqual({ 'retry-after': String(12 * 3600) });
    expect(metrics.named('llm.budget.rejected')).toHaveLength(1);
    await ledger.stop();
  });

  it("counts only today's (UTC) spend: yesterday's usage does not block, the reset is at midnight", async () => {
    const { ledger, budget } = await setup('enforce', 1);
    ledger.record(usageRecord({ ts: NOON - DAY_MS, costUsd: 5 }));
    await ledger.flush();
    expect(ledger.spendToday(NOON)).toBe(0);
    expect(() => budget.assertCanSpend(NOON)).not.toThrow();
    expect(budget.status(NOON).resetAt).toBe('2026-11-29T00:00:00.000Z');
    await ledger.stop();
  });

  it('alert: never refuses, but reports utilisation, risk and the gauges', async () => {
    const { ledger, budget, metrics } = await setup('alert', 2);
    ledger.record(usageRecord({ ts: NOON, costUsd: 1.9 }));
    expect(() => budget.assertCanSpend(NOON)).not.toThrow();
    const status = budget.report(NOON);
    expect(status).toMatchObject({ utilizationPct: 95, risk: 'high', exceeded: false, spentTodayUsd: 1.9 });
    expect(metrics.named('llm.budget.utilization')[0]).toMatchObject({ value: 95, tags: ['state:warning'] });
    expect(metrics.named('llm.budget.spend_today_usd')[0]).toMatchObject({ value: 1.9 });
    // The forecast gauges are the forecast lib's (BudgetOutlook): the ledger's budget emits none.
    expect(metrics.named('llm.cost.forecast_24h_usd')).toHaveLength(0);
    expect(metrics.named('llm.budget.predicted_breach')).toHaveLength(0);
    await ledger.stop();
  });

  it('without DAILY_BUDGET_USD, enforce is a no-op', async () => {
    const { ledger, budget } = await setup('enforce', undefined);
    ledger.record(usageRecord({ ts: NOON, costUsd: 1000 }));
    expect(() => budget.assertCanSpend(NOON)).not.toThrow();
    expect(budget.status(NOON)).toMatchObject({ dailyBudgetUsd: null, utilizationPct: null, risk: 'none' });
    await ledger.stop();
  });
});

describe('BufferedUsageLedger', () => {
  it('never throws into the caller when the store fails, keeps the batch and writes it once the store works', async () => {
    const { ledger, store, metrics } = await setup('alert', undefined);
    const append = store.append.bind(store);
    let failing = true;
    store.append = (records) => (failing ? Promise.reject(new Error('disk full')) : append(records));
    expect(() => ledger.record(usageRecord({ ts: NOON }))).not.toThrow();
    await ledger.flush();
    expect(ledger.status()).toMatchObject({ buffered: 1, written: 0, lastError: 'disk full' });
    expect(metrics.named('ledger.flush.errors')).toHaveLength(1);
    failing = false;
    await ledger.flush();
    expect(ledger.status()).toMatchObject({ buffered: 0, written: 1, lastError: null });
    expect(await store.countRecords(NOON, NOON + 1)).toBe(1);
    await ledger.stop();
  });

  it('writes a flush in chunks, serving the event loop between them, and keeps only the unwritten rest on a failure', async () => {
    const store = new SqliteLedgerStore(':memory:');
    const metrics = new InMemoryMetrics();
    const ledger = new BufferedUsageLedger(store, metrics, new BasicTextRedactor(), {
      flushMs: 60_000,
      retentionDays: 90,
      storePreview: false,
      writeChunk: 100,
      now: () => NOON,
    });
    await ledger.start();
    const append = store.append.bind(store);
    const sizes: number[] = [];
    const ranBetween: number[] = [];
    let failOn = 2;
    store.append = (records) => {
      sizes.push(records.length);
      // Something queued before the flush (a request's I/O) runs between two writes, not after all of them.
      if (sizes.length === 1) setImmediate(() => ranBetween.push(sizes.length));
      if (sizes.length === failOn) return Promise.reject(new Error('disk full'));
      return append(records);
    };
    for (let i = 0; i < 250; i++) ledger.record(usageRecord({ ts: NOON + i }));
    await ledger.flush();
    expect(sizes).toEqual([100, 100]);
    expect(ranBetween).toEqual([1]);
    expect(ledger.status()).toMatchObject({ buffered: 150, written: 100, lastError: 'disk full' });
    failOn = -1;
    await ledger.flush();
    expect(sizes).toEqual([100, 100, 100, 50]);
    expect(ledger.status()).toMatchObject({ buffered: 0, written: 250, lastError: null });
    // Every record once: the failed chunk's records were written on the retry, the first chunk's not again.
    expect(await store.countRecords(NOON, NOON + 250)).toBe(250);
    expect(metrics.named('ledger.records.written').reduce((n, m) => n + Number(m.value), 0)).toBe(250);
    await ledger.stop();
  });

  it('drops the preview unless LEDGER_STORE_PREVIEW, and redacts it when kept', async () => {
    const { ledger, store } = await setup('alert', undefined);
    ledger.record(usageRecord({ ts: NOON, preview: 'mail bob@example.com' }));
    await ledger.flush();
    expect((await store.records(NOON, NOON + 1, 10))[0]!.preview).toBeNull();
    // On the same clock as the records: on the wall clock, from 90 days after NOON (2027-02-26) the flush's
    // retention purge deleted the record it had just written.
    const keep = new BufferedUsageLedger(store, new InMemoryMetrics(), new BasicTextRedactor(), {
      flushMs: 60_000,
      retentionDays: 90,
      storePreview: true,
      now: () => NOON,
    });
    keep.record(usageRecord({ ts: NOON + 5, preview: 'mail bob@example.com' }));
    await keep.flush();
    expect((await store.records(NOON + 5, NOON + 6, 10))[0]!.preview).toBe('mail [REDACTED:EMAIL]');
    await ledger.stop();
  });

  it('zero-fills the hourly series', async () => {
    const { ledger } = await setup('alert', undefined);
    ledger.record(usageRecord({ ts: NOON + 2 * HOUR_MS + 5, costUsd: 3 }));
    await ledger.flush();
    const series = await ledger.hourlySeries(NOON, NOON + 4 * HOUR_MS);
    expect(series.map((h) => h.costUsd)).toEqual([0, 0, 3, 0]);
    await ledger.stop();
  });
});
