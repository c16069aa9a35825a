import { type Socket, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { testConfig } from '../../../../test/support/app-config';
import { boundAgentQueue } from './dd-trace-internals';
import { AGENT_PROBE_CACHE_MS, DdTracerAdapter } from './dd-tracer.adapter';

/** dd-trace's own request function, as its exporters call it. */
type DdRequest = (
  data: Buffer,
  options: { url: string; path: string; method: string; timeout: number; retry: boolean },
  callback: (error: Error | null) => void,
) => void;

describe('DdTracerAdapter.probeAgent with an agent that accepts connections and never answers', () => {
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

  it('says how many export payloads were dropped in the readiness detail', async () => {
    const { port } = server.address() as AddressInfo;
    const agentUrl = `http://127.0.0.1:${port}`;
    expect(boundAgentQueue(2)).toBe(true);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const request = require('dd-trace/packages/dd-trace/src/exporters/common/request') as DdRequest;
    let failed = 0;
    for (let i = 0; i < 6; i++) {
      request(
        Buffer.alloc(64),
        { url: agentUrl, path: '/v0.4/traces', method: 'PUT', timeout: 60_000, retry: false },
        () => {
          failed++;
        },
      );
    }
    for (let waited = 0; failed < 3 && waited < 200; waited++) await new Promise((r) => setTimeout(r, 25));
    const config = testConfig({ DD_TRACE_ENABLED: 'true', DD_TRACE_AGENT_URL: agentUrl });
    const probe = await new DdTracerAdapter(config).probeAgent();
    expect(probe.reachable).toBe(false);
    expect(probe.detail).toContain('3 export payloads dropped since start');
  }, 20_000);
});

describe('DdTracerAdapter.probeAgent caches its answer on the monotonic clock', () => {
  afterEach(() => jest.restoreAllMocks());

  it('probes the agent again once the cache time went by, though the wall clock stepped back an hour meanwhile', async () => {
    // Nothing listens on port 9 of 127.0.0.1: each probe fails at once.
    const adapter = new DdTracerAdapter(
      testConfig({ DD_TRACE_ENABLED: 'true', DD_TRACE_AGENT_URL: 'http://127.0.0.1:9' }),
    );
    const first = adapter.probeAgent();
    expect(adapter.probeAgent()).toBe(first); // cached
    const wall = Date.now();
    const monotonic = performance.now();
    jest.spyOn(Date, 'now').mockReturnValue(wall - 3_600_000 + AGENT_PROBE_CACHE_MS + 1);
    jest.spyOn(performance, 'now').mockReturnValue(monotonic + AGENT_PROBE_CACHE_MS + 1);
    const second = adapter.probeAgent();
    jest.restoreAllMocks();
    expect(second).not.toBe(first);
    await Promise.all([first, second]);
  });
});
