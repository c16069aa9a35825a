import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
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

export const DRIFT_WINDOW_MS = 24 * 3_600_000;
export const DRIFT_MAX_SAMPLES = 1000;
const RECENT = 50;
const MIN_SAMPLES_FOR_TREND = 10;
const MIN_SPAN_FOR_TREND_MS = 15 * 60_000;
/** A slope beyond ±0.005 per hour (0.12 a day) is a trend. */
const TREND_SLOPE = 0.005;
const MAX_SERIES = 200;
const REPORT_INTERVAL_MS = 10_000;
const RISK_LEVEL: Record<DriftRisk, number> = { low: 0, medium: 1, high: 2, critical: 3 };

interface Series {
  endpoint: string;
  model: string;
  at: number[];
  quality: number[];
}

/**
 * Rolling quality window per endpoint and model (24 h, at most 1000 answers): current quality, trend by
 * regression slope, 24 h projection and degradation risk. Reported as gauges every 10 s; readable through
 * `snapshot`/`all` (for the planned insights engine, issue 14).
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
    if (!Number.isFinite(overall)) return;
    const key = `${endpoint}\u0000${model}`;
    let s = this.series.get(key);
    if (!s) {
      if (this.series.size >= MAX_SERIES) {
        if (!this.warnedFull) this.logger.warn(`drift monitor tracks at most ${MAX_SERIES} endpoint/model pairs`);
        this.warnedFull = true;
        return;
      }
      s = { endpoint, model, at: [], quality: [] };
      this.series.set(key, s);
    }
    s.at.push(atMs);
    s.quality.push(Math.max(0, Math.min(1, overall)));
    const cutoff = atMs - DRIFT_WINDOW_MS;
    let drop = Math.max(0, s.at.length - DRIFT_MAX_SAMPLES);
    while (drop < s.at.length && s.at[drop]! < cutoff) drop += 1;
    if (drop > 0) {
      s.at.splice(0, drop);
      s.quality.splice(0, drop);
    }
  }

  snapshot(endpoint: string, model: string): DriftSnapshot | undefined {
    const s = this.series.get(`${endpoint}\u0000${model}`);
    return s && s.at.length > 0 ? this.compute(s) : undefined;
  }

  all(): DriftSnapshot[] {
    return [...this.series.values()].filter((s) => s.at.length > 0).map((s) => this.compute(s));
  }

  /** Emits the drift gauges for every tracked pair (also called by the timer). */
  report(): void {
    for (const snap of this.all()) {
      const tags = formatTags({ endpoint: snap.endpoint, model: snap.model });
      this.metrics.gauge(ML_METRICS.driftCurrent.name, snap.currentQuality, tags);
      this.metrics.gauge(ML_METRICS.driftProjected.name, snap.projected24h, tags);
      this.metrics.gauge(ML_METRICS.driftRisk.name, RISK_LEVEL[snap.risk], tags);
    }
  }

  private compute(s: Series): DriftSnapshot {
    const n = s.at.length;
    const recent = s.quality.slice(-RECENT);
    const current = recent.reduce((a, b) => a + b, 0) / recent.length;
    let slope = 0;
    if (n >= MIN_SAMPLES_FOR_TREND && s.at[n - 1]! - s.at[0]! >= MIN_SPAN_FOR_TREND_MS) {
      const t0 = s.at[0]!;
      let mt = 0;
      let mq = 0;
      for (let i = 0; i < n; i++) {
        mt += (s.at[i]! - t0) / 3_600_000;
        mq += s.quality[i]!;
      }
      mt /= n;
      mq /= n;
      let sxy = 0;
      let sxx = 0;
      for (let i = 0; i < n; i++) {
        const dt = (s.at[i]! - t0) / 3_600_000 - mt;
        sxy += dt * (s.quality[i]! - mq);
        sxx += dt * dt;
      }
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
}
