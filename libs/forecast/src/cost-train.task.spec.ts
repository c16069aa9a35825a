import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAY_MS, HOUR_MS, hourStart } from '@app/common';
import { createLedgerStore, emptyHourly } from '@app/ledger';
import { generateSyntheticUsage, type HourlySeries } from '@app/ml';
import { testConfig } from '../../../test/support/app-config';
import { loadTrainingSeries, MIN_TRAINING_HOURS, trainCost } from './cost-train.task';

/** "Now" of these tests; the imported usage stops six weeks before it. */
const NOW = Date.UTC(2026, 11, 6, 10, 30);
const END = hourStart(NOW) - 42 * DAY_MS;
const iso = (ms: number): string => new Date(ms).toISOString().replace(':00:00.000Z', ':00Z');

/** `days` of synthetic usage whose last hour is the one before END. */
function staleUsage(days: number): HourlySeries {
  return generateSyntheticUsage({ days, seed: 3, start: END - days * DAY_MS });
}

/** A SQLite ledger under a temp DATA_DIR holding `series`; its config. */
async function ledgerWith(series: HourlySeries, dirs: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'cost-train-'));
  dirs.push(dir);
  const config = testConfig({ DATA_DIR: dir, MODELS_DIR: dir });
  const store = createLedgerStore(config);
  await store.init();
  await store.putHourly(
    series.cost.map((cost, i) => ({
      ...emptyHourly(series.start + i * HOUR_MS),
      costUsd: cost,
      requests: series.requests[i]!,
    })),
  );
  await store.close();
  return config;
}

describe('ml:train cost on history that stops in the past', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('ledger: trains on the 49 days the data covers (1,176 h), never on zero-cost hours padded up to now, and warns naming the span and the gap', async () => {
    const data = staleUsage(49);
    const config = await ledgerWith(data, dirs);

    const series = await loadTrainingSeries('ledger', [], 90, { config, now: NOW });
    expect(series.cost).toHaveLength(49 * 24);
    expect(series.start).toBe(data.start);
    expect(series.cost.at(-1)).toBeGreaterThan(0);

    const lines: string[] = [];
    const forecaster = await trainCost(['--from', 'ledger', '--no-save', '--epochs', '2'], {
      config,
      now: NOW,
      write: (t) => lines.push(t),
      print: () => undefined,
    });
    const card = forecaster.card;
    expect(card.dataSpan).toEqual({
      from: new Date(data.start).toISOString(),
      to: new Date(END).toISOString(),
      hours: 1176,
    });
    // Padded zeros scored every method MAPE 0.00 and the card confidence 1.000: never again.
    for (const report of [card.model, ...card.baselines]) expect(report.metrics.mape).toBeGreaterThan(1);
    expect(card.confidence).toBeLessThan(0.99);
    expect(card.confidence).toBeCloseTo(
      1 -
        (card.served === 'ml' ? card.model : card.baselines.find((b) => b.method === card.served)!).metrics.mape / 100,
      6,
    );
    expect(lines.join('')).toContain(
      `WARNING ledger: usage covers ${iso(data.start)} → ${iso(END)} (1176 hours, 49.0 days), ` +
        'then none in the 1008 hours (42.0 days) up to now. Training on that span only',
    );
  });

  it('ledger: refuses a covered span shorter than MIN_TRAINING_HOURS, naming the span, the gap and the minimum', async () => {
    const config = await ledgerWith(staleUsage(20), dirs);
    const run = trainCost(['--from', 'ledger', '--no-save', '--epochs', '1'], {
      config,
      now: NOW,
      write: () => undefined,
      print: () => undefined,
    });
    await expect(run).rejects.toThrow(
      `ledger: usage covers ${iso(END - 20 * DAY_MS)} → ${iso(END)} (480 hours, 20.0 days), then none in the 1008 ` +
        `hours (42.0 days) up to now; training needs at least ${MIN_TRAINING_HOURS} hours (MIN_TRAINING_HOURS, 29 days)`,
    );

    // auto falls back to the synthetic generator, and says what the ledger covers.
    const lines: string[] = [];
    const auto = await loadTrainingSeries('auto', [], 30, { config, now: NOW, write: (t) => lines.push(t) });
    expect(auto.source).toBe('synthetic');
    // Up to NOW's hour, not the wall clock's: the same series whenever the test runs.
    expect(auto.start + auto.cost.length * HOUR_MS).toBe(hourStart(NOW));
    expect(lines.join('')).toMatch(
      /the ledger's usage covers .* \(480 hours, 20\.0 days\), then none in the 1008 hours .* \(< 696 hours\); training on the SYNTHETIC/,
    );
  });

  it("synthetic: the generator's usage up to the hour of the now given, seeded by --seed", async () => {
    // The generator's cycles follow the hours' UTC clock: the series ended at the wall clock's hour whatever `now` was
    // given, so the model trained on it, and its card, moved with the hour the training ran.
    const series = await loadTrainingSeries('synthetic', ['--seed', '7'], 30, { now: NOW });
    expect(series).toEqual(generateSyntheticUsage({ days: 30, seed: 7, start: hourStart(NOW) - 30 * DAY_MS }));
  });

  it('file: an hour_start CSV whose last rows cost $0 trains on the hours with usage only', async () => {
    const data = staleUsage(49);
    const dir = mkdtempSync(join(tmpdir(), 'cost-train-'));
    dirs.push(dir);
    const file = join(dir, 'usage.csv');
    const rows = data.cost.map(
      (c, i) => `${new Date(data.start + i * HOUR_MS).toISOString()},${c},${data.requests[i]}`,
    );
    for (let i = 0; i < 48; i++) rows.push(`${new Date(END + i * HOUR_MS).toISOString()},0,0`);
    writeFileSync(file, ['hour_start,cost_usd,requests', ...rows].join('\n'));

    const series = await loadTrainingSeries('file', ['--file', file], 90, { now: NOW });
    expect(series).toMatchObject({ start: data.start, source: 'file:usage.csv' });
    expect(series.cost).toHaveLength(1176);
  });
});
