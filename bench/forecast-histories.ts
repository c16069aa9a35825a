/**
 * The served cost forecast on realistic histories of LLM spend (not the synthetic generator the card was trained on):
 * business-hours daily cycle, low weekends, log-normal noise, and shapes a budget owner meets: steady, a trend, a
 * launch (a step up) a day or 6 hours ago, a step down, a few spike hours, a runaway day, and (since the second change
 * of 2026-12-07, docs/ml.md) flat and noisy spend, a daily and a weekly batch, one spike hour. For each shape, history
 * length and seed, the forecast the service serves (the committed card; `CostForecaster.forecast`, which falls back to
 * `baselineFromHistory` under 168 h) is compared with the next 24 hours of the same process (held out): real MAPE, the
 * error the confidence claims (1 − confidence), the 80 % interval's coverage of those hours and its width (upper /
 * point), and the 24 h total against the actual.
 *
 *   sh scripts/ts-run.sh bench/forecast-histories.ts [--seeds 8] [--lengths 100,150,336,504]
 */
import { HOUR_MS } from '@app/common';
import { CostForecaster, type HourlySeries, loadTfjs } from '@app/ml';
import { join } from 'node:path';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Mean cost of hour `t` (epoch ms): business-hours peak, evening floor, Fri 90 %, Sat 55 %, Sun 50 %. */
function seasonal(t: number): number {
  const d = new Date(t);
  const h = d.getUTCHours();
  const dow = d.getUTCDay();
  const daily = 0.3 + 0.7 * Math.max(0, Math.sin((Math.PI * (h - 7)) / 12)) ** 1.5;
  const weekly = dow === 0 ? 0.5 : dow === 6 ? 0.55 : dow === 5 ? 0.9 : 1;
  return 0.6 * daily * weekly;
}

/**
 * Multiplier of hour k, `ago` hours before the first held-out hour (ago 1 = the last hour of history; the held-out
 * hours are ago 0 to −23), `t` its start (epoch ms).
 */
type Shape = (ago: number, r: () => number, t: number) => number;
const gaussOf = (r: () => number): number =>
  Math.sqrt(-2 * Math.log(Math.max(1e-12, r()))) * Math.cos(2 * Math.PI * r());
export const SHAPES: Record<string, Shape> = {
  steady: () => 1,
  'trend +3 %/day': (ago) => Math.exp((-0.03 * ago) / 24),
  'launch ×4, 1 day ago': (ago) => (ago <= 24 ? 4 : 1),
  'launch ×4, 6 h ago': (ago) => (ago <= 6 ? 4 : 1),
  'launch ×20 from a trickle, 1 day ago': (ago) => (ago <= 24 ? 20 : 1),
  'cut to ×0.25, 1 day ago': (ago) => (ago <= 24 ? 0.25 : 1),
  'spike hours (1 %, ×30–230)': (ago, r) => (ago > 0 && r() < 0.01 ? 30 + 200 * r() : 1),
  'runaway day ×10, 3 days ago': (ago) => (ago > 48 && ago <= 72 ? 10 : 1),
  'flat (no daily or weekly cycle)': (ago, r, t) => 0.5 / seasonal(t),
  'noisy (σ 0.5 more)': (ago, r) => Math.exp(0.5 * gaussOf(r) - 0.125),
  'daily batch (03:00 ×20)': (ago, r, t) => (new Date(t).getUTCHours() === 3 ? 20 : 1),
  'weekly batch (Mon 03:00–05:00 ×30)': (ago, r, t) => {
    const d = new Date(t);
    return d.getUTCDay() === 1 && d.getUTCHours() >= 3 && d.getUTCHours() < 6 ? 30 : 1;
  },
  'one spike hour ×100, 1 week ago': (ago) => (ago === 160 ? 100 : 1),
  'one spike hour ×100, 20 h ago': (ago) => (ago === 20 ? 100 : 1),
};

export function history(shape: Shape, n: number, seed: number): { series: HourlySeries; next: number[] } {
  const r = rng(seed * 7919 + n);
  const gauss = (): number => Math.sqrt(-2 * Math.log(Math.max(1e-12, r()))) * Math.cos(2 * Math.PI * r());
  // Origins at every hour of the week across seeds.
  const start = Date.UTC(2026, 9, 5) + ((seed * 37) % 168) * HOUR_MS;
  const all = Array.from({ length: n + 24 }, (_, k) => {
    const t = start + k * HOUR_MS;
    return seasonal(t) * shape(n - k, r, t) * Math.exp(0.12 * gauss());
  });
  const cost = all.slice(0, n);
  return {
    series: { start, cost, requests: cost.map((c) => Math.round(c * 400)), source: 'bench' },
    next: all.slice(n),
  };
}

async function main(): Promise<void> {
  const seeds = Number(arg('seeds') ?? 8);
  const lengths = (arg('lengths') ?? '100,150,336,504').split(',').map(Number);
  const runtime = await loadTfjs();
  const forecaster = await CostForecaster.load(runtime, join(__dirname, '..', '..', '..', 'models', 'cost-forecaster'));
  console.log(
    '| history | h | served (most often) | real MAPE % | claimed % | coverage % | upper / point | total / actual |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const overall = { cover: 0, count: 0 };
  for (const [name, shape] of Object.entries(SHAPES)) {
    for (const n of lengths) {
      let real = 0;
      let claimed = 0;
      let covered = 0;
      let bounded = 0;
      let width = 0;
      let totals = 0;
      const methods = new Map<string, number>();
      for (let seed = 1; seed <= seeds; seed++) {
        const { series, next } = history(shape, n, seed);
        const f = forecaster.forecast(series, 24);
        methods.set(f.method, (methods.get(f.method) ?? 0) + 1);
        let ape = 0;
        const widths: number[] = [];
        f.hours.forEach((h, i) => {
          const a = next[i]!;
          ape += Math.abs(h.costUsd - a) / a;
          if (h.lowerUsd !== null && h.upperUsd !== null) {
            bounded += 1;
            if (a >= h.lowerUsd && a <= h.upperUsd) covered += 1;
            if (h.costUsd > 0) widths.push(h.upperUsd / h.costUsd);
          }
        });
        widths.sort((a, b) => a - b);
        width += widths.length ? widths[widths.length >> 1]! : NaN;
        real += (100 * ape) / 24;
        claimed += 100 * (1 - f.confidence);
        totals += f.hours.reduce((s, h) => s + h.costUsd, 0) / next.reduce((s, a) => s + a, 0);
      }
      overall.cover += covered;
      overall.count += bounded;
      const top = [...methods.entries()].sort((a, b) => b[1] - a[1])[0]![0];
      console.log(
        `| ${name} | ${n} | ${top} | ${(real / seeds).toFixed(1)} | ${(claimed / seeds).toFixed(1)} | ${bounded ? ((100 * covered) / bounded).toFixed(0) : '–'} | ${(width / seeds).toFixed(2)} | ${(totals / seeds).toFixed(2)} |`,
      );
    }
  }
  console.log(
    `\noverall interval coverage of the held-out days: ${((100 * overall.cover) / overall.count).toFixed(1)} %`,
  );
}

if (require.main === module) void main();
