/**
 * The catalogue of every metric the service emits: the one place metric and tag names are written.
 * docs/telemetry.md mirrors it, and a test fails when the two differ or when a Datadog asset in
 * datadog/ queries a metric that is not here.
 *
 * Tag values are bounded: route templates, methods, status classes, model ids from config, provider
 * names, error codes. Never a trace id, a prompt, a user id or a raw URL.
 */
export type MetricType = 'count' | 'distribution' | 'gauge';

export interface MetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  readonly unit: string;
  readonly tags: readonly string[];
  readonly description: string;
}

/** Tag keys. Global tags env, service and version are added to every metric by the client. */
export const TAG = {
  route: 'route',
  method: 'method',
  statusClass: 'status_class',
  endpoint: 'endpoint',
  provider: 'provider',
  model: 'model',
  status: 'status',
  errorType: 'error_type',
  state: 'state',
  piiType: 'pii_type',
  action: 'action',
  label: 'label',
  store: 'store',
  kind: 'kind',
} as const;

const HTTP_TAGS = [TAG.route, TAG.method, TAG.statusClass] as const;
const LLM_TAGS = [TAG.endpoint, TAG.provider, TAG.model, TAG.status] as const;

export const METRICS = {
  httpRequestCount: {
    name: 'http.request.count',
    type: 'count',
    unit: 'request',
    tags: HTTP_TAGS,
    description: 'Every HTTP request answered, including 404s and body errors that never reach a controller.',
  },
  httpRequestDuration: {
    name: 'http.request.duration_ms',
    type: 'distribution',
    unit: 'millisecond',
    tags: HTTP_TAGS,
    description:
      'Time from the controller call to the end of the response (of the stream, for SSE), or to the error for unrouted requests.',
  },
  logDropped: {
    name: 'log.dropped.count',
    type: 'count',
    unit: 'line',
    tags: [],
    description:
      'Log lines dropped because stdout did not keep up and LOG_MAX_BACKLOG_BYTES of lines were already waiting.',
  },
  eventLoopUtilization: {
    name: 'runtime.event_loop.utilization',
    type: 'gauge',
    unit: 'fraction',
    tags: [],
    description:
      'Share of the last interval (RUNTIME_METRICS_INTERVAL_MS) the event loop was busy, 0–1: near 1 the process is saturated and latency climbs.',
  },
  eventLoopDelayP99: {
    name: 'runtime.event_loop.delay.p99_ms',
    type: 'gauge',
    unit: 'millisecond',
    tags: [],
    description:
      'p99 of how late the event loop ran a 20 ms timer over the last interval: how long a request can wait to be read.',
  },
  eventLoopDelayMax: {
    name: 'runtime.event_loop.delay.max_ms',
    type: 'gauge',
    unit: 'millisecond',
    tags: [],
    description: 'The longest event-loop stall of the last interval.',
  },
  heapUsed: {
    name: 'runtime.memory.heap_used_bytes',
    type: 'gauge',
    unit: 'byte',
    tags: [],
    description: 'V8 heap in use at the end of the interval.',
  },
  rss: {
    name: 'runtime.memory.rss_bytes',
    type: 'gauge',
    unit: 'byte',
    tags: [],
    description: 'Resident set size of the process at the end of the interval.',
  },
  memoryReleasePause: {
    name: 'runtime.memory.release_ms',
    type: 'distribution',
    unit: 'millisecond',
    tags: [],
    description:
      'Each idle memory release (MEMORY_RELEASE_IDLE_MS): the pause of its memory-reducing full collection. Its count is the number of releases.',
  },
  memoryReleased: {
    name: 'runtime.memory.released_bytes',
    type: 'count',
    unit: 'byte',
    tags: [],
    description: 'RSS handed back to the OS by idle memory releases (RSS before minus after each release).',
  },
  gcPause: {
    name: 'runtime.gc.pause_ms',
    type: 'count',
    unit: 'millisecond',
    tags: [TAG.kind],
    description: 'Time spent in garbage collection over the interval, by kind (minor, major, incremental, weakcb).',
  },
  statsdErrors: {
    name: 'telemetry.statsd.send_errors',
    type: 'count',
    unit: 'error',
    tags: [],
    description: 'DogStatsD send errors seen since the last report (sent once the socket works again).',
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRICS;

/**
 * Every metric of the given catalogues (each library keeps one, e.g. `LLM_METRICS`; scripts/metric-catalogues.ts
 * lists them all), sorted by name. A name defined in two catalogues appears twice: the catalogue test refuses it.
 */
export function metricsOf(catalogues: readonly Record<string, MetricDefinition>[]): MetricDefinition[] {
  return catalogues.flatMap((c) => Object.values(c)).sort((a, b) => a.name.localeCompare(b.name));
}

export { LLM_TAGS };
