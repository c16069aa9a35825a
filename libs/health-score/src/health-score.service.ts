import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { heldBack, WarningThrottle } from '@app/common';
import { AppConfig, HEALTH_COMPONENTS } from '@app/config';
import { addWindow, ANY, emptyWindow, UsageLedger, type WindowUsage } from '@app/ledger';
import { formatTags, MetricsPort } from '@app/telemetry';
import { assess, assessAggregates, type HealthScoreSettings, latencyBounds } from './health-score.calculator';
import { HEALTH_METRICS } from './health-score.metrics';
import { type HealthAssessment, type HealthSignals, HEALTH_WINDOWS, type HealthWindowName } from './health-score.types';

/** One window's health: overall, per model and per endpoint. */
export interface HealthReport {
  window: HealthWindowName;
  /** [from, to) in epoch ms; `to` is a multiple of HEALTH_WINDOW_STEP_MS. */
  from: number;
  to: number;
  overall: HealthAssessment;
  models: (HealthAssessment & { model: string })[];
  endpoints: (HealthAssessment & { endpoint: string })[];
}

/** The LLM endpoints: the only endpoint tag values the gauges send. */
const ENDPOINTS = new Set(['qa', 'reason', 'stress', 'chat']);

/** At most one `health score unavailable` warning this often while the ledger cannot be read. */
const UNAVAILABLE_LOG_INTERVAL_MS = 60_000;

const round2 = (value: number | null): number | null => (value === null ? null : Math.round(value * 100) / 100);

/** Latencies in ms to 2 decimals; the other signals to 6 significant digits (no `1409.9999999999998` in a report). */
export function presentSignals(signals: HealthSignals): HealthSignals {
  const shown = { ...signals };
  for (const [key, value] of Object.entries(signals) as [keyof HealthSignals, number | null][]) {
    if (value === null || key === 'requests') continue;
    shown[key] = key.endsWith('LatencyMs') ? round2(value)! : Number(value.toPrecision(6));
  }
  return shown;
}

/**
 * A model's usage with only its own retries and latency: a call that fell back to it (`fallbacks`) carries the
 * retries of the model that failed before it, and a latency that is mostly that model's failed attempts and the
 * retry backoff, neither of them this model's. Counting the retries made the model that answered the fallbacks read
 * as the unreliable one (a model failing 90 % of its attempts scored 88.92 and its healthy fallback 77.53); counting
 * the latency made it the slow one (a fallback answering in 30 ms behind a model failing after 600 ms read a p95 of
 * 1485 ms, performance 0, and was the report's critical item). Its p95 is over the calls it served from their start;
 * with none, its performance has nothing to measure (null).
 */
function ownCalls(u: WindowUsage): WindowUsage {
  return {
    ...u,
    retries: Math.max(0, u.retries - u.fallbackRetries),
    latencyCount: Math.max(0, u.latencyCount - u.fallbackLatencyCount),
    latencyMsSum: Math.max(0, u.latencyMsSum - u.fallbackLatencyMsSum),
    latencyAtMost: u.latencyAtMost.map((n, i) => Math.max(0, n - (u.fallbackLatencyAtMost[i] ?? 0))),
  };
}

/**
 * The live health score: reads a window of the usage ledger's raw records (the store, shared by every replica on one
 * PostgreSQL ledger), scores it (`health-score.calculator.ts`) and emits the `llm.health.*` gauges every
 * HEALTH_INTERVAL_MS. Windows end on a multiple of HEALTH_WINDOW_STEP_MS, so replicas score the same window.
 */
@Injectable()
export class HealthScoreService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('HealthScore');
  private readonly bounds: number[];
  private readonly settings: HealthScoreSettings;
  private timer: NodeJS.Timeout | undefined;
  private reporting = false;
  /** The last report read per window, by the window's end: shared until the next read is due (see `score`). */
  private readonly latest = new Map<HealthWindowName, { to: number; report: Promise<HealthReport> }>();
  /** Reports that could not read the ledger (a database outage): one warning a minute, one line when it is back. */
  private readonly unavailableLog = new WarningThrottle(UNAVAILABLE_LOG_INTERVAL_MS);
  private failedReports = 0;

  constructor(
    private readonly config: AppConfig,
    private readonly ledger: UsageLedger,
    private readonly metrics: MetricsPort,
  ) {
    const health = config.health;
    this.bounds = latencyBounds(health.latencySloMs);

    this.settings = {
      latencySloMs: health.latencySloMs,
      costPerRequestUsd: health.costPerRequestUsd,
      weights: health.weights,
      dailyBudgetUsd: config.budget.dailyUsd,
    };
  }

  onModuleInit(): void {
    if (this.config.health.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.report(), this.config.health.intervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * The highest p95 the score reports (the last latency bound asked of the ledger, at least 3.2 × the SLO): a p95
   * at this value means at least this much, the slowest calls being above the buckets.
   */
  get p95CeilingMs(): number {
    return this.bounds[this.bounds.length - 1] ?? 0;
  }

  /** The window's length (the `5m` and `1h` names are the defaults' lengths; tests shorten them). */
  windowMs(window: HealthWindowName): number {
    return window === '5m' ? this.config.health.windowShortMs : this.config.health.windowLongMs;
  }

  /**
   * The health of the last complete window ending on a step boundary at or before `now`. A window's aggregate is a
   * scan of its raw records (about 1 s for an hour at 100 calls/s on SQLite, bench/health-window.ts), so it is read
   * once per window end and shared by the gauges and every request of that step.
   */
  score(window: HealthWindowName, now = Date.now()): Promise<HealthReport> {
    return this.cached(window, now, 0);
  }

  /**
   * `score`, reusing the last report while it ended less than `maxAgeMs` ago. The gauges re-read the long window at
   * most every 1/60 of its length (60 s for 1 h), so its scan does not run every HEALTH_INTERVAL_MS.
   */
  private cached(window: HealthWindowName, now: number, maxAgeMs: number): Promise<HealthReport> {
    const step = this.config.health.windowStepMs;
    const to = Math.floor(now / step) * step;
    const last = this.latest.get(window);
    if (last && (last.to === to || (to > last.to && to - last.to < maxAgeMs))) return last.report;
    const report = this.read(window, to);
    this.latest.set(window, { to, report });
    // A failed read is not kept: the next call tries again.
    report.catch(() => {
      if (this.latest.get(window)?.report === report) this.latest.delete(window);
    });
    return report;
  }

  private async read(window: HealthWindowName, to: number): Promise<HealthReport> {
    const length = this.windowMs(window);
    const from = to - length;
    const rows = await this.ledger.window({
      from,
      to,
      groupBy: ['endpoint', 'model'],
      latencyBoundsMs: this.bounds,
    });
    const overall = emptyWindow(this.bounds.length);
    const byModel = new Map<string, WindowUsage>();
    const byEndpoint = new Map<string, WindowUsage>();
    for (const row of rows) {
      addWindow(overall, row);
      addWindow(
        this.group(byModel, row.model, (k) => emptyWindow(this.bounds.length, ANY, ANY, k)),
        row,
      );
      addWindow(
        this.group(byEndpoint, row.endpoint, (k) => emptyWindow(this.bounds.length, k)),
        row,
      );
    }
    const judge = (usage: WindowUsage | null): HealthAssessment => {
      const a = assess(usage, this.bounds, length, this.settings);
      const components = { ...a.components };
      for (const c of HEALTH_COMPONENTS) components[c] = round2(components[c]);
      return { ...a, score: round2(a.score), components, signals: presentSignals(a.signals) };
    };
    return {
      window,
      from,
      to,
      overall: judge(rows.length > 0 ? overall : null),
      models: [...byModel.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([model, u]) => ({ model, ...judge(ownCalls(u)) })),
      endpoints: [...byEndpoint.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([endpoint, u]) => ({ endpoint, ...judge(u) })),
    };
  }

  /**
   * Scores caller-supplied aggregates (the origin's `POST /insights` body) with the same curves and weights; a
   * component none of whose inputs is given is null. Rounded like `score`; sends no gauge.
   */
  assessAggregates(signals: Partial<HealthSignals>): HealthAssessment {
    const a = assessAggregates(signals, this.settings);
    const components = { ...a.components };
    for (const c of HEALTH_COMPONENTS) components[c] = round2(components[c]);
    return { ...a, score: round2(a.score), components, signals: presentSignals(a.signals) };
  }

  /** Scores both windows and sends the gauges (periodically; also callable from tests). Never throws. */
  async report(now = Date.now()): Promise<HealthReport[]> {
    if (this.reporting) return [];
    this.reporting = true;
    try {
      const reports: HealthReport[] = [];
      for (const window of HEALTH_WINDOWS) {
        const maxAgeMs = window === '5m' ? 0 : this.windowMs(window) / 60;
        const report = await this.cached(window, now, maxAgeMs);
        this.emit(report);
        reports.push(report);
      }
      if (this.failedReports > 0) {
        this.logger.log(`health score available again after ${this.failedReports} failed reports`);
        this.failedReports = 0;
        this.unavailableLog.clear();
      }
      return reports;
    } catch (error) {
      this.failedReports += 1;
      const suppressed = this.unavailableLog.admit();
      if (suppressed !== undefined) {
        const reason = error instanceof Error ? error.message : String(error);
        this.logger.warn(`health score unavailable: ${reason}; logged once a minute${heldBack(suppressed)}`);
      }
      return [];
    } finally {
      this.reporting = false;
    }
  }

  private emit(report: HealthReport): void {
    const { window, overall } = report;
    const gauge = (
      value: number | null,
      tags: Record<string, string>,
      name: string = HEALTH_METRICS.score.name,
    ): void => {
      if (value !== null) this.metrics.gauge(name, value, formatTags(tags));
    };
    gauge(overall.score, { window, scope: 'overall' });
    for (const c of HEALTH_COMPONENTS) {
      gauge(overall.components[c], { window, component: c }, HEALTH_METRICS.componentScore.name);
    }
    // The models with a per-model gauge (a bounded tag set): the configured chain and, while the router is at work,
    // its candidates. Before, a candidate outside the chain had none, though the router sent it the traffic.
    const { llm, router } = this.config;
    const gauged = new Set([llm.model, ...llm.fallbackModels, ...(router.mode === 'off' ? [] : router.candidates)]);
    for (const m of report.models) if (gauged.has(m.model)) gauge(m.score, { window, scope: 'model', model: m.model });
    for (const e of report.endpoints) {
      if (ENDPOINTS.has(e.endpoint)) gauge(e.score, { window, scope: 'endpoint', endpoint: e.endpoint });
    }
  }

  private group(map: Map<string, WindowUsage>, key: string, create: (key: string) => WindowUsage): WindowUsage {
    let row = map.get(key);
    if (!row) {
      row = create(key);
      map.set(key, row);
    }
    return row;
  }
}
