import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { RequestOutcomeRecorder, type UnroutedOutcome } from '@app/common';
import { METRICS, TAG } from '../metrics/metric-catalog';
import { formatTags, MetricsPort } from '../metrics/metrics.port';

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export function statusClass(status: number): string {
  return STATUS_CLASSES[Math.min(4, Math.max(0, Math.floor(status / 100) - 1))]!;
}

export interface RequestOutcome {
  route: string;
  method: string;
  status: number;
  durationMs: number;
}

/** The HTTP fields of a request's log line (`http` in the line). */
export interface HttpLogFields {
  readonly method: string;
  /** The matched route template, never the raw path. */
  readonly route: string;
  readonly status_code: number;
}

const LOG_LINE = Symbol('lrcp.requestLogLine');

/** The log line of a controller call the interceptor records: its HTTP fields on success, and who writes it. */
interface LogLineState {
  readonly http: HttpLogFields;
  owner?: string;
}

type WithLogLine = { [LOG_LINE]?: LogLineState };

/**
 * Records the request metrics (counter + duration distribution). Tag arrays are built once per
 * route/method/status-class combination and reused; the combinations are bounded by the route table.
 */
@Injectable()
export class RequestTelemetry extends RequestOutcomeRecorder {
  private readonly tagCache = new Map<string, string[]>();

  constructor(
    private readonly metrics: MetricsPort,
    private readonly logger: PinoLogger,
  ) {
    super();
    this.logger.setContext('RequestTelemetry');
  }

  record(outcome: RequestOutcome): void {
    const tags = this.tags(outcome.route, outcome.method, outcome.status);
    this.metrics.increment(METRICS.httpRequestCount.name, 1, tags);
    this.metrics.distribution(METRICS.httpRequestDuration.name, outcome.durationMs, tags);
  }

  /** Called by the interceptor as it starts recording a controller call: the HTTP fields of its line on success. */
  openLogLine(request: object, http: HttpLogFields): void {
    (request as WithLogLine)[LOG_LINE] = { http };
  }

  /**
   * Hands the request's success log line to `owner`, which writes it with the returned HTTP fields (one line per
   * request, not two): the interceptor then writes none when the call succeeds; a failure (4xx/5xx) still gets
   * the interceptor's line. Undefined when no line is recorded for this request (`@SkipTelemetry`, not a
   * controller call): there is nothing to hand off, and the owner's line carries no HTTP fields.
   */
  handOffLogLine(request: object, owner: string): HttpLogFields | undefined {
    const line = (request as WithLogLine)[LOG_LINE];
    if (!line) return undefined;
    line.owner = owner;
    return line.http;
  }

  /** Who took the request's success log line (`handOffLogLine`), if anyone. */
  logLineOwner(request: object): string | undefined {
    return (request as WithLogLine)[LOG_LINE]?.owner;
  }

  /** Requests that never reached a controller (unknown route, body too large, bad JSON): metrics and one log line. */
  recordUnrouted(outcome: UnroutedOutcome): void {
    // An unknown path is never used as a tag value: it would be unbounded.
    const route = outcome.route ?? 'unmatched';
    const durationMs = outcome.durationMs ?? 0;
    this.record({ route, method: outcome.method, status: outcome.status, durationMs });
    this.logger.warn(
      {
        http: { method: outcome.method, route, status_code: outcome.status },
        code: outcome.code,
        duration_ms: round(durationMs),
      },
      'request rejected',
    );
  }

  private tags(route: string, method: string, status: number): string[] {
    const cls = statusClass(status);
    const key = `${route}\u0000${method}\u0000${cls}`;
    let tags = this.tagCache.get(key);
    if (!tags) {
      tags = formatTags({ [TAG.route]: route, [TAG.method]: method, [TAG.statusClass]: cls });
      this.tagCache.set(key, tags);
    }
    return tags;
  }
}

export function round(value: number): number {
  return Math.round(value * 100) / 100;
}
