import { canDropLlmObsEvents, dropLlmObsEvent, silenceLlmObsTelemetry, spanClock } from './dd-trace-internals';

/**
 * The installed dd-trace still has what the keep decision and the silenced counters rely on (a dd-trace upgrade that
 * moves them fails here first; test/llmobs-keep.e2e-spec.ts checks the effect on the wire).
 */
describe('dd-trace internals used by the tracer adapter', () => {
  it("finds LLM Observability's span registry, and drops a span from it", () => {
    expect(canDropLlmObsEvents()).toBe(true);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { tagMap } = require('dd-trace/packages/dd-trace/src/llmobs/tagger') as {
      tagMap: WeakMap<object, unknown>;
    };
    const span = {};
    tagMap.set(span, {});
    expect(dropLlmObsEvent(span)).toBe(true);
    expect(tagMap.has(span)).toBe(false);
  });

  it("replaces LLM Observability's telemetry recorders with no-ops", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const telemetry = require('dd-trace/packages/dd-trace/src/llmobs/telemetry') as Record<string, () => void>;
    const before = telemetry.recordLLMObsAnnotate;
    expect(silenceLlmObsTelemetry()).toBeGreaterThanOrEqual(10);
    expect(telemetry.recordLLMObsAnnotate).not.toBe(before);
    expect(telemetry.incrementLLMObsSpanStartCount!()).toBeUndefined();
  });

  it("reads a span's own clock, and nothing from an object without one", () => {
    expect(spanClock({ _getTime: () => 42 })).toBe(42);
    expect(spanClock({})).toBeUndefined();
  });
});
