import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasicTextRedactor, HOUR_MS, hourStart, utcDayStart } from '@app/common';
import { BudgetService, emptyHourly } from '@app/ledger';
import { BufferedUsageLedger } from '../../ledger/src/buffered-usage-ledger';
import { SqliteLedgerStore } from '../../ledger/src/store/sqlite-ledger.store';
import { generateSyntheticUsage, MIN_HISTORY } from '@app/ml';
import { InMemoryMetrics, ReadinessRegistry } from '@app/telemetry';
import { testConfig } from '../../../test/support/app-config';
import { usageRecord } from '../../../test/support/ledger-store-contract';
import { BudgetOutlook } from './budget-outlook.service';
import { ForecastService } from './forecast.service';

/** The committed artifacts: a card that promoted the model (`served: ml`). */
const COMMITTED_MODELS = join(__dirname, '..', '..', '..', 'models');

/**
 * The clock of the tests below. What they check moves with the hour and weekday the history ends on (the synthetic
 * usage has a daily and a weekly cycle): on a history ending at the clock's hour, the 30 h backtest scored EWMA's
 * confidence 0 at 8 of a week's 168 hours, all on a Saturday, so a test that read `Date.now()` passed or failed
 * with the hour CI ran it. A Saturday at 14:30 UTC, as the budget tests' clock.
 */
const NOW = Date.UTC(2026, 10, 28, 14, 30);

/**
 * A ForecastService over an in-memory ledger holding `hours` of synthetic usage that ends at `end`'s hour; the ledger's
 * and the budget's clock is `clock` (by default `end`).
 */
async function serviceWithHistory(
  hours: number,
  end: number,
  env: Record<string, string> = {},
  scale = 1,
  clock = end,
) {
  const config = testConfig({ MODELS_DIR: COMMITTED_MODELS, DAILY_BUDGET_USD: '50', ...env });
  const metrics = new InMemoryMetrics();
  const ledger = new BufferedUsageLedger(new SqliteLedgerStore(':memory:'), metrics, new BasicTextRedactor(), {
    flushMs: 60_000,
    retentionDays: 365,
    storePreview: false,
    now: () => clock,
  });
  await ledger.start();
  if (hours > 0) {
    const series = generateSyntheticUsage({ days: hours / 24, seed: 11, start: hourStart(end) - hours * HOUR_MS });
    await ledger.importHourly(
      series.cost.map((cost, i) => ({
        ...emptyHourly(series.start + i * HOUR_MS),
        costUsd: cost * scale,
        requests: series.requests[i]!,
      })),
    );
  }
  const budget = new BudgetService(ledger, metrics, { policy: 'alert', dailyUsd: 50, now: () => clock });
  const readiness = new ReadinessRegistry();
  const service = new ForecastService(config, ledger, budget, metrics, readiness);
  await service.onModuleInit();
  const close = async (): Promise<void> => {
    service.onApplicationShutdown();
    await ledger.stop();
  };
  return { service, ledger, budget, metrics, readiness, close };
}

describe('ForecastService: what serves with how much history (committed card: served ml)', () => {
  const now = NOW;

  it('0 h (a fresh start): no forecast, method none, confidence 0, no interval, and the budget outlook has none', async () => {
    const { service, budget, metrics, close } = await serviceWithHistory(0, now);
    const body = await service.costForecast(24, now);
    expect(body).toMatchObject({
      method: 'none',
      servedBy: 'none',
      confidence: 0,
      validation: null,
      historyHours: 0,
      hourly: [],
      totalUsd: null,
      totalLowerUsd: null,
      totalUpperUsd: null,
      peakHour: null,
    });
    expect(body.model).toMatchObject({ bestBaseline: expect.any(String) }); // the card is loaded, yet not claimed
    expect(body.reason).toMatch(/no usage in the ledger yet/);
    expect(body).toMatchObject({ lastObservedHour: null, staleHours: null, stale: false });
    expect(body.budget).toMatchObject({ forecastUtilizationPct: null, projectedTodayPct: null, risk: 'low' });

    expect(await service.spendForecast(24, now)).toBeNull();
    const outlook = await new BudgetOutlook(budget, service, metrics).report(now);
    expect(outlook).toMatchObject({ forecast24hUsd: null, forecastServedBy: null, predictedBreach: null });
    expect(metrics.named('llm.cost.forecast_24h_usd')).toHaveLength(0);
    expect(metrics.named('llm.budget.predicted_breach').map((m) => m.value)).toEqual([0]);
    await close();
  });

  it('usage only in the current hour: no forecast yet, and the reason says so (not "no usage in the ledger yet")', async () => {
    const { service, ledger, close } = await serviceWithHistory(0, now);
    for (let i = 0; i < 3; i++) ledger.record(usageRecord({ ts: hourStart(now) + i, costUsd: 0.01 }));
    await ledger.flush();
    const body = await service.costForecast(24, now);
    expect(body).toMatchObject({ method: 'none', historyHours: 0, lastObservedHour: null, hourly: [] });
    expect(body.budget.spentTodayUsd).toBeCloseTo(0.03, 6);
    expect(body.reason).not.toMatch(/no usage in the ledger yet/);
    expect(body.reason).toMatch(
      /^less than one complete hour of usage history, so no forecast yet: the ledger's recent usage is all in the current hour \(\$0\.03 spent and 3 calls recorded since /,
    );
    await close();
  });

  it('tiny spend (a cheap model, a few calls an hour) keeps its digits: USD to 6 significant digits, not 6 decimals', async () => {
    // The synthetic usage scaled to about $0.000005 an hour. Before, every hour read 2e-06 … 9e-06 (one digit), and
    // its interval bounds collapsed onto the point.
    const { service, close } = await serviceWithHistory(21 * 24, now, {}, 1e-5);
    const body = await service.costForecast(24, now);
    expect(body.hourly).toHaveLength(24);
    const digits = (x: number) => String(x).replace(/^0\.0*|e.*$|\./g, '').length;
    for (const h of body.hourly) {
      expect(h.costUsd).toBeGreaterThan(0);
      expect(h.costUsd).toBeLessThan(1e-4);
      expect(h.costUsd).toBe(Number(h.costUsd.toPrecision(6))); // at most 6 significant digits
      expect(h.lowerUsd!).toBeLessThan(h.costUsd);
      expect(h.upperUsd!).toBeGreaterThan(h.costUsd);
    }
    // Rounded to 6 significant digits, an hour shows 3 or fewer only when its 4th to 6th digits happen to be zero
    // (about 1 in 1,000 hours; at NOW, none). Before, every hour had one digit.
    expect(body.hourly.filter((h) => digits(h.costUsd) <= 3)).toEqual([]);
    const total = body.hourly.reduce((sum, h) => sum + h.costUsd, 0);
    expect(body.totalUsd!).toBeCloseTo(total, 9);
    await close();
  });

  it('5 h: EWMA, too short to backtest: confidence 0 and no interval, and it says why', async () => {
    const { service, close } = await serviceWithHistory(5, now);
    const body = await service.costForecast(24, now);
    expect(body).toMatchObject({
      method: 'ewma',
      servedBy: 'baseline',
      confidence: 0,
      validation: null,
      historyHours: 5,
      totalLowerUsd: null,
      totalUpperUsd: null,
    });
    expect(body.reason).toMatch(/^5 hours of history, the model needs 168; serving ewma .*too few to backtest/);
    expect(body.hourly).toHaveLength(24);
    for (const h of body.hourly)
      expect(h).toMatchObject({ costUsd: expect.any(Number), lowerUsd: null, upperUsd: null });
    expect(body.totalUsd).toBeGreaterThan(0);
    await close();
  });

  it('30 h: the baseline a backtest on those 30 h favours (EWMA: t−24 has 6 target hours), its confidence and interval', async () => {
    const { service, close } = await serviceWithHistory(30, now);
    const body = await service.costForecast(24, now);
    expect(body).toMatchObject({ method: 'ewma', servedBy: 'baseline', historyHours: 30 });
    expect(body.validation).toMatchObject({ basis: 'backtest', mase: expect.any(Number) });
    expect(body.validation!.samples).toBeGreaterThan(0);
    expect(body.confidence).toBeCloseTo(Math.max(0, 1 - body.validation!.mape / 100), 3);
    expect(body.confidence).toBeGreaterThan(0);
    expect(body.confidence).not.toBeCloseTo(0.906, 2); // not the card's (the model's) confidence
    expect(body.reason).toMatch(
      /^30 hours of history, the model needs 168; serving ewma, the lowest error in a backtest/,
    );
    expect(body.reason).toMatch(/seasonal_naive_24 too short to backtest/);
    for (const h of body.hourly) {
      expect(h.lowerUsd!).toBeLessThanOrEqual(h.costUsd);
      expect(h.upperUsd!).toBeGreaterThanOrEqual(h.costUsd);
    }
    await close();
  });

  it('100 h: seasonal naive t−24 beats EWMA in the backtest on this history, and serves with that confidence', async () => {
    const { service, close } = await serviceWithHistory(100, now);
    const body = await service.costForecast(24, now);
    expect(body).toMatchObject({ method: 'seasonal_naive_24', servedBy: 'baseline', historyHours: 100 });
    expect(body.validation).toMatchObject({ basis: 'backtest' });
    expect(body.confidence).toBeCloseTo(1 - body.validation!.mape / 100, 3);
    expect(body.reason).toMatch(/serving seasonal_naive_24, the lowest error in a backtest on the 100 hours .*ewma/);
    expect(body.totalLowerUsd!).toBeLessThanOrEqual(body.totalUsd!);
    await close();
  });

  it(`≥ ${MIN_HISTORY} h: what forecast this history best in a backtest on it, with that backtest's validation`, async () => {
    const { service, readiness, close } = await serviceWithHistory(200, now);
    const body = await service.costForecast(24, now);
    expect(body).toMatchObject({ historyHours: 200 });
    expect(body).toMatchObject({
      lastObservedHour: new Date(hourStart(now) - HOUR_MS).toISOString(),
      staleHours: 0,
      stale: false,
    });
    // Never the card's held-out validation (synthetic data) as the confidence of a forecast of this ledger.
    expect(body.validation).toMatchObject({ basis: 'backtest' });
    expect(body.confidence).toBeCloseTo(1 - body.validation!.mape / 100, 3);
    expect(body.reason).toMatch(/serves, the lowest error in a backtest on this history \(\d+ forecasts from its last/);
    expect(body.reason).toMatch(/the card's validation \(on its synthetic training data, synthetic\) chose the model$/);
    expect((await readiness.run())['cost-forecaster']).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/^card serves ml/),
    });
    await close();
  });
});

describe('ForecastService: one computation per ledger history', () => {
  /** Forecasts computed: `ml.cost_forecast.latency_ms` is recorded for each one. */
  const computed = (metrics: InMemoryMetrics): number => metrics.named('ml.cost_forecast.latency_ms').length;
  const empty = mkdtempSync(join(tmpdir(), 'forecast-cache-'));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  for (const [what, env] of [
    ['a baseline (100 h)', {}],
    ['no artifacts (100 h)', { MODELS_DIR: empty }],
  ] as const) {
    it(`${what}: reused while the hourly history is the same; recomputed when an hour closes or an import lands`, async () => {
      const now = NOW;
      const { service, ledger, budget, metrics, close } = await serviceWithHistory(100, now, env);
      const first = await service.costForecast(24, now);
      const outlook = new BudgetOutlook(budget, service, metrics);
      for (let i = 0; i < 5; i++) {
        expect(await service.costForecast(i % 2 ? 6 : 24, now + i * 60_000)).toMatchObject({
          method: first.method,
          confidence: first.confidence,
        });
        await outlook.report(now + i * 60_000);
      }
      // Before, every request and every outlook refresh backtested the history again (11 here).
      expect(computed(metrics)).toBe(1);

      // An import changes an hour of the history: computed again, from the new amounts.
      const lastHour = hourStart(now) - HOUR_MS;
      await ledger.importHourly([{ ...emptyHourly(lastHour), costUsd: 5, requests: 10 }]);
      const imported = await service.costForecast(24, now);
      expect(computed(metrics)).toBe(2);
      expect(imported.totalUsd).not.toBe(first.totalUsd);
      await service.costForecast(24, now);
      expect(computed(metrics)).toBe(2);

      // The next hour closes: one more hour of history, computed again once.
      const next = now + HOUR_MS;
      expect((await service.costForecast(24, next)).historyHours).toBe(101);
      await service.costForecast(24, next + 60_000);
      expect(computed(metrics)).toBe(3);
      await close();
    });
  }
});

describe('ForecastService on a ledger whose usage stops in the past (committed card: served ml)', () => {
  const now = NOW;

  it("usage up to 3 days ago: the forecast says how stale its input is, with confidence 0 and no interval, not the card's", async () => {
    // 200 h of usage ending 72 h before now's hour: the served input ends in 72 hours without usage.
    const { service, close } = await serviceWithHistory(200, now - 72 * HOUR_MS, {}, 1, now);
    const body = await service.costForecast(24, now);
    expect(body).toMatchObject({
      method: 'ml',
      historyHours: 272,
      lastObservedHour: new Date(hourStart(now) - 73 * HOUR_MS).toISOString(),
      staleHours: 72,
      stale: true,
      confidence: 0,
      totalLowerUsd: null,
      totalUpperUsd: null,
      validation: { basis: 'backtest' }, // the method's error on this history, still reported
    });
    expect(body.reason).toMatch(
      /^stale input: no usage in the last 72 hours \(the last was in the hour of .*\); ml forecasts from them as hours that cost \$0, without its validated confidence or interval \(confidence 0\)\. the model serves, the lowest error/,
    );
    for (const h of body.hourly) expect(h).toMatchObject({ lowerUsd: null, upperUsd: null });
    await close();
  });

  it('usage resumed in the current hour after 3 days without: the reason says the gap is before it, not "no usage in the last 72 hours"', async () => {
    const { service, ledger, close } = await serviceWithHistory(200, now - 72 * HOUR_MS, {}, 1, now);
    for (let i = 0; i < 20; i++) ledger.record(usageRecord({ ts: hourStart(now) + i, costUsd: 0.001 }));
    await ledger.flush();
    const body = await service.costForecast(24, now);
    // The current hour is not history yet: the input is still stale, with confidence 0.
    expect(body).toMatchObject({ method: 'ml', staleHours: 72, stale: true, confidence: 0 });
    expect(body.budget.spentTodayUsd).toBeGreaterThanOrEqual(0.02 - 1e-9);
    expect(body.reason).not.toMatch(/no usage in the last 72 hours/);
    expect(body.reason).toMatch(
      /^stale input: no usage in the 72 complete hours before the current one \(the last was in the hour of .*; the current hour has 20 calls and \$0\.02 so far, history once it is complete\); ml forecasts from them/,
    );
    await close();
  });

  it('49 days of usage ending 6 weeks ago: no forecast, and it names the last hour with usage and the gap (not "no usage yet")', async () => {
    const { service, close } = await serviceWithHistory(49 * 24, now - 42 * 24 * HOUR_MS, {}, 1, now);
    const body = await service.costForecast(24, now);
    expect(body).toMatchObject({
      method: 'none',
      servedBy: 'none',
      historyHours: 0,
      hourly: [],
      confidence: 0,
      lastObservedHour: new Date(hourStart(now) - 1009 * HOUR_MS).toISOString(),
      staleHours: 1008,
      stale: true,
    });
    expect(body.reason).toMatch(
      /^stale input: no usage in the ledger's last 21 days, so no forecast \(the last was in the hour of .*, 1008 hours without usage since/,
    );
    expect(body.reason).not.toMatch(/no usage in the ledger yet/);
    await close();
  });
});

describe('ForecastService without artifacts', () => {
  const models = mkdtempSync(join(tmpdir(), 'forecast-service-'));
  afterAll(() => rmSync(models, { recursive: true, force: true }));

  it('serves a backtested baseline, retrains from the ledger in the background, then serves the new card', async () => {
    const now = NOW;
    const { service, budget, metrics, readiness, close } = await serviceWithHistory(35 * 24, now, {
      MODELS_DIR: models,
    });

    const before = await service.costForecast(24, now);
    expect(before).toMatchObject({ servedBy: 'baseline', model: null, validation: { basis: 'backtest' } });
    expect(before.confidence).toBeCloseTo(1 - before.validation!.mape / 100, 3);
    expect(before.reason).toMatch(/^no trained artifacts under .*; serving \w+, the lowest error in a backtest/);
    expect((await readiness.run())['cost-forecaster']!.status).toBe('degraded');

    await service.retrain(now);
    expect(readdirSync(join(models, 'cost-forecaster')).sort()).toEqual([
      'card.json',
      'model.json',
      'scaler.json',
      'weights.bin',
    ]);
    const after = await service.costForecast(24, now);
    expect(after.model).toMatchObject({ dataSource: 'ledger', synthetic: false });
    expect(after.validation).toMatchObject({ basis: 'backtest' });
    expect(after.confidence).toBeGreaterThan(0);
    expect((await readiness.run())['cost-forecaster']!.status).toBe('ok');

    // The budget outlook reads the forecast through SpendForecastPort (ForecastService implements it).
    const status = await new BudgetOutlook(budget, service, metrics).report(now);
    expect(status.forecast24hUsd).toBeCloseTo(after.totalUsd!, 4);
    expect(status.forecastServedBy).toBe(after.method);
    expect(metrics.named('llm.cost.forecast_24h_usd')).toHaveLength(1);
    await close();
  });

  it('retrains on the span a stale ledger covers, never on zero-cost hours padded up to now', async () => {
    const now = NOW;
    const dir = mkdtempSync(join(tmpdir(), 'forecast-service-'));
    // 30 days of usage ending 10 days ago.
    const { service, close } = await serviceWithHistory(30 * 24, now - 10 * 24 * HOUR_MS, { MODELS_DIR: dir }, 1, now);
    await service.retrain(now);
    const body = await service.costForecast(24, now);
    expect(body.model).toMatchObject({ dataSource: 'ledger' });
    expect(body.model!.modelMape).toBeGreaterThan(1); // padded zeros scored 0.00
    expect(body.model!.bestBaselineMape).toBeGreaterThan(1);
    expect(body).toMatchObject({ staleHours: 240, stale: true, confidence: 0 });
    await close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('ForecastService: the budget risk, judged as the budget outlook judges it (sweep 2, D10)', () => {
  /** A ForecastService and a BudgetOutlook over one ledger whose clock is NOW, holding the given hourly costs. */
  async function at(hours: { hour: number; costUsd: number; requests: number }[], dailyUsd: number) {
    const metrics = new InMemoryMetrics();
    const ledger = new BufferedUsageLedger(new SqliteLedgerStore(':memory:'), metrics, new BasicTextRedactor(), {
      flushMs: 60_000,
      retentionDays: 365,
      storePreview: false,
      now: () => NOW,
    });
    await ledger.start();
    await ledger.importHourly(hours.map((h) => ({ ...emptyHourly(h.hour), costUsd: h.costUsd, requests: h.requests })));
    await ledger.flush();
    const budget = new BudgetService(ledger, metrics, { policy: 'alert', dailyUsd, now: () => NOW });
    const config = testConfig({ MODELS_DIR: COMMITTED_MODELS, DAILY_BUDGET_USD: String(dailyUsd) });
    const service = new ForecastService(config, ledger, budget, metrics, new ReadinessRegistry());
    await service.onModuleInit();
    const outlook = new BudgetOutlook(budget, service, metrics);
    const close = async (): Promise<void> => {
      service.onApplicationShutdown();
      await ledger.stop();
    };
    return { service, outlook, close };
  }

  it('2 h of history (EWMA, confidence 0): the risk rests on the spend so far and says so, not "critical" from the forecast', async () => {
    const today = hourStart(NOW);
    const { service, outlook, close } = await at(
      [
        { hour: today - 2 * HOUR_MS, costUsd: 0.3, requests: 300 },
        { hour: today - HOUR_MS, costUsd: 0.3, requests: 300 },
      ],
      5,
    );
    const body = await service.costForecast(24, NOW);
    expect(body).toMatchObject({ method: 'ewma', confidence: 0 });
    expect(body.budget).toMatchObject({
      spentTodayUsd: 0.6,
      projectedTodayPct: 69, // 0.6 + half of 14:00 + 15:00..23:00 at $0.3
      forecastUtilizationPct: 144,
      risk: 'low', // was critical: the max of both, with no regard for the confidence
    });
    expect(body.budget.riskBasis).toMatch(
      /^spend so far \$0\.6 of the \$5 daily budget: 12 %; the risk rests on that alone/,
    );
    const outlookStatus = await outlook.current(NOW);
    expect(outlookStatus).toMatchObject({ risk: 'low', riskBasis: body.budget.riskBasis, predictedBreach: null });
    await close();
  });

  it('a launch 10 hours ago (×4 on three weeks of business-hours spend): the forecast follows the new level, and the breach it makes is critical, not medium', async () => {
    // Hourly spend with a business-hours peak, low weekends and noise; ×4 from 04:00 today (NOW is 14:30).
    const launch = hourStart(NOW) - 10 * HOUR_MS;
    const from = hourStart(NOW) - 21 * 24 * HOUR_MS;
    const level = (t: number): number => {
      const d = new Date(t);
      const daily = 0.3 + 0.7 * Math.max(0, Math.sin((Math.PI * (d.getUTCHours() - 7)) / 12));
      const weekly = d.getUTCDay() === 0 || d.getUTCDay() === 6 ? 0.5 : 1;
      return 0.6 * daily * weekly * (t >= launch ? 4 : 1);
    };
    const hours = Array.from({ length: 21 * 24 }, (_, i) => {
      const hour = from + i * HOUR_MS;
      const costUsd = level(hour) * (1 + 0.1 * Math.sin(i * 2.7)); // ±10 %, deterministic
      return { hour, costUsd, requests: Math.round(costUsd * 400) };
    });
    const spent = hours.filter((h) => h.hour >= utcDayStart(NOW)).reduce((sum, h) => sum + h.costUsd, 0);
    // The rest of the day at the new level, and at the old one (what a forecast from the week before gives).
    let restNew = 0;
    let restOld = 0;
    for (let t = hourStart(NOW); t < utcDayStart(NOW) + 24 * HOUR_MS; t += HOUR_MS) {
      const share = t === hourStart(NOW) ? 0.5 : 1;
      restNew += share * level(t);
      restOld += (share * level(t)) / 4;
    }
    // A budget the new level breaches today, and the old level would have left at 70–90 % (medium).
    const dailyUsd = (spent + restOld) / 0.75;
    expect(spent + restNew).toBeGreaterThan(1.05 * dailyUsd);

    const { service, outlook, close } = await at(hours, dailyUsd);
    const body = await service.costForecast(24, NOW);
    // The next 24 h at the new level (within 20 %), not a quarter of it.
    let next24 = 0;
    for (let i = 0; i < 24; i++) next24 += level(hourStart(NOW) + i * HOUR_MS);
    expect(body.totalUsd! / next24).toBeGreaterThan(0.8);
    expect(body.totalUsd! / next24).toBeLessThan(1.2);
    expect(body.confidence).toBeGreaterThan(0);
    expect(body.budget.risk).toBe('critical'); // was medium: spend so far plus a quarter of the new level
    expect(body.reason).toMatch(/; level shift: the 10 hours from .* cost ×[\d.]+ the same hours a week before/);
    expect(body.budget.projectedTodayPct!).toBeGreaterThan(100);
    const status = await outlook.current(NOW);
    expect(status).toMatchObject({ risk: 'critical', riskBasis: body.budget.riskBasis });
    expect(status.predictedBreach).toMatchObject({ servedBy: body.method, forecastConfidence: body.confidence });
    await close();
  });

  it('100 h of history (a backtested baseline): the projection counts, and /forecast/cost and the outlook agree', async () => {
    const series = generateSyntheticUsage({ days: 100 / 24, seed: 11, start: hourStart(NOW) - 100 * HOUR_MS });
    const hours = series.cost.map((costUsd, i) => ({
      hour: series.start + i * HOUR_MS,
      costUsd,
      requests: series.requests[i]!,
    }));
    const loose = await at(hours, 1e6);
    const wide = await loose.service.costForecast(24, NOW);
    const projectedUsd = (await loose.outlook.current(NOW)).projectedDayUsd!;
    await loose.close();
    expect(wide.confidence).toBeGreaterThan(0);
    expect(wide.budget.risk).toBe('low');
    expect(projectedUsd).toBeGreaterThan(wide.budget.spentTodayUsd);

    // A budget between the spend so far and the projected day: a breach is predicted, by both.
    const { service, outlook, close } = await at(hours, (wide.budget.spentTodayUsd + projectedUsd) / 2);
    const body = await service.costForecast(24, NOW);
    expect(body.budget.risk).toBe('critical');
    expect(body.budget.riskBasis).toContain(`forecast confidence ${body.confidence}`);
    const status = await outlook.current(NOW);
    expect(status).toMatchObject({ risk: body.budget.risk, riskBasis: body.budget.riskBasis });
    expect(status.predictedBreach).toMatchObject({ servedBy: body.method, forecastConfidence: body.confidence });
    // A shorter horizon serves fewer hours, but judges the same day.
    expect((await service.costForecast(3, NOW)).budget).toMatchObject({
      risk: 'critical',
      projectedTodayPct: body.budget.projectedTodayPct,
      riskBasis: body.budget.riskBasis,
    });
    await close();
  });
});

describe('ForecastService retraining schedule (FORECAST_RETRAIN_HOURS)', () => {
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it.each([24, 600, 720])(
    'retrains every %i h, not sooner (a timer past 24.8 days fired every millisecond)',
    async (hours) => {
      jest.useFakeTimers({ now: Date.UTC(2026, 11, 7, 12) });
      // Neither the artifacts nor the training matter here: only when retrain() is called.
      jest.spyOn(ForecastService.prototype, 'reload').mockResolvedValue();
      const retrain = jest.spyOn(ForecastService.prototype, 'retrain').mockResolvedValue();
      const config = testConfig({ FORECAST_RETRAIN_HOURS: String(hours) });
      const metrics = new InMemoryMetrics();
      const service = new ForecastService(config, {} as never, {} as never, metrics, new ReadinessRegistry());
      await service.onModuleInit();
      try {
        // A second first: the overflowed timer had fired a thousand times by then.
        jest.advanceTimersByTime(1000);
        expect(retrain).toHaveBeenCalledTimes(0);
        jest.advanceTimersByTime(hours * HOUR_MS - 2000);
        expect(retrain).toHaveBeenCalledTimes(0);
        jest.advanceTimersByTime(1000);
        expect(retrain).toHaveBeenCalledTimes(1);
        jest.advanceTimersByTime(hours * HOUR_MS);
        expect(retrain).toHaveBeenCalledTimes(2);
      } finally {
        service.onApplicationShutdown();
      }
    },
  );
});
