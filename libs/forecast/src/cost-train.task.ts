import { DAY_MS, hourStart } from '@app/common';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { loadConfig } from '@app/config';
import { createDatadogApi } from '@app/datadog';
import {
  createLedgerStore,
  DatadogUsageMetricsSource,
  formatFromPath,
  type HourlyUsage,
  parseUsageFile,
} from '@app/ledger';
import {
  loadTfjs,
  type CostForecaster,
  trainCostForecaster,
  MAX_HORIZON,
  MIN_HISTORY,
  type HourlySeries,
  generateSyntheticUsage,
} from '@app/ml';
import { seriesFromHourly, trimLeadingEmpty } from './forecast-series';
import { COST_FORECASTER_DIR } from './forecast.service';

type Source = 'auto' | 'ledger' | 'file' | 'datadog' | 'synthetic';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Hours a training run needs: 7 days of lags, 7 days to learn from, 14 days held out, one horizon. */
export const MIN_TRAINING_HOURS = MIN_HISTORY + 7 * 24 + 14 * 24 + MAX_HORIZON;

async function fromLedger(days: number): Promise<HourlySeries> {
  const store = createLedgerStore(loadConfig());
  try {
    await store.init();
    const to = hourStart(Date.now());
    const rows = await store.hourly({ from: to - days * DAY_MS, to });
    return trimLeadingEmpty(seriesFromHourly(rows, to - days * DAY_MS, to, 'ledger'));
  } finally {
    await store.close();
  }
}

function fromRows(rows: readonly HourlyUsage[], source: string, days?: number): HourlySeries {
  if (rows.length === 0) return { start: 0, cost: [], requests: [], source };
  const last = Math.max(...rows.map((r) => r.hour)) + 1;
  const first = days ? last - days * DAY_MS : Math.min(...rows.map((r) => r.hour));
  return trimLeadingEmpty(seriesFromHourly(rows, first, last, source));
}

export async function loadTrainingSeries(source: Source, args: string[], days: number): Promise<HourlySeries> {
  switch (source) {
    case 'synthetic':
      return generateSyntheticUsage({ days, seed: Number(option(args, 'seed') ?? 42) });
    case 'ledger':
      return fromLedger(days);
    case 'file': {
      const file = option(args, 'file') ?? args.find((a) => /\.(csv|jsonl|ndjson)$/i.test(a));
      if (!file) throw new Error('--from file needs --file PATH (a .csv or .jsonl of hourly usage)');
      return fromRows(
        parseUsageFile(await readFile(file, 'utf8'), formatFromPath(file)),
        `file:${basename(file)}`,
        days,
      );
    }
    case 'datadog': {
      const config = loadConfig();
      if (!config.datadog.configured) throw new Error('--from datadog needs DD_API_KEY and DD_APP_KEY');
      const to = hourStart(Date.now());
      const rows = await new DatadogUsageMetricsSource(createDatadogApi(config), config).hourlyUsage(
        to - days * DAY_MS,
        to,
      );
      return seriesFromHourly(rows, to - days * DAY_MS, to, 'datadog');
    }
    case 'auto': {
      const ledger = await fromLedger(days);
      if (ledger.cost.length >= MIN_TRAINING_HOURS) return ledger;
      process.stderr.write(
        `ml:train cost: the ledger holds ${ledger.cost.length} hours of usage (< ${MIN_TRAINING_HOURS}); ` +
          'training on the SYNTHETIC generator instead (the card says so). Use --from ledger|file|datadog for real data.\n',
      );
      return generateSyntheticUsage({ days, seed: Number(option(args, 'seed') ?? 42) });
    }
  }
}

function progressBar(epoch: number, epochs: number, loss: number): void {
  const width = 30;
  const done = Math.round((epoch / epochs) * width);
  const bar = `${'█'.repeat(done)}${'░'.repeat(width - done)}`;
  process.stderr.write(`\r  epoch ${String(epoch).padStart(3)}/${epochs} ${bar} loss ${loss.toFixed(4)}`);
  if (epoch === epochs) process.stderr.write('\n');
}

export function metricsTable(forecaster: CostForecaster): string {
  const card = forecaster.card;
  const rows = [card.model, ...card.baselines].map((r) => {
    const tag = r.method === card.served ? ' (served)' : r.method === card.bestBaseline ? ' (best baseline)' : '';
    return `| ${`${r.method}${tag}`.padEnd(34)} | ${r.metrics.mape.toFixed(2).padStart(7)} | ${r.metrics.smape.toFixed(2).padStart(7)} | ${r.metrics.mase.toFixed(3).padStart(6)} | ${(100 * r.interval.coverage).toFixed(1).padStart(8)} |`;
  });
  return [
    `| ${'method'.padEnd(34)} | MAPE %  | sMAPE % |  MASE  | 80% cov. |`,
    `|${'-'.repeat(36)}|---------|---------|--------|----------|`,
    ...rows,
  ].join('\n');
}

/**
 * `npm run ml:train -- cost [--from auto|ledger|file|datadog|synthetic] [--file PATH] [--days N] [--epochs N]
 * [--seed N] [--models DIR] [--no-save]`: trains the 24 h cost forecaster, evaluates it and the baselines on
 * the last 14 days, prints a metrics table and writes models/cost-forecaster/{model.json,weights.bin,
 * scaler.json,card.json}. `auto` (default) uses the ledger when it holds enough history, else the synthetic
 * generator, and says which.
 */
export async function trainCostTask(args: string[]): Promise<void> {
  const source = (option(args, 'from') ?? 'auto') as Source;
  if (!['auto', 'ledger', 'file', 'datadog', 'synthetic'].includes(source)) {
    throw new Error(`--from must be auto, ledger, file, datadog or synthetic (got ${source})`);
  }
  const days = Number(option(args, 'days') ?? 90);
  if (!Number.isInteger(days) || days < 1)
    throw new Error(`--days must be a positive integer (got ${option(args, 'days')})`);
  const series = await loadTrainingSeries(source, args, days);
  if (series.cost.length < MIN_TRAINING_HOURS) {
    throw new Error(
      `${series.source}: ${series.cost.length} hours of usage; training needs at least ${MIN_TRAINING_HOURS} ` +
        `(${Math.ceil(MIN_TRAINING_HOURS / 24)} days). Import history (npm run ledger:import -- FILE) or use --from synthetic.`,
    );
  }
  const runtime = await loadTfjs();
  process.stderr.write(
    `ml:train cost: ${series.cost.length} hours from ${series.source}${series.source === 'synthetic' ? ' (SYNTHETIC data)' : ''}, backend ${runtime.backend}\n`,
  );
  const epochs = option(args, 'epochs');
  const forecaster = await trainCostForecaster(runtime, series, {
    epochs: epochs ? Number(epochs) : undefined,
    seed: option(args, 'seed') ? Number(option(args, 'seed')) : undefined,
    onEpoch: progressBar,
  });
  const card = forecaster.card;
  process.stdout.write(`\n${metricsTable(forecaster)}\n\n`);
  process.stdout.write(
    `served: ${card.served} (${card.served === 'ml' ? `beats ${card.bestBaseline}` : `the model did not beat ${card.bestBaseline}`}), ` +
      `confidence ${card.confidence.toFixed(3)}, training ${(card.trainingMs / 1000).toFixed(2)} s on ${card.trainingRows} rows, ` +
      `validation ${card.validation.from} → ${card.validation.to}\n`,
  );
  if (args.includes('--no-save')) return;
  const dir = join(option(args, 'models') ?? loadConfig().ml.modelsDir, COST_FORECASTER_DIR);
  await forecaster.save(dir);
  process.stdout.write(`saved ${dir}/{model.json,weights.bin,scaler.json,card.json}\n`);
}
