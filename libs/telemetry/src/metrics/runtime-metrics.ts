import {
  constants,
  type EventLoopUtilization,
  type ELDHistogram,
  monitorEventLoopDelay,
  performance,
  PerformanceObserver,
} from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { heldBack, WarningThrottle } from '@app/common';
import { AppConfig } from '@app/config';
import { METRICS, TAG } from './metric-catalog';
import { formatTags, MetricsPort } from './metrics.port';

const GC_KINDS: Readonly<Record<number, string>> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/**
 * The process's own health as gauges, every RUNTIME_METRICS_INTERVAL_MS: event-loop utilization and delay (the
 * saturation signals of a Node process), heap and RSS, and GC time by kind. dd-trace's runtime metrics are off
 * (they cost CPU on every request); these cost a 20 ms sampling timer for the delay histogram, one observer call
 * per GC and one report per interval (measured in bench/RESULTS.md, "Runtime gauges").
 */
@Injectable()
export class RuntimeMetrics implements OnModuleInit, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private delay?: ELDHistogram;
  private gcObserver?: PerformanceObserver;
  private lastElu?: EventLoopUtilization;
  private readonly gcMs = new Map<string, number>();
  private readonly gcTags = new Map<string, string[]>();
  private readonly logger = new Logger('RuntimeMetrics');
  /** File descriptors running out is said at most once a minute. */
  private readonly fdWarnings = new WarningThrottle(60_000);

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: MetricsPort,
  ) {}

  onModuleInit(): void {
    const interval = this.config.statsd.runtimeIntervalMs;
    if (interval <= 0) return;
    this.delay = monitorEventLoopDelay({ resolution: 20 });
    this.delay.enable();
    this.lastElu = performance.eventLoopUtilization();
    this.gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const detail = (entry as unknown as { detail?: { kind?: number } }).detail;
        const kind = GC_KINDS[detail?.kind ?? -1] ?? 'other';
        this.gcMs.set(kind, (this.gcMs.get(kind) ?? 0) + entry.duration);
      }
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
    this.timer = setInterval(() => this.report(), interval);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.delay?.disable();
    this.gcObserver?.disconnect();
  }

  /** Sends the gauges of the interval that just ended and starts the next one. */
  report(): void {
    const m = this.metrics;
    const elu = performance.eventLoopUtilization();
    if (this.lastElu)
      m.gauge(
        METRICS.eventLoopUtilization.name,
        round(performance.eventLoopUtilization(elu, this.lastElu).utilization, 4),
      );
    this.lastElu = elu;
    if (this.delay) {
      // The histogram is in nanoseconds and counts the timer's own resolution as delay: take it off.
      const p99 = Math.max(0, this.delay.percentile(99) / 1e6 - 20);
      const max = Math.max(0, this.delay.max / 1e6 - 20);
      m.gauge(METRICS.eventLoopDelayP99.name, round(p99, 2));
      m.gauge(METRICS.eventLoopDelayMax.name, round(max, 2));
      this.delay.reset();
    }
    const memory = memoryUsage();
    if (memory.error) this.descriptorsExhausted(memory.error);
    m.gauge(METRICS.heapUsed.name, memory.heapUsed);
    if (memory.rss !== undefined) m.gauge(METRICS.rss.name, memory.rss);
    for (const [kind, ms] of this.gcMs) {
      let tags = this.gcTags.get(kind);
      if (!tags) {
        tags = formatTags({ [TAG.kind]: kind });
        this.gcTags.set(kind, tags);
      }
      m.increment(METRICS.gcPause.name, round(ms, 2), tags);
    }
    this.gcMs.clear();
  }

  /**
   * RSS could not be read: with EMFILE or ENFILE every file descriptor is taken (a flood of connections), which
   * nothing else says: new connections are accepted and closed at once, and calls cannot open upstream sockets.
   */
  private descriptorsExhausted(error: NodeJS.ErrnoException): void {
    const suppressed = this.fdWarnings.admit();
    if (suppressed === undefined) return;
    const exhausted = error.code === 'EMFILE' || error.code === 'ENFILE';
    this.logger.warn(
      exhausted
        ? `file descriptors exhausted (${error.code}): new connections are closed at once and upstream calls cannot ` +
            `connect until connections close; raise the limit (ulimit -n, LimitNOFILE) or add replicas ` +
            `(docs/operations.md, "Connections"); next warning in a minute at the earliest` +
            heldBack(suppressed)
        : `RSS could not be read (${error.code ?? error.message}); the gauge is skipped` + heldBack(suppressed),
    );
  }
}

/**
 * The heap in use, and RSS when it can be read: `process.memoryUsage()` reads RSS from /proc/self, a file, and throws
 * EMFILE when every file descriptor is taken (a flood of connections); thrown in this timer, it ended the process.
 */
function memoryUsage(): { heapUsed: number; rss?: number; error?: NodeJS.ErrnoException } {
  try {
    return process.memoryUsage();
  } catch (error) {
    return { heapUsed: getHeapStatistics().used_heap_size, error: error as NodeJS.ErrnoException };
  }
}

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;
