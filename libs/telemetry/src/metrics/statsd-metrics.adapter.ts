import { Logger } from '@nestjs/common';
import { StatsD } from 'hot-shots';
import { monotonicNow, WarningThrottle } from '@app/common';
import { type AppConfig, BootError } from '@app/config';
import { METRICS } from './metric-catalog';
import { formatTags, type MetricsHealth, MetricsPort, type Tags } from './metrics.port';

const ERROR_LOG_INTERVAL_MS = 60_000;
/** Values held between flushes before an early flush (bounds memory under any traffic). */
const MAX_PENDING_VALUES = 20_000;
/** The most bytes of values in one packed line: well under the agent's default 8 KB read buffer with tags. */
const MAX_PACKED_VALUE_BYTES = 1_024;

/** hot-shots' raw send: the message without tags; the client adds the global tags, the tags and the prefix. */
interface RawSender {
  send(message: string, tags?: string[]): void;
}

/** Per tag set (keyed by the joined tags: equal tags share a series whatever array carries them), per name. */
type Series<V> = Map<string, { tags: Tags | undefined; byName: Map<string, V> }>;

function byNameOf<V>(series: Series<V>, tags: Tags | undefined): Map<string, V> {
  const key = tags === undefined ? '' : tags.join(',');
  let entry = series.get(key);
  if (!entry) {
    entry = { tags, byName: new Map() };
    series.set(key, entry);
  }
  return entry.byName;
}

/** A value as DogStatsD reads it, with at most 6 significant digits (shorter lines, no float noise). */
export function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}

/**
 * Packs values of one series into DogStatsD 1.1 multi-value messages (`name:v1:v2:v3|d`), each at most
 * MAX_PACKED_VALUE_BYTES of values. The Datadog agent (≥ 6.25 / 7.25) reads each value as one sample,
 * exactly as if they had come one line each.
 */
export function packValues(name: string, type: string, values: readonly number[]): string[] {
  const messages: string[] = [];
  let current = '';
  for (const value of values) {
    const text = formatValue(value);
    if (current.length > 0 && current.length + text.length + 1 > MAX_PACKED_VALUE_BYTES) {
      messages.push(`${name}${current}|${type}`);
      current = '';
    }
    current += `:${text}`;
  }
  if (current.length > 0) messages.push(`${name}${current}|${type}`);
  return messages;
}

/**
 * DogStatsD through hot-shots: explicit host and port from config (never hot-shots' own env fallback),
 * buffered sends, global unified-service tags. Send errors are counted and logged at most once a minute.
 *
 * With STATSD_FLUSH_INTERVAL_MS > 0 (the default, 1 s) nothing is formatted or sent on the request path:
 * counters are summed per series, gauges keep their last value, distribution samples are collected per
 * series, and all of it goes out once per interval, distributions packed several values to a line. Datadog
 * aggregates per 10 s, so nothing is lost; the request pays for a map lookup and an array push.
 */
/**
 * hot-shots sends to a unix datagram socket through `unix-dgram`, its optional native dependency: an install without
 * install scripts (`npm ci --ignore-scripts`) has it unbuilt, and every metric would fail to send. Said at the start,
 * naming the setting, instead.
 */
function assertUnixDatagramSupport(): void {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('unix-dgram');
  } catch (error) {
    throw new BootError(
      'DD_DOGSTATSD_URL',
      'a unix:// socket needs the native module unix-dgram (an optional dependency of hot-shots), which this install ' +
        'has not built (installed with --ignore-scripts, or without a compiler): run `npm rebuild unix-dgram`, or ' +
        'use udp://host:port (or DD_AGENT_HOST and DD_DOGSTATSD_PORT)',
      { cause: error },
    );
  }
}

/** What `tagClientTelemetry` reads of a hot-shots client (not in its typings). */
interface TelemetryInternals {
  globalTags?: unknown;
  telemetry?: { telemetryTags?: unknown } | null;
}

/**
 * hot-shots tags its client telemetry (`datadog.dogstatsd.client.*`) with `client`, `client_version` and
 * `client_transport` only, never the global tags: the lines of this service's client could not be told from those of
 * any other service on the same agent (which one drops packets?), unlike dd-trace's client and Datadog's Go client,
 * which add their global tags. They get the client's global tags here (`env`, `service`, `version`, and `DD_TAGS`'s).
 */
function tagClientTelemetry(client: StatsD): void {
  const internals = client as unknown as TelemetryInternals;
  const tags = internals.telemetry?.telemetryTags;
  const global = internals.globalTags;
  if (!Array.isArray(tags) || !Array.isArray(global)) return;
  for (const tag of global) if (typeof tag === 'string' && !tags.includes(tag)) tags.push(tag);
}

export class StatsdMetricsAdapter extends MetricsPort {
  private readonly logger = new Logger('StatsdMetrics');
  private readonly client: StatsD;
  private readonly raw: RawSender;
  private readonly target: string;
  private sendErrors = 0;
  private unreportedErrors = 0;
  private lastError?: string;
  /** monotonicNow() of the last send error (0: none yet). */
  private lastErrorAt = 0;
  private readonly errorLog = new WarningThrottle(ERROR_LOG_INTERVAL_MS);
  private closed = false;
  /** What is held until the next flush, per series. */
  private readonly counts: Series<number> = new Map();
  private readonly gauges: Series<number> = new Map();
  private readonly samples: Series<number[]> = new Map();
  private pendingValues = 0;
  private readonly aggregate: boolean;
  private readonly flushTimer?: NodeJS.Timeout;

  constructor(config: Pick<AppConfig, 'statsd' | 'service'>) {
    super();
    const { socketPath } = config.statsd;
    if (socketPath) assertUnixDatagramSupport();
    this.target = socketPath ? `unix://${socketPath}` : `udp://${config.statsd.host}:${config.statsd.port}`;
    this.client = new StatsD({
      // The agent's datagram socket (DD_DOGSTATSD_URL unix:///…, as Datadog's admission controller injects it): no
      // UDP packet loss, no host port. A socket absent at start (the agent starting later) is opened again on a send.
      ...(socketPath
        ? { protocol: 'uds' as const, path: socketPath }
        : { host: config.statsd.host, port: config.statsd.port, protocol: 'udp' as const, cacheDns: true }),
      globalTags: formatTags({
        env: config.service.env,
        service: config.service.name,
        version: config.service.version,
      }),
      maxBufferSize: config.statsd.maxBufferBytes,
      bufferFlushInterval: config.statsd.flushIntervalMs,
      // Datadog's client telemetry (`datadog.dogstatsd.client.*`: metrics, bytes and packets sent and dropped), on
      // whatever the environment says: hot-shots turned it on only when some DD_* variable was set.
      includeDatadogTelemetry: true,
      errorHandler: (error: Error) => this.onError(error),
    });
    tagClientTelemetry(this.client);
    const raw = this.client as unknown as Partial<RawSender>;
    if (typeof raw.send !== 'function') throw new Error('hot-shots: Client.send(message, tags) is missing');
    this.raw = raw as RawSender;
    this.aggregate = config.statsd.flushIntervalMs > 0;
    if (this.aggregate) {
      this.flushTimer = setInterval(() => this.flush(), config.statsd.flushIntervalMs);
      this.flushTimer.unref();
    }
  }

  increment(name: string, value: number, tags?: Tags): void {
    if (!this.aggregate) {
      this.client.increment(name, value, tags as string[] | undefined);
      return;
    }
    const byName = byNameOf(this.counts, tags);
    byName.set(name, (byName.get(name) ?? 0) + value);
  }

  distribution(name: string, value: number, tags?: Tags): void {
    if (!this.aggregate || !Number.isFinite(value)) {
      if (Number.isFinite(value)) this.client.distribution(name, value, tags as string[] | undefined);
      return;
    }
    const byName = byNameOf(this.samples, tags);
    const values = byName.get(name);
    if (values) values.push(value);
    else byName.set(name, [value]);
    if (++this.pendingValues >= MAX_PENDING_VALUES) this.flush();
  }

  gauge(name: string, value: number, tags?: Tags): void {
    if (!this.aggregate) {
      this.client.gauge(name, value, tags as string[] | undefined);
      return;
    }
    byNameOf(this.gauges, tags).set(name, value);
  }

  /** Sends everything held since the last flush (also on close). */
  flush(): void {
    for (const { tags, byName } of this.counts.values()) {
      for (const [name, value] of byName) this.client.increment(name, value, tags as string[] | undefined);
    }
    this.counts.clear();
    for (const { tags, byName } of this.gauges.values()) {
      for (const [name, value] of byName) this.client.gauge(name, value, tags as string[] | undefined);
    }
    this.gauges.clear();
    for (const { tags, byName } of this.samples.values()) {
      for (const [name, values] of byName) {
        for (const message of packValues(name, 'd', values)) this.raw.send(message, tags as string[] | undefined);
      }
    }
    this.samples.clear();
    this.pendingValues = 0;
    this.reportErrorsIfRecovered();
  }

  health(): MetricsHealth {
    const recentError = this.lastErrorAt > 0 && monotonicNow() - this.lastErrorAt < ERROR_LOG_INTERVAL_MS;
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
    this.flush();
    this.closed = true;
    return new Promise((resolve) => this.client.close(() => resolve()));
  }

  private onError(error: Error): void {
    this.sendErrors += 1;
    this.unreportedErrors += 1;
    this.lastError = this.describeError(error);
    this.lastErrorAt = monotonicNow();
    if (this.errorLog.admit() !== undefined) {
      this.logger.warn(`DogStatsD send failed (${this.sendErrors} so far, logged once a minute): ${this.lastError}`);
    }
  }

  /**
   * One line, in words: an error re-emitted by hot-shots (`Unhandled error. (Error: connect -2\n    at …`) carried its
   * stack into the message, and a unix socket's errno was a bare number (-2: the socket file does not exist, -111:
   * nothing listens on it) or "Socket not created properly", which told an operator nothing about the agent.
   */
  private describeError(error: Error): string {
    const line = error.message.split('\n')[0]!.trim();
    if (!this.target.startsWith('unix://')) return line;
    // hot-shots opens the socket again on the next send and, while it cannot, says only "Socket not created properly".
    if (/\b(connect|send) -2\b|ENOENT|Socket not created properly/.test(line))
      return `the socket ${this.target} does not exist or cannot be opened: is the agent running, with its socket mounted here? (${line})`;
    if (/\b(connect|send) -111\b|ECONNREFUSED/.test(line))
      return `nothing listens on the socket ${this.target}: is the agent running? (${line})`;
    return line;
  }

  private reportErrorsIfRecovered(): void {
    if (this.unreportedErrors > 0 && monotonicNow() - this.lastErrorAt > ERROR_LOG_INTERVAL_MS) {
      const count = this.unreportedErrors;
      this.unreportedErrors = 0;
      this.client.increment(METRICS.statsdErrors.name, count);
    }
  }
}
