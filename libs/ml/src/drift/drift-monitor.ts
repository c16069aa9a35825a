import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { HOUR_MS } from '@app/common';
import { formatTags, MetricsPort } from '@app/telemetry';
import { ML_METRICS } from '../ml.metrics';
import { DEGRADED_THRESHOLD, GOOD_THRESHOLD } from '../quality/quality.types';

export type DriftTrend = 'improving' | 'stable' | 'degrading';
export type DriftRisk = 'low' | 'medium' | 'high' | 'critical';

export interface DriftSnapshot {
  endpoint: string;
  model: string;
  samples: number;
  /** Mean quality of the most recent answers (up to 50). */
  currentQuality: number;
  trend: DriftTrend;
  /** Least-squares slope of quality over time, per hour (0 until the window spans 15 minutes and 10 answers). */
  slopePerHour: number;
  /** currentQuality + 24 × slope, clamped to [0,1]. */
  projected24h: number;
  risk: DriftRisk;
}

export const DRIFT_WINDOW_MS = 24 * HOUR_MS;
/** Answers are summed per minute: the window keeps at most 1,441 buckets a pair, whatever the traffic. */
export const DRIFT_BUCKET_MS = 60_000;
const RECENT = 50;
const MIN_SAMPLES_FOR_TREND = 10;
const MIN_SPAN_FOR_TREND_MS = 15 * 60_000;
/** A slope beyond ±0.005 per hour (0.12 a day) is a trend. */
const TREND_SLOPE = 0.005;
const MAX_SERIES = 200;
const REPORT_INTERVAL_MS = 10_000;
const RISK_LEVEL: Record<DriftRisk, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/**
 * The answers of one minute, as the sums a least-squares fit needs (times in hours from the bucket's start), so the
 * regression over 24 h is exact without keeping every answer.
 */
interface Bucket {
  start: number;
  /** Earliest and latest answer in the bucket (ms). */
  first: number;
  last: number;
  n: number;
  sumQ: number;
  sumDt: number;
  sumDt2: number;
  sumDtQ: number;
}

interface Series {
  endpoint: string;
  model: string;
  /** Ascending by start. */
  buckets: Bucket[];
  /** The most recent answers (at most RECENT), in arrival order. */
  recent: { at: number; quality: number }[];
}

/**
 * Rolling quality window per endpoint and model (24 h of answers, summed per minute so that it covers the whole day
 * at any traffic): current quality, trend by regression slope, 24 h projection and degradation risk. Reported as
 * gauges every 10 s; read by the insights engine through `snapshot`/`all`. A pair without an answer for 24 h is
 * forgotten (no gauge, a free slot).
 */
@Injectable()
export class DriftMonitor implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('DriftMonitor');
  private readonly series = new Map<string, Series>();
  private timer?: NodeJS.Timeout;
  private warnedFull = false;

  constructor(private readonly metrics: MetricsPort) {}

  onModuleInit(): void {
    this.timer = setInterval(() => this.report(), REPORT_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  record(endpoint: string, model: string, overall: number, atMs: number = Date.now()): void {
    if (!Number.isFinite(overall) || !Number.isFinite(atMs)) return;
    const key = `${endpoint}\u0000${model}`;
    let s = this.series.get(key);
    if (s) prune(s, atMs);
    if (!s || s.buckets.length === 0) {
      if (s) this.series.delete(key);
      if (this.series.size >= MAX_SERIES) this.forgetIdle(atMs);
      if (this.series.size >= MAX_SERIES) {
        if (!this.warnedFull) this.logger.warn(`drift monitor tracks at most ${MAX_SERIES} endpoint/model pairs`);
        this.warnedFull = true;
        return;
      }
      s = { endpoint, model, buckets: [], recent: [] };
      this.series.set(key, s);
    }
    const newest = s.buckets.at(-1)?.last ?? atMs;
    if (atMs < newest - DRIFT_WINDOW_MS) return;
    const quality = Math.max(0, Math.min(1, overall));
    addTo(bucketFor(s, atMs), atMs, quality);
    s.recent.push({ at: atMs, quality });
    if (s.recent.length > RECENT) s.recent.shift();
  }

  /** The pair's window as of `now` (default: the wall clock); undefined without an answer in the last 24 h. */
  snapshot(endpoint: string, model: string, now: number = Date.now()): DriftSnapshot | undefined {
    const key = `${endpoint}\u0000${model}`;
    const s = this.series.get(key);
    return s ? this.computeOrForget(key, s, now) : undefined;
  }

  all(now: number = Date.now()): DriftSnapshot[] {
    const out: DriftSnapshot[] = [];
    for (const [key, s] of [...this.series]) {
      const snap = this.computeOrForget(key, s, now);
      if (snap) out.push(snap);
    }
    return out;
  }

  /** Emits the drift gauges for every pair answered in the last 24 h (also called by the timer). */
  report(now: number = Date.now()): void {
    for (const snap of this.all(now)) {
      const tags = formatTags({ endpoint: snap.endpoint, model: snap.model });
      this.metrics.gauge(ML_METRICS.driftCurrent.name, snap.currentQuality, tags);
      this.metrics.gauge(ML_METRICS.driftProjected.name, snap.projected24h, tags);
      this.metrics.gauge(ML_METRICS.driftRisk.name, RISK_LEVEL[snap.risk], tags);
    }
  }

  private forgetIdle(now: number): void {
    for (const [key, s] of [...this.series]) {
      prune(s, now);
      if (s.buckets.length === 0) this.series.delete(key);
    }
  }

  private computeOrForget(key: string, s: Series, now: number): DriftSnapshot | undefined {
    prune(s, now);
    if (s.buckets.length === 0) {
      this.series.delete(key);
      return undefined;
    }
    return compute(s);
  }
}

/** Drops the buckets whose answers are all older than 24 h before `now`, and those answers from `recent`. */
function prune(s: Series, now: number): void {
  const cutoff = now - DRIFT_WINDOW_MS;
  let drop = 0;
  while (drop < s.buckets.length && s.buckets[drop]!.last < cutoff) drop += 1;
  if (drop > 0) s.buckets.splice(0, drop);
  let old = 0;
  while (old < s.recent.length && s.recent[old]!.at < cutoff) old += 1;
  if (old > 0) s.recent.splice(0, old);
}

/** The bucket of `atMs`'s minute, created in order (answers may finish slightly out of order). */
function bucketFor(s: Series, atMs: number): Bucket {
  const start = Math.floor(atMs / DRIFT_BUCKET_MS) * DRIFT_BUCKET_MS;
  let i = s.buckets.length;
  while (i > 0 && s.buckets[i - 1]!.start > start) i -= 1;
  const found = s.buckets[i - 1];
  if (found?.start === start) return found;
  const bucket: Bucket = { start, first: atMs, last: atMs, n: 0, sumQ: 0, sumDt: 0, sumDt2: 0, sumDtQ: 0 };
  s.buckets.splice(i, 0, bucket);
  return bucket;
}

function addTo(b: Bucket, atMs: number, quality: number): void {
  const dt = (atMs - b.start) / HOUR_MS;
  b.first = Math.min(b.first, atMs);
  b.last = Math.max(b.last, atMs);
  b.n += 1;
  b.sumQ += quality;
  b.sumDt += dt;
  b.sumDt2 += dt * dt;
  b.sumDtQ += dt * quality;
}

function compute(s: Series): DriftSnapshot {
  const origin = s.buckets[0]!.start;
  // Least squares of quality on time (hours from the oldest bucket), from each bucket's sums: t = offset + dt.
  let n = 0;
  let st = 0;
  let st2 = 0;
  let sq = 0;
  let stq = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const b of s.buckets) {
    const offset = (b.start - origin) / HOUR_MS;
    n += b.n;
    st += b.n * offset + b.sumDt;
    st2 += b.n * offset * offset + 2 * offset * b.sumDt + b.sumDt2;
    sq += b.sumQ;
    stq += offset * b.sumQ + b.sumDtQ;
    first = Math.min(first, b.first);
    last = Math.max(last, b.last);
  }
  const current =
    s.recent.length > 0 ? s.recent.reduce((a, r) => a + r.quality, 0) / s.recent.length : sq / Math.max(1, n);
  let slope = 0;
  if (n >= MIN_SAMPLES_FOR_TREND && last - first >= MIN_SPAN_FOR_TREND_MS) {
    const sxx = st2 - (st * st) / n;
    const sxy = stq - (st * sq) / n;
    slope = sxx > 0 ? sxy / sxx : 0;
  }
  const trend: DriftTrend = slope > TREND_SLOPE ? 'improving' : slope < -TREND_SLOPE ? 'degrading' : 'stable';
  const projected = Math.max(0, Math.min(1, current + 24 * slope));
  const worst = Math.min(current, projected);
  let risk: DriftRisk = 'low';
  if (worst < DEGRADED_THRESHOLD) risk = 'critical';
  else if (worst < (DEGRADED_THRESHOLD + GOOD_THRESHOLD) / 2) risk = 'high';
  else if (worst < GOOD_THRESHOLD || (trend === 'degrading' && current - projected > 0.1)) risk = 'medium';
  const r = (x: number): number => Math.round(x * 10_000) / 10_000;
  return {
    endpoint: s.endpoint,
    model: s.model,
    samples: n,
    currentQuality: r(current),
    trend,
    slopePerHour: r(slope),
    projected24h: r(projected),
    risk,
  };
}
