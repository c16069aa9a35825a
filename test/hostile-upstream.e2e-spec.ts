import { readFileSync } from 'node:fs';
import { GEMINI_FLOOD_FORMAT } from './support/fake-gemini-server';
import { OPENAI_FLOOD_FORMAT } from './support/fake-openai-server';
import { post } from './support/http';
import { type FloodFormat, HostileUpstream, waitFor } from './support/llm-adapter-helpers';
import { ServiceProcess } from './support/service-process';

const MIB = 1024 * 1024;

/** The service's resident memory, from /proc (the tests run on Linux). */
function rssBytes(service: ServiceProcess): number {
  const pid = service.pid;
  if (pid === undefined) throw new Error('the service has no process');
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error('no VmRSS');
  return Number(match[1]) * 1024;
}

/** Samples the service's RSS every 25 ms while `work` runs; resolves with its result and the peak. */
async function withPeakRss<T>(service: ServiceProcess, work: Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = rssBytes(service);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(service));
    } catch {
      // the process is gone: the assertions on the answer say so
    }
  }, 25);
  try {
    return { result: await work, peak };
  } finally {
    clearInterval(timer);
  }
}

interface Problem {
  status: number;
  code: string;
  errorType: string;
  detail: string;
}

/**
 * The built service, run as `npm start` runs it (a 320 MB heap), against an upstream that answers a call with
 * 200 MB or streams without end. Before the response limit, the first killed the process (V8 out of memory,
 * exit 134) within seconds, every call in flight with it; now each is an attempt failing as `invalid_response`
 * (502), the connection is closed at the call's limit and the process serves the next call.
 */
describe.each([
  ['openai', OPENAI_FLOOD_FORMAT, { LLM_PROVIDER: 'openai', LLM_MODEL: 'llama3.2:3b' }],
  ['gemini', GEMINI_FLOOD_FORMAT, { LLM_PROVIDER: 'gemini', GEMINI_API_KEY: 'test-gemini-key-123' }],
] as const)('the built service (%s) against a hostile upstream', (provider, format: FloodFormat, env) => {
  let hostile: HostileUpstream;
  let service: ServiceProcess;
  let startRss = 0;

  beforeAll(async () => {
    hostile = await new HostileUpstream(format).start();
    service = await new ServiceProcess({
      NODE_OPTIONS: '--max-old-space-size=320 --max-semi-space-size=8',
      DD_TRACE_ENABLED: 'false',
      ...env,
      [provider === 'openai' ? 'OPENAI_BASE_URL' : 'LLM_BASE_URL']: hostile.url,
      ML_REMOTE_EMBEDDINGS: 'false',
      LLM_MAX_RETRIES: '2',
      LLM_TIMEOUT_MS: '10000',
    }).start();
    const health = await fetch(`${service.url}/health`);
    expect(health.status).toBe(200);
    startRss = rssBytes(service);
  });

  afterEach(() => {
    hostile.requests.length = 0;
  });

  afterAll(async () => {
    await service?.stop();
    await hostile?.close();
  });

  async function expectAliveAndCutShort(): Promise<void> {
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
    // One attempt (invalid_response is not retried), cut at the call's limit: 2048 max output tokens → 2 MiB.
    await waitFor(() => hostile.requests[0]?.outcome === 'client_closed', 5_000);
    expect(hostile.requests).toHaveLength(1);
    expect(hostile.requests[0]!.sentBytes).toBeLessThan(2 * MIB + 16 * MIB);
  }

  it('answers a 200 MB JSON answer with 502 invalid_response, and lives', async () => {
    hostile.serve({ kind: 'json', bytes: 200 * MIB });
    const started = performance.now();
    const { result: res, peak } = await withPeakRss(service, post(`${service.url}/reason`, { prompt: 'hello' }));
    expect(res.status).toBe(502);
    const problem = (await res.json()) as Problem;
    expect(problem).toMatchObject({ status: 502, code: 'UPSTREAM_ERROR', errorType: 'invalid_response' });
    expect(problem.detail).toMatch(/exceeded 2097152 bytes.*LLM_MAX_RESPONSE_BYTES/);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(peak).toBeLessThan(400 * MIB);
    await expectAliveAndCutShort();
  });

  it('answers an endless stream with an SSE error event of status 502 after the deltas, and lives', async () => {
    hostile.serve({ kind: 'sse' });
    const started = performance.now();
    const { result: text, peak } = await withPeakRss(
      service,
      post(`${service.url}/reason`, { prompt: 'hello' }, { accept: 'text/event-stream' }).then((res) => {
        expect(res.status).toBe(200);
        return res.text();
      }),
    );
    expect(text).toContain('event: delta');
    const error = /event: error\ndata: (.*)\n/.exec(text);
    expect(error).not.toBeNull();
    expect(JSON.parse(error![1]!)).toMatchObject({
      status: 502,
      code: 'UPSTREAM_ERROR',
      errorType: 'invalid_response',
    });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(peak).toBeLessThan(400 * MIB);
    await expectAliveAndCutShort();
  });

  it('answers a JSON request whose upstream streams without end with 502, and lives', async () => {
    hostile.serve({ kind: 'sse' });
    const res = await post(`${service.url}/reason`, { prompt: 'hello' });
    expect(res.status).toBe(502);
    expect(((await res.json()) as Problem).errorType).toBe('invalid_response');
    await expectAliveAndCutShort();
  });

  it('is back to its normal memory afterwards', async () => {
    // Whatever was read of the floods is garbage now; give the collector a moment.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rss = rssBytes(service);
    expect(rss).toBeLessThan(400 * MIB);
    expect(rss).toBeLessThan(startRss + 100 * MIB);
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
  });
});
