/**
 * The places where the service reaches into dd-trace's internals (dd-trace 6.x, no `exports` map), each checked when
 * first used and harmless when the module is not what it expects:
 *
 * - dropping a span's LLM Observability event: dd-trace builds and sends an event for every span registered in its
 *   tagger's registry (`LLMObsTagger.tagMap`, a WeakMap) when the span finishes. A span taken out of it before it
 *   finishes is an ordinary APM span: nothing is formatted, encoded or sent for it. The public alternative
 *   (`llmobs.registerProcessor` returning null) drops the event only after it is formatted, the larger half of the
 *   cost. test/llmobs-keep.e2e-spec.ts checks on the installed dd-trace that a dropped call sends nothing and a kept one
 *   everything.
 * - silencing LLM Observability's own instrumentation-telemetry counters: dd-trace counts every span start, finish,
 *   annotation, export and evaluation into tagged counters (a sorted tag string built per call) even when
 *   instrumentation telemetry is off (DD_INSTRUMENTATION_TELEMETRY_ENABLED=false, our default), when nobody sends them:
 *   3.7 % of the service's CPU under load (bench/RESULTS.md).
 */

interface TaggerModule {
  tagMap?: WeakMap<object, unknown>;
}

let registry: WeakMap<object, unknown> | null | undefined;

/** dd-trace's registry of LLM Observability spans; null when it cannot be found. */
function llmobsRegistry(): WeakMap<object, unknown> | null {
  if (registry !== undefined) return registry;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const tagger = require('dd-trace/packages/dd-trace/src/llmobs/tagger') as TaggerModule;
    registry = tagger.tagMap instanceof WeakMap ? tagger.tagMap : null;
  } catch {
    registry = null;
  }
  return registry;
}

/** Whether `dropLlmObsEvent` can drop events with the installed dd-trace. */
export function canDropLlmObsEvents(): boolean {
  return llmobsRegistry() !== null;
}

/**
 * Takes an open span out of LLM Observability: when it finishes, no event is built or sent. Returns false when the
 * installed dd-trace does not allow it (the event is then sent as usual).
 */
export function dropLlmObsEvent(span: object): boolean {
  const map = llmobsRegistry();
  if (!map) return false;
  map.delete(span);
  return true;
}

/**
 * Replaces LLM Observability's telemetry recorders with no-ops. Only call when instrumentation telemetry is off: the
 * counters are then never sent. Returns how many recorders were replaced.
 */
export function silenceLlmObsTelemetry(): number {
  let telemetry: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    telemetry = require('dd-trace/packages/dd-trace/src/llmobs/telemetry') as Record<string, unknown>;
  } catch {
    return 0;
  }
  let replaced = 0;
  for (const key of Object.keys(telemetry)) {
    // Recorders only (`recordX`, `incrementX`): they return nothing and are called as `telemetry.recordX(...)`.
    if (typeof telemetry[key] === 'function' && /^(record|increment)[A-Z]/.test(key)) {
      telemetry[key] = noop;
      replaced++;
    }
  }
  return replaced;
}

function noop(): void {}

/** The part of dd-trace's exporter connection pool (a Node `http.Agent` subclass) that `boundAgentQueue` uses. */
interface ExporterAgent {
  requests: Record<string, unknown[] | undefined>;
  addRequest: (req: { onSocket?: (socket: null, err: Error) => void }, options: unknown) => void;
}

let exporterDrops = 0;
let boundedAgent: ExporterAgent | undefined;

/**
 * Bounds how many exporter requests wait for dd-trace's connection to the agent; beyond `max`, a new payload is
 * dropped (and counted: `exporterQueueDrops`). Returns false when the installed dd-trace does not allow it.
 *
 * Every exporter (traces every 2 s, LLM Observability spans and evaluations every 1 s) sends through one shared
 * `http.Agent` with a single keep-alive connection to the agent (`exporters/common/agents.js`, `maxSockets: 1`), and
 * a request's timeout (2 s traces, 5 s LLM Observability) starts only once it has that connection. An agent that
 * accepts connections and never answers is released one request per timeout (about one every 4 s) while new ones
 * come 2-3 a second, whatever the load: each waits in the pool's queue with its payload and its ClientRequest. The
 * only bound was dd-trace's 64 MiB of payload bytes in flight (`exporters/common/request.js`), reached in minutes
 * under heavy load (RSS about +150 MiB) and, by estimate, after hours of light load, with tens of thousands queued.
 * A request refused here fails as the pool fails one it cannot connect (`req.onSocket(null, err)`): dd-trace's
 * request sees an error it does not retry, releases its bytes and drops the payload, as it drops any it cannot send.
 */
export function boundAgentQueue(max: number): boolean {
  let agent: ExporterAgent | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const agents = require('dd-trace/packages/dd-trace/src/exporters/common/agents') as { httpAgent?: ExporterAgent };
    agent = agents.httpAgent;
  } catch {
    return false;
  }
  if (!agent || typeof agent.addRequest !== 'function' || typeof agent.requests !== 'object') return false;
  if (boundedAgent === agent) return true;
  const pool = agent;
  const addRequest = pool.addRequest.bind(pool);
  pool.addRequest = (req, options) => {
    let queued = 0;
    for (const waiting of Object.values(pool.requests)) queued += waiting?.length ?? 0;
    if (queued >= max && typeof req.onSocket === 'function') {
      exporterDrops++;
      const error = Object.assign(new Error(`the Datadog agent is not keeping up: ${max} payloads already wait`), {
        code: 'ERR_LRCP_AGENT_QUEUE_FULL',
      });
      req.onSocket(null, error);
      return;
    }
    addRequest(req, options);
  };
  boundedAgent = pool;
  return true;
}

/** How many exporter payloads `boundAgentQueue` dropped since the start. */
export function exporterQueueDrops(): number {
  return exporterDrops;
}

/** How many exporter requests wait for the agent connection now (0 when dd-trace's pool cannot be found). */
export function exporterQueueLength(): number {
  if (!boundedAgent) return 0;
  let queued = 0;
  for (const waiting of Object.values(boundedAgent.requests)) queued += waiting?.length ?? 0;
  return queued;
}

/** The span's own clock (dd-trace's monotonic epoch milliseconds), for a finish time noted before `finish`. */
export function spanClock(span: object): number | undefined {
  const getTime = (span as { _getTime?: () => number })._getTime;
  return typeof getTime === 'function' ? getTime.call(span) : undefined;
}
