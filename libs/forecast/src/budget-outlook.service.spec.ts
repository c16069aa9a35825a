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
      confidence: 0.8,
    }));
    const { ledger, metrics, outlook } = await setup(10, port);
    ledger.record(usageRecord({ ts: NOON, costUsd: 4 }));
    const status = await outlook.report(NOON);
    expect(port.calls).toBe(1);
    // 4 spent + 0.5/h: crosses 10 after 12 hours, but the UTC day ends after 11 forecast hours (13:00..23:00).
    expect(status.predictedBreach).toBeNull();
    // The projected day, 9.5 (95 %), counts (confidence 0.8): high, as GET /forecast/cost says (it said low).
    expect(status).toMatchObject({ forecast24hUsd: 12, forecastServedBy: 'ml', spentTodayUsd: 4, risk: 'high' });
    expect(status.projectedDayUsd).toBe(9.5);
    expect(metrics.named('llm.cost.forecast_24h_usd')[0]).toMatchObject({ value: 12, tags: ['kind:ml'] });

    ledger.record(usageRecord({ ts: NOON, costUsd: 1 }));
    const later = await outlook.report(NOON);
    expect(later.predictedBreach).toMatchObject({
      breachAt: '2026-11-28T23:00:00.000Z',
      servedBy: 'ml',
      forecastConfidence: 0.8,
    });
    expect(later.risk).toBe('critical');
    expect(metrics.named('llm.budget.predicted_breach').map((m) => m.value)).toEqual([0, 1]);
    await ledger.stop();
  });

  it('a forecast without a validated confidence moves neither the risk nor the breach signal, and it says so', async () => {
    const port = new FixedSpendForecast((hours) => ({
      hourly: new Array<number>(hours).fill(0.5),
      startHour: NOON,
      servedBy: 'ewma',
      confidence: 0,
    }));
    const { ledger, metrics, outlook } = await setup(5, port);
    ledger.record(usageRecord({ ts: NOON - HOUR_MS, costUsd: 0.6 }));
    const status = await outlook.report(NOON);
    // 0.6 + 12 × 0.5 = 6.6, 132 % of the budget: not counted (confidence 0); 0.6 spent is 12 %, low.
    expect(status).toMatchObject({
      risk: 'low',
      projectedDayUsd: 6.6,
      forecastConfidence: 0,
      predictedBreach: null,
    });
    expect(status.riskBasis).toMatch(
      /^spend so far \$0\.6 of the \$5 daily budget: 12 %; the risk rests on that alone/,
    );
    expect(status.riskBasis).toContain('ewma forecast has no validated confidence (0)');
    expect(metrics.named('llm.budget.predicted_breach').map((m) => m.value)).toEqual([0]);
    await ledger.stop();
  });

  it('an exceeded budget is exceeded whatever the forecast, and no breach is predicted', async () => {
    const port = new FixedSpendForecast(() => ({ hourly: [1], startHour: NOON, servedBy: 'ml', confidence: 0.9 }));
    const { ledger, outlook } = await setup(2, port);
    ledger.record(usageRecord({ ts: NOON - HOUR_MS, costUsd: 3 }));
    const status = await outlook.report(NOON);
    expect(status).toMatchObject({ risk: 'exceeded', exceeded: true, predictedBreach: null });
    expect(status.riskBasis).toMatch(/^the budget is exceeded: spend so far \$3 of the \$2 daily budget: 150 %/);
    await ledger.stop();
  });

  it('current() reads the forecast at the given time and emits nothing', async () => {
    const port = new FixedSpendForecast((hours) => ({
      hourly: new Array<number>(hours).fill(1),
      startHour: NOON,
      servedBy: 'seasonal_naive_24',
      confidence: 0.7,
    }));
    const { ledger, metrics, outlook } = await setup(10, port);
    const status = await outlook.current(NOON);
    expect(port.calls).toBe(1);
    expect(status).toMatchObject({ risk: 'critical', projectedDayUsd: 12, forecastConfidence: 0.7 });
    expect(status.predictedBreach).toMatchObject({ breachAt: '2026-11-28T22:00:00.000Z', forecastConfidence: 0.7 });
    expect(metrics.named('llm.budget.predicted_breach')).toHaveLength(0);
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
      return { hourly: [1, 1], startHour: NOON + HOUR_MS, servedBy: 'ewma', confidence: 0.4 };
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
