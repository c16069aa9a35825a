import { BasicTextRedactor, HOUR_MS } from '@app/common';
import { BudgetService } from '@app/ledger';
import { BufferedUsageLedger } from '../../ledger/src/buffered-usage-ledger';
import { SqliteLedgerStore } from '../../ledger/src/store/sqlite-ledger.store';
import { InMemoryMetrics } from '@app/telemetry';
import { usageRecord } from '../../../test/support/ledger-store-contract';
import { BudgetOutlook } from './budget-outlook.service';
import { type SpendForecast, SpendForecastPort } from './spend-forecast.port';

const NOON = Date.UTC(2026, 10, 28, 12, 0, 0);

/** A port answering a fixed forecast (or none), counting its calls. */
class FixedSpendForecast extends SpendForecastPort {
  calls = 0;
  constructor(private readonly answer: (hours: number) => SpendForecast | null) {
    super();
  }
  spendForecast(hours: number): Promise<SpendForecast | null> {
    this.calls += 1;
    return Promise.resolve(this.answer(hours));
  }
}

async function setup(dailyUsd: number | undefined, forecast: FixedSpendForecast) {
  const metrics = new InMemoryMetrics();
  const ledger = new BufferedUsageLedger(new SqliteLedgerStore(':memory:'), metrics, new BasicTextRedactor(), {
    flushMs: 60_000,
    retentionDays: 90,
    storePreview: false,
    now: () => NOON,
  });
  await ledger.start();
  const budget = new BudgetService(ledger, metrics, { policy: 'alert', dailyUsd, now: () => NOON });
  return { ledger, metrics, outlook: new BudgetOutlook(budget, forecast, metrics) };
}

describe('BudgetOutlook', () => {
  it('predicts a breach from the forecast read through the port, and emits the forecast gauge', async () => {
    const port = new FixedSpendForecast((hours) => ({
      hourly: new Array<number>(hours).fill(0.5),
      startHour: NOON + HOUR_MS,
      servedBy: 'ml',
    }));
    const { ledger, metrics, outlook } = await setup(10, port);
    ledger.record(usageRecord({ ts: NOON, costUsd: 4 }));
    const status = await outlook.report(NOON);
    expect(port.calls).toBe(1);
    // 4 spent + 0.5/h: crosses 10 after 12 hours, but the UTC day ends after 11 forecast hours (13:00..23:00).
    expect(status.predictedBreach).toBeNull();
    expect(status).toMatchObject({ forecast24hUsd: 12, forecastServedBy: 'ml', spentTodayUsd: 4, risk: 'low' });
    expect(metrics.named('llm.cost.forecast_24h_usd')[0]).toMatchObject({ value: 12, tags: ['kind:ml'] });

    ledger.record(usageRecord({ ts: NOON, costUsd: 1 }));
    const later = await outlook.report(NOON);
    expect(later.predictedBreach).toMatchObject({ breachAt: '2026-11-28T23:00:00.000Z', servedBy: 'ml' });
    expect(later.risk).toBe('critical');
    expect(metrics.named('llm.budget.predicted_breach').map((m) => m.value)).toEqual([0, 1]);
    await ledger.stop();
  });

  it('with no forecast (nothing served yet) reports none: no forecast gauge, no breach, the spend-only risk', async () => {
    const { ledger, metrics, outlook } = await setup(10, new FixedSpendForecast(() => null));
    ledger.record(usageRecord({ ts: NOON, costUsd: 4 }));
    const status = await outlook.report(NOON);
    expect(status).toMatchObject({ forecast24hUsd: null, forecastServedBy: null, predictedBreach: null, risk: 'low' });
    expect(metrics.named('llm.cost.forecast_24h_usd')).toHaveLength(0);
    expect(metrics.named('llm.budget.predicted_breach').map((m) => m.value)).toEqual([0]);
    await ledger.stop();
  });

  it('keeps the last forecast when the port fails, and emits no breach gauge without a budget', async () => {
    let fail = false;
    const port = new FixedSpendForecast(() => {
      if (fail) throw new Error('ledger unreachable');
      return { hourly: [1, 1], startHour: NOON + HOUR_MS, servedBy: 'ewma' };
    });
    const { ledger, metrics, outlook } = await setup(undefined, port);
    await outlook.report(NOON);
    fail = true;
    const status = await outlook.report(NOON);
    expect(status).toMatchObject({ forecast24hUsd: 2, forecastServedBy: 'ewma', predictedBreach: null, risk: 'none' });
    expect(metrics.named('llm.budget.predicted_breach')).toHaveLength(0);
    await ledger.stop();
  });
});
