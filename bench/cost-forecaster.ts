/**
 * Cost forecaster benchmark (issue 5 targets), on the SYNTHETIC generator:
 * - accuracy: MAPE of the model vs the best baseline on the held-out 14 days (target: ≥ 25 % lower), over seeds;
 * - training time on 90 days of hourly data (target ≤ 10 s);
 * - forecast latency of the next 24 h from a loaded model (target ≤ 5 ms, p50 and p99 of many calls).
 *
 *   sh scripts/ts-run.sh bench/cost-forecaster.ts [--seeds 1,2,3] [--backend wasm|cpu] [--append]
 * --append adds the results to bench/history/<YYYY-MM>.md (machine, date, command).
 */
import { appendFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { CostForecaster, generateSyntheticUsage, loadTfjs, trainCostForecaster, type TfjsBackendName } from '@app/ml';
import { errorMetrics } from '../libs/ml/src/cost-forecaster/forecast-accuracy';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function main(): Promise<void> {
  const seeds = (arg('seeds') ?? '1,2,3').split(',').map(Number);
  const backend = arg('backend') as TfjsBackendName | undefined;
  const runtime = await loadTfjs(backend ? { prefer: [backend] } : {});
  const rows: string[] = [];
  const latencies: number[] = [];
  const firstForecasts: number[] = [];
  const ratios: number[] = [];
  const times: number[] = [];
  for (const seed of seeds) {
    const series = generateSyntheticUsage({ days: 90, seed, start: Date.UTC(2026, 0, 5) });
    const started = performance.now();
    const forecaster = await trainCostForecaster(runtime, series);
    const trainMs = performance.now() - started;
    times.push(trainMs);
    const card = forecaster.card;
    const best = card.baselines.find((b) => b.method === card.bestBaseline)!;
    const ratio = 1 - card.model.metrics.mape / best.metrics.mape;
    const tail = series.cost.length - card.validation.hours;
    const oracle = errorMetrics(series.cost.slice(tail), series.expected!.slice(tail), 1).mape;
    ratios.push(ratio);
    const fmt = (m: { mape: number; smape: number; mase: number }): string =>
      `${m.mape.toFixed(2)} | ${m.smape.toFixed(2)} | ${m.mase.toFixed(3)}`;
    rows.push(
      `| ${seed} | ${fmt(card.model.metrics)} | ${card.baselines.map((b) => `${b.method} ${b.metrics.mape.toFixed(2)}`).join(', ')} | ${(100 * ratio).toFixed(1)} % | ${oracle.toFixed(2)} | ${card.served} | ${(trainMs / 1000).toFixed(2)} s |`,
    );
    // The first forecast of a history: it backtests the model and the baselines on that history (once an hour).
    const fresh = new CostForecaster(runtime, forecaster.model, forecaster.scaler, card);
    const t0 = performance.now();
    fresh.forecast(series, 24);
    firstForecasts.push(performance.now() - t0);
    // Forecast latency: the served path of a reloaded model, warm.
    const reloaded = new CostForecaster(runtime, forecaster.model, forecaster.scaler, card);
    for (let i = 0; i < 50; i++) reloaded.forecast(series, 24, 'ml');
    for (let i = 0; i < 500; i++) {
      const t = performance.now();
      reloaded.forecast(series, 24, 'ml');
      latencies.push(performance.now() - t);
    }
  }
  const lines = [
    '',
    `## Cost forecaster (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Machine: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, tfjs backend ${runtime.backend}.`,
    `Command: \`sh scripts/ts-run.sh bench/cost-forecaster.ts --seeds ${seeds.join(',')}${backend ? ` --backend ${backend}` : ''}\``,
    'Data: SYNTHETIC generator, 90 days hourly per seed, last 14 days held out (rolling origins every hour, 24 h horizons).',
    '',
    '| seed | model MAPE % | sMAPE % | MASE | baselines MAPE % | MAPE reduction vs best baseline | oracle MAPE % (noise floor) | served | training (90 d) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Targets: MAPE reduction ≥ 25 %: min ${(100 * Math.min(...ratios)).toFixed(1)} % (${ratios.every((r) => r >= 0.25) ? 'met' : 'NOT met'}); ` +
      `training ≤ 10 s: max ${(Math.max(...times) / 1000).toFixed(2)} s (${Math.max(...times) <= 10_000 ? 'met' : 'NOT met'}); ` +
      `forecast ≤ 5 ms: p50 ${percentile(latencies, 0.5).toFixed(3)} ms, p99 ${percentile(latencies, 0.99).toFixed(3)} ms (${percentile(latencies, 0.99) <= 5 ? 'met' : 'NOT met'}); ` +
      `the first forecast of a history, with its backtest on that history (once per history, i.e. once an hour): ` +
      `max ${Math.max(...firstForecasts).toFixed(1)} ms over ${firstForecasts.length} seeds.`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
  if (process.argv.includes('--append'))
    appendFileSync(`bench/history/${new Date().toISOString().slice(0, 7)}.md`, `\n${lines.join('\n')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
