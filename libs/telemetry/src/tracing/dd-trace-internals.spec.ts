import { type Socket, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  boundAgentQueue,
  canDropLlmObsEvents,
  dropLlmObsEvent,
  exporterQueueDrops,
  exporterQueueLength,
  silenceLlmObsTelemetry,
  spanClock,
} from './dd-trace-internals';

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

/** dd-trace's own request function, as its exporters call it (url, path, timeout; callback with the error). */
type DdRequest = (
  data: Buffer,
  options: { url: string; path: string; method: string; timeout: number; retry: boolean },
  callback: (error: (Error & { code?: string }) | null) => void,
) => void;

describe("dd-trace's exporter queue to an agent that never answers", () => {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });

  beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('keeps at most the bound waiting and drops (and counts) the payloads beyond it', async () => {
    expect(boundAgentQueue(4)).toBe(true);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const request = require('dd-trace/packages/dd-trace/src/exporters/common/request') as DdRequest;
    const { port } = server.address() as AddressInfo;
    const failures: (string | undefined)[] = [];
    const dropsBefore = exporterQueueDrops();
    // The agent accepts the first request's connection and never answers: the others wait for the pool's one socket.
    for (let i = 0; i < 12; i++) {
      request(
        Buffer.alloc(1024, 'x'),
        { url: `http://127.0.0.1:${port}`, path: '/v0.4/traces', method: 'PUT', timeout: 60_000, retry: false },
        (error) => failures.push(error?.code),
      );
    }
    for (let waited = 0; failures.length < 7 && waited < 200; waited++) await new Promise((r) => setTimeout(r, 25));
    expect(exporterQueueLength()).toBeLessThanOrEqual(4);
    expect(failures).toEqual(Array(7).fill('ERR_LRCP_AGENT_QUEUE_FULL'));
    expect(exporterQueueDrops() - dropsBefore).toBe(7);
  });
});
