import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasicTextRedactor, DAY_MS, HOUR_MS, hourStart } from '@app/common';
import { BudgetService, emptyHourly } from '@app/ledger';
import { BufferedUsageLedger } from '../../ledger/src/buffered-usage-ledger';
import { SqliteLedgerStore } from '../../ledger/src/store/sqlite-ledger.store';
import { InMemoryMetrics, ReadinessRegistry } from '@app/telemetry';
import { testConfig } from '../../../test/support/app-config';
import { ForecastService } from './forecast.service';
import { generateSyntheticUsage } from '@app/ml';

describe('ForecastService', () => {
  const models = mkdtempSync(join(tmpdir(), 'forecast-service-'));
  afterAll(() => rmSync(models, { recursive: true, force: true }));

  it('starts without artifacts (untrained baseline), retrains from the ledger in the background, then serves the new card', async () => {
    const config = testConfig({ MODELS_DIR: models, DAILY_BUDGET_USD: '50' });
    const metrics = new InMemoryMetrics();
    const ledger = new BufferedUsageLedger(new SqliteLedgerStore(':memory:'), metrics, new BasicTextRedactor(), {
      flushMs: 60_000,
      retentionDays: 365,
      storePreview: false,
    });
    await ledger.start();
    const to = hourStart(Date.now());
    const series = generateSyntheticUsage({ days: 35, seed: 11, start: to - 35 * DAY_MS });
    await ledger.importHourly(
      series.cost.map((cost, i) => ({
        ...emptyHourly(series.start + i * HOUR_MS),
        costUsd: cost,
        requests: series.requests[i]!,
      })),
    );
    const budget = new BudgetService(ledger, metrics, { policy: 'alert', dailyUsd: 50 });
    const readiness = new ReadinessRegistry();
    const service = new ForecastService(config, ledger, budget, metrics, readiness);
    await service.onModuleInit();

    const before = await service.costForecast(24);
    expect(before).toMatchObject({ servedBy: 'baseline', model: null, confidence: 0 });
    expect((await readiness.run())['cost-forecaster']!.status).toBe('degraded');

    await service.retrain();
    expect(readdirSync(join(models, 'cost-forecaster')).sort()).toEqual([
      'card.json',
      'model.json',
      'scaler.json',
      'weights.bin',
    ]);
    const after = await service.costForecast(24);
    expect(after.model).toMatchObject({ dataSource: 'ledger', synthetic: false });
    expect(after.validation).not.toBeNull();
    expect(after.confidence).toBeGreaterThan(0);
    expect((await readiness.run())['cost-forecaster']!.status).toBe('ok');

    // The budget reads the forecast through the registered source.
    const status = await budget.report();
    expect(status.forecast24hUsd).toBeCloseTo(after.totalUsd, 4);
    expect(metrics.named('llm.cost.forecast_24h_usd')).toHaveLength(1);
    service.onApplicationShutdown();
    await ledger.stop();
  });
});
