import { DAY_MS, HOUR_MS, hourStart } from '@app/common';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type AppConfig, loadConfig } from '@app/config';
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
import {
  describeCoverage,
  lastHourWithUsage,
  seriesFromHourly,
  STALE_AFTER_HOURS,
  trimEmptyEnds,
} from './forecast-series';
import { COST_FORECASTER_DIR } from './forecast.service';

type Source = 'auto' | 'ledger' | 'file' | 'datadog' | 'synthetic';

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Hours a training run needs: 7 days of lags, 7 days to learn from, 14 days held out, one horizon. */
export const MIN_TRAINING_HOURS = MIN_HISTORY + 7 * 24 + 14 * 24 + MAX_HORIZON;

/** What a training run reads besides its arguments (tests pass their own; the CLI the environment's). */
export interface TrainingContext {
  config?: AppConfig;
  /** Epoch ms of "now" (default Date.now()). */
  now?: number;
  /** Where progress and warnings go (default stderr). */
  write?: (text: string) => void;
  /** Where the metrics table goes (default stdout). */
  print?: (text: string) => void;
}

/**
 * The ledger's usage: the `days` days up to its last hour with usage (not up to now: the hours after a ledger's
 * last usage, e.g. an import that stops weeks ago, are a gap, not hours that cost $0), without the empty hours
 * at either end.
 */
async function fromLedger(days: number, config: AppConfig, now: number): Promise<HourlySeries> {
  const store = createLedgerStore(config);
  try {
    await store.init();
    const to = hourStart(now);
    const rows = await store.hourly({ from: 0, to });
    const last = lastHourWithUsage(rows);
    if (last === null) return { start: to, cost: [], requests: [], source: 'ledger' };
    const end = last + HOUR_MS;
    return trimEmptyEnds(seriesFromHourly(rows, end - days * DAY_MS, end, 'ledger'));
  } finally {
    await store.close();
  }
}

/** A file's usage: the `days` days up to its last hour with usage, without the empty hours at either end. */
function fromRows(rows: readonly HourlyUsage[], source: string, days?: number): HourlySeries {
  const last = lastHourWithUsage(rows);
  if (last === null) return { start: 0, cost: [], requests: [], source };
  const end = last + HOUR_MS;
  const first = days ? end - days * DAY_MS : Math.min(...rows.map((r) => r.hour));
  return trimEmptyEnds(seriesFromHourly(rows, first, end, source));
}

/**
 * The training series of a source. Real sources (ledger, file, Datadog) give the span their data covers: the
 * hours before the first usage and after the last are trimmed (never trained on as $0 hours); `trainCost` names
 * that span, and the gap from its end to now.
 */
export async function loadTrainingSeries(
  source: Source,
  args: string[],
  days: number,
  context: TrainingContext = {},
): Promise<HourlySeries> {
  const now = context.now ?? Date.now();
  const write = context.write ?? ((text: string) => process.stderr.write(text));
  switch (source) {
    case 'synthetic':
      return synthetic(days, args, now);
    case 'ledger':
      return fromLedger(days, context.config ?? loadConfig(), now);
    case 'file': {
      const file = option(args, 'file') ?? args.find((a) => /\.(csv|jsonl|ndjson)$/i.test(a));
      if (!file) throw new Error('--from file needs --file PATH (a .csv or .jsonl of hourly usage)');
      const rows = parseUsageFile(await readFile(file, 'utf8'), formatFromPath(file), (warning) =>
        write(`ml:train cost: ${file}: ${warning}\n`),
      );
      return fromRows(rows, `file:${basename(file)}`, days);
    }
    case 'datadog': {
      const config = context.config ?? loadConfig();
      if (!config.datadog.configured) throw new Error('--from datadog needs DD_API_KEY and DD_APP_KEY');
      const to = hourStart(now);
      const rows = await new DatadogUsageMetricsSource(createDatadogApi(config), config).hourlyUsage(
        to - days * DAY_MS,
        to,
      );
      return trimEmptyEnds(seriesFromHourly(rows, to - days * DAY_MS, to, 'datadog'));
    }
    case 'auto': {
      const ledger = await fromLedger(days, context.config ?? loadConfig(), now);
      if (ledger.cost.length >= MIN_TRAINING_HOURS) return ledger;
      write(
        `ml:train cost: the ledger's ${describeCoverage(ledger, now).text} (< ${MIN_TRAINING_HOURS} hours); ` +
          'training on the SYNTHETIC generator instead (the card says so). Use --from ledger|file|datadog for real data.\n',
      );
      return synthetic(days, args, now);
    }
  }
}

/**
 * `days` of the synthetic generator's usage up to `now`'s hour. Its daily and weekly cycles follow the hours' UTC
 * clock: left to its own default (the wall clock), a `now` given was ignored, and the series, so the trained model and
 * its card, moved with the hour the training ran.
 */
function synthetic(days: number, args: string[], now: number): HourlySeries {
  return generateSyntheticUsage({
    days,
    seed: Number(option(args, 'seed') ?? 42),
    start: hourStart(now) - days * DAY_MS,
  });
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
  await trainCost(args);
}

/**
 * `trainCostTask`, returning the trained forecaster. Real data is trained on the span it covers: too short a span
 * is refused (naming it, the gap to now and MIN_TRAINING_HOURS); a span that ends STALE_AFTER_HOURS or more
 * before now is trained on with a warning naming the span and the gap.
 */
export async function trainCost(args: string[], context: TrainingContext = {}): Promise<CostForecaster> {
  const now = context.now ?? Date.now();
  const write = context.write ?? ((text: string) => process.stderr.write(text));
  const print = context.print ?? ((text: string) => process.stdout.write(text));
  const source = (option(args, 'from') ?? 'auto') as Source;
  if (!['auto', 'ledger', 'file', 'datadog', 'synthetic'].includes(source)) {
    throw new Error(`--from must be auto, ledger, file, datadog or synthetic (got ${source})`);
  }
  const days = Number(option(args, 'days') ?? 90);
  if (!Number.isInteger(days) || days < 1)
    throw new Error(`--days must be a positive integer (got ${option(args, 'days')})`);
  const series = await loadTrainingSeries(source, args, days, { ...context, now, write });
  const synthetic = series.source === 'synthetic';
  const coverage = synthetic ? null : describeCoverage(series, now);
  if (series.cost.length < MIN_TRAINING_HOURS) {
    throw new Error(
      `${series.source}: ${coverage?.text ?? `${series.cost.length} hours`}; training needs at least ` +
        `${MIN_TRAINING_HOURS} hours (MIN_TRAINING_HOURS, ${Math.ceil(MIN_TRAINING_HOURS / 24)} days) of usage, and ` +
        'hours without usage after the last are a gap, not $0 hours to train on. Import history ' +
        '(npm run ledger:import -- FILE) or use --from synthetic.',
    );
  }
  if (coverage && coverage.gapHours >= STALE_AFTER_HOURS) {
    write(
      `ml:train cost: WARNING ${series.source}: ${coverage.text}. Training on that span only (the gap is not ` +
        '$0 hours); the card validates on its last 14 days. Until recent usage is in the ledger, GET /forecast/cost ' +
        'says its input is stale.\n',
    );
  }
  const runtime = await loadTfjs();
  write(
    `ml:train cost: ${series.cost.length} hours from ${series.source}${synthetic ? ' (SYNTHETIC data)' : ''}, backend ${runtime.backend}\n`,
  );
  const epochs = option(args, 'epochs');
  const forecaster = await trainCostForecaster(runtime, series, {
    epochs: epochs ? Number(epochs) : undefined,
    seed: option(args, 'seed') ? Number(option(args, 'seed')) : undefined,
    onEpoch: context.write ? undefined : progressBar,
  });
  const card = forecaster.card;
  print(`\n${metricsTable(forecaster)}\n\n`);
  print(
    `served: ${card.served} (${card.served === 'ml' ? `beats ${card.bestBaseline}` : `the model did not beat ${card.bestBaseline}`}), ` +
      `confidence ${card.confidence.toFixed(3)}, training ${(card.trainingMs / 1000).toFixed(2)} s on ${card.trainingRows} rows, ` +
      `validation ${card.validation.from} → ${card.validation.to}\n`,
  );
  if (args.includes('--no-save')) return forecaster;
  const dir = join(option(args, 'models') ?? (context.config ?? loadConfig()).ml.modelsDir, COST_FORECASTER_DIR);
  await forecaster.save(dir);
  print(`saved ${dir}/{model.json,weights.bin,scaler.json,card.json}\n`);
  return forecaster;
}
