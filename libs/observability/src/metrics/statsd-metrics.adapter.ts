import { Logger } from '@nestjs/common';
import { StatsD } from 'hot-shots';
import type { AppConfig } from '@app/config';
import { METRICS } from './metric-catalog';
import { formatTags, type MetricsHealth, MetricsPort, type Tags } from './metrics.port';

const ERROR_LOG_INTERVAL_MS = 60_000;

/**
 * DogStatsD through hot-shots: explicit host and port from config (never hot-shots' own env fallback),
 * buffered sends, global unified-service tags. Send errors are counted and logged at most once a minute.
 */
export class StatsdMetricsAdapter extends MetricsPort {
  private readonly logger = new Logger('StatsdMetrics');
  private readonly client: StatsD;
  private readonly target: string;
  private sendErrors = 0;
  private unreportedErrors = 0;
  private lastError?: string;
  private lastErrorAt = 0;
  private lastLoggedAt = 0;
  private closed = false;
  /** Counters summed per series until the next flush (keyed by the tag array, then the name). */
  private readonly counts = new Map<Tags | undefined, Map<string, number>>();
  private readonly aggregate: boolean;
  private readonly flushTimer?: NodeJS.Timeout;

  constructor(config: Pick<AppConfig, 'statsd' | 'service'>) {
    super();
    this.target = `udp://${config.statsd.host}:${config.statsd.port}`;
    this.client = new StatsD({
      host: config.statsd.host,
      port: config.statsd.port,
      protocol: 'udp',
      cacheDns: true,
      globalTags: formatTags({
        env: config.service.env,
        service: config.service.name,
        version: config.service.version,
      }),
      maxBufferSize: config.statsd.maxBufferBytes,
      bufferFlushInterval: config.statsd.flushIntervalMs,
      errorHandler: (error: Error) => this.onError(error),
    });
    // Counters are summed in process and sent once per flush interval: one line per series instead of one
    // per request (Datadog aggregates counts per 10 s anyway, so nothing is lost). Tag arrays are built once
    // per combination by the callers, so the array itself is the key.
    this.aggregate = config.statsd.flushIntervalMs > 0;
    if (this.aggregate) {
      this.flushTimer = setInterval(() => this.flushCounts(), config.statsd.flushIntervalMs);
      this.flushTimer.unref();
    }
  }

  increment(name: string, value: number, tags?: Tags): void {
    if (!this.aggregate) {
      this.client.increment(name, value, tags as string[] | undefined);
      return;
    }
    let byName = this.counts.get(tags);
    if (!byName) {
      byName = new Map();
      this.counts.set(tags, byName);
    }
    byName.set(name, (byName.get(name) ?? 0) + value);
  }

  /** Sends the summed counters (also on close). */
  flushCounts(): void {
    for (const [tags, byName] of this.counts) {
      for (const [name, value] of byName) this.client.increment(name, value, tags as string[] | undefined);
    }
    this.counts.clear();
    this.reportErrorsIfRecovered();
  }

  distribution(name: string, value: number, tags?: Tags): void {
    this.client.distribution(name, value, tags as string[] | undefined);
  }

  gauge(name: string, value: number, tags?: Tags): void {
    this.client.gauge(name, value, tags as string[] | undefined);
  }

  health(): MetricsHealth {
    const recentError = this.lastErrorAt > 0 && Date.now() - this.lastErrorAt < ERROR_LOG_INTERVAL_MS;
    return {
      ok: !this.closed && !recentError,
      target: this.target,
      sendErrors: this.sendErrors,
      lastError: this.lastError,
    };
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushCounts();
    this.closed = true;
    return new Promise((resolve) => this.client.close(() => resolve()));
  }

  private onError(error: Error): void {
    this.sendErrors += 1;
    this.unreportedErrors += 1;
    this.lastError = error.message;
    this.lastErrorAt = Date.now();
    if (this.lastErrorAt - this.lastLoggedAt >= ERROR_LOG_INTERVAL_MS) {
      this.lastLoggedAt = this.lastErrorAt;
      this.logger.warn(`DogStatsD send failed (${this.sendErrors} so far, logged once a minute): ${error.message}`);
    }
  }

  private reportErrorsIfRecovered(): void {
    if (this.unreportedErrors > 0 && Date.now() - this.lastErrorAt > ERROR_LOG_INTERVAL_MS) {
      const count = this.unreportedErrors;
      this.unreportedErrors = 0;
      this.client.increment(METRICS.statsdErrors.name, count);
    }
  }
}
