import { FakeOpenAiServer } from './support/fake-openai-server';
import { post } from './support/http';
import { ServiceProcess } from './support/service-process';

/**
 * Defaults that fit LLM latencies (issue 19): the built service on a loopback OpenAI-compatible upstream. One wave of
 * calls each, bounded by a timeout.
 */

interface Answer {
  status: number;
  code?: string;
  resource?: string;
  retryAfter: string | null;
}

async function wave(url: string, calls: number, timeoutMs: number): Promise<Answer[]> {
  const signal = AbortSignal.timeout(timeoutMs);
  return Promise.all(
    Array.from({ length: calls }, async (_v, i) => {
      const res = await fetch(`${url}/reason`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: `question ${i}` }),
        signal,
      });
      const body = (await res.json()) as { code?: string; resource?: string };
      return {
        status: res.status,
        code: body.code,
        resource: body.resource,
        retryAfter: res.headers.get('retry-after'),
      };
    }),
  );
}

const count = (answers: Answer[]): Record<number, number> =>
  answers.reduce<Record<number, number>>((acc, a) => ({ ...acc, [a.status]: (acc[a.status] ?? 0) + 1 }), {});

describe('capacity: defaults sized for LLM latencies, load shed on saturation with the resource named', () => {
  let upstream: FakeOpenAiServer;

  beforeAll(async () => {
    upstream = await new FakeOpenAiServer().start();
  });

  afterAll(async () => {
    await upstream?.close();
  });

  beforeEach(() => upstream.reset());

  const start = (env: Record<string, string> = {}): Promise<ServiceProcess> =>
    new ServiceProcess({
      DD_TRACE_ENABLED: 'false',
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: upstream.url,
      LLM_MODEL: 'gpt-capacity',
      ...env,
    }).start();

  it('500 concurrent calls to an upstream taking 5 s: no 503 with the defaults', async () => {
    // 5 s, so the calls overlap at the upstream even when a loaded runner takes seconds to send and admit them all.
    upstream.setDefault({ type: 'answer', text: 'slow answer', delayMs: 5000 });
    const service = await start();
    try {
      const started = Date.now();
      // The most calls the upstream held at once, sampled while the wave runs.
      let peak = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          peak = Math.max(peak, upstream.requests.filter((r) => r.outcome === 'pending').length);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const answers = await wave(service.url, 500, 40_000).finally(() => (sampling = false));
      await sampler;
      const elapsed = Date.now() - started;
      process.stdout.write(
        `capacity: 500 calls on a 5 s upstream: ${JSON.stringify(count(answers))} in ${elapsed} ms, at most ${peak} at once upstream\n`,
      );
      expect(count(answers)).toEqual({ 200: 500 });
      expect(upstream.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(500);
      // In flight together, past the old cap of 64 (waves of 64, and 503s past LLM_QUEUE_TIMEOUT_MS): counted at the
      // upstream, not timed (with a 1 s upstream the wave took 7.8 s of a 10 s bound on a loaded 2-core runner).
      expect(peak).toBeGreaterThan(64);
    } finally {
      await service.stop();
    }
  }, 60_000);

  it('the optional hard cap (LLM_MAX_CONCURRENCY) answers 503 NO_CAPACITY naming concurrency, with Retry-After', async () => {
    upstream.setDefault({ type: 'answer', text: 'slow answer', delayMs: 1000 });
    const service = await start({ LLM_MAX_CONCURRENCY: '20', LLM_QUEUE_TIMEOUT_MS: '200' });
    try {
      const answers = await wave(service.url, 60, 15_000);
      expect(count(answers)).toEqual({ 200: 20, 503: 40 });
      const refused = answers.filter((a) => a.status === 503);
      expect(
        refused.every((a) => a.code === 'NO_CAPACITY' && a.resource === 'concurrency' && a.retryAfter === '1'),
      ).toBe(true);
    } finally {
      await service.stop();
    }
  }, 60_000);

  it('sheds load at admission when a resource stays saturated, naming it (a heap threshold every process is over)', async () => {
    const service = await start({ LLM_SHED_HEAP_RATIO: '0.0001', LLM_SHED_SUSTAIN_MS: '500' });
    try {
      // Two samples (500 ms apart) over the threshold: saturated once sustained for 500 ms.
      await new Promise((r) => setTimeout(r, 1500));
      const res = await post(`${service.url}/reason`, { prompt: 'hello' });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toMatchObject({ code: 'NO_CAPACITY', resource: 'heap', attempts: 0 });
      expect(upstream.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(0);
    } finally {
      await service.stop();
    }
  }, 60_000);
});
