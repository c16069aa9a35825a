/**
 * The two places where the service reaches into dd-trace's LLM Observability internals (dd-trace 6.x, no `exports`
 * map), each checked when first used and harmless when the module is not what it expects:
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

/** The span's own clock (dd-trace's monotonic epoch milliseconds), for a finish time noted before `finish`. */
export function spanClock(span: object): number | undefined {
  const getTime = (span as { _getTime?: () => number })._getTime;
  return typeof getTime === 'function' ? getTime.call(span) : undefined;
}
