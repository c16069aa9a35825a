import { DAY_MS, HOUR_MS, seededRandom } from '@app/common';
import type { HourlySeries } from './forecast.types';

/**
 * SYNTHETIC hourly LLM usage, for development, tests and benchmarks only; it is never presented as real
 * traffic (artifacts trained on it say `"dataSource": "synthetic"` in their card).
 *
 * Model of one hour t (UTC):
 *   requests(t) = base · trend(t) · regime(t) · daily(hour) · weekly(day) · noise · spike
 *   cost(t)     = requests(t) · costPerRequest(t) · noise'
 * - daily seasonality: a business-hours bump peaking at 14:00 UTC plus a smaller evening bump, floor 30 %;
 * - weekly seasonality: Saturday 55 %, Sunday 50 %, Friday 90 % of a weekday;
 * - trend: linear growth of `trendPerDay` (default +0.4 % a day);
 * - noise: log-normal, σ = `noise` on requests (default 0.10) and σ/2 on the cost per request;
 * - spikes: each hour starts a burst with probability `spikeRate` (default 0.6 %), ×2–4 for 1–3 hours;
 * - regime change: at `regimeAt` (fraction of the span, default 0.7) volume steps ×1.3 and the cost per
 *   request ×1.15 (a new feature launched on a pricier model).
 * Deterministic for a given seed (`seededRandom`, mulberry32).
 */
export interface SyntheticUsageOptions {
  days: number;
  /** First hour (epoch ms, floored to the hour); default: `days` before the current hour. */
  start?: number;
  seed?: number;
  baseRequestsPerHour?: number;
  costPerRequestUsd?: number;
  trendPerDay?: number;
  noise?: number;
  spikeRate?: number;
  regimeAt?: number;
}

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export function dailyProfile(hour: number): number {
  const business = Math.exp(-((hour - 14) ** 2) / (2 * 3.2 ** 2));
  const evening = 0.35 * Math.exp(-((hour - 20.5) ** 2) / (2 * 1.5 ** 2));
  return 0.3 + 0.7 * business + evening;
}

export function weeklyProfile(dayOfWeek: number): number {
  return dayOfWeek === 6 ? 0.55 : dayOfWeek === 0 ? 0.5 : dayOfWeek === 5 ? 0.9 : 1;
}

export function generateSyntheticUsage(options: SyntheticUsageOptions): HourlySeries {
  const hours = Math.round(options.days * 24);
  const start = Math.floor((options.start ?? Date.now() - options.days * DAY_MS) / HOUR_MS) * HOUR_MS;
  const random = seededRandom(options.seed ?? 42);
  const base = options.baseRequestsPerHour ?? 220;
  const costPerRequest = options.costPerRequestUsd ?? 0.0021;
  const trend = options.trendPerDay ?? 0.004;
  const noise = options.noise ?? 0.1;
  const spikeRate = options.spikeRate ?? 0.006;
  const regimeAt = Math.round(hours * (options.regimeAt ?? 0.7));
  const cost: number[] = [];
  const requests: number[] = [];
  const expected: number[] = [];
  let spikeLeft = 0;
  let spikeFactor = 1;
  for (let i = 0; i < hours; i++) {
    const date = new Date(start + i * HOUR_MS);
    if (spikeLeft === 0 && random() < spikeRate) {
      spikeLeft = 1 + Math.floor(random() * 3);
      spikeFactor = 2 + 2 * random();
    }
    const spike = spikeLeft > 0 ? spikeFactor : 1;
    if (spikeLeft > 0) spikeLeft -= 1;
    const regime = i >= regimeAt ? 1.3 : 1;
    const price = costPerRequest * (i >= regimeAt ? 1.15 : 1);
    const meanVolume =
      base * (1 + trend * (i / 24)) * regime * dailyProfile(date.getUTCHours()) * weeklyProfile(date.getUTCDay());
    const volume = meanVolume * Math.exp(noise * gaussian(random) - noise ** 2 / 2) * spike;
    const n = Math.max(0, Math.round(volume));
    requests.push(n);
    expected.push(meanVolume * price);
    cost.push(n * price * Math.exp((noise / 2) * gaussian(random) - noise ** 2 / 8));
  }
  return { start, cost, requests, source: 'synthetic', expected };
}
