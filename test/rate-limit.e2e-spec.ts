import { FakeOpenAiServer } from './support/fake-openai-server';
import { post } from './support/http';
import { ServiceProcess } from './support/service-process';

/**
 * A short rate limit must not become a long outage (issue 19). The built service, with its defaults and no fallback
 * model, on a loopback OpenAI-compatible upstream.
 */

interface Outcome {
  at: number;
  status: number;
  code?: string;
  resource?: string;
  retryAfter: number | null;
}

/** `workers` clients calling /reason back to back until `until(outcomes so far)` says stop. */
async function load(url: string, workers: number, until: (outcomes: Outcome[]) => boolean): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const worker = async (): Promise<void> => {
    while (!until(outcomes)) {
      const res = await post(`${url}/reason`, { prompt: 'hello' });
      const body = (await res.json()) as { code?: string; resource?: string };
      const retryAfter = res.headers.get('retry-after');
      outcomes.push({
        at: Date.now(),
        status: res.status,
        code: body.code,
        resource: body.resource,
        retryAfter: retryAfter === null ? null : Number(retryAfter),
      });
    }
  };
  await Promise.all(Array.from({ length: workers }, () => worker()));
  return outcomes;
}

describe('rate-limit drill: 429 Retry-After: 1 for 2 s, then 200', () => {
  let upstream: FakeOpenAiServer;

  beforeAll(async () => {
    upstream = await new FakeOpenAiServer().start();
  });

  afterAll(async () => {
    await upstream?.close();
  });

  beforeEach(() => upstream.reset());

  it.each([
    ['the defaults', {}, false],
    // No retries and a short wait: calls are refused while the model is held, and say for how long.
    ['no retries and a 200 ms wait', { LLM_MAX_RETRIES: '0', LLM_QUEUE_TIMEOUT_MS: '200' }, true],
  ])(
    'with %s: recovers within 2 s of the provider, never opens the circuit, every 503 says retry in about a second',
    async (_name, env: Record<string, string>, refusals: boolean) => {
      const service = await new ServiceProcess({
        DD_TRACE_ENABLED: 'false',
        LLM_PROVIDER: 'openai',
        OPENAI_BASE_URL: upstream.url,
        LLM_MODEL: 'gpt-drill',
        ...env,
      }).start();
      try {
        const startedAt = Date.now();
        const switchAt = startedAt + 2000;
        let limited = 0;
        let answered = 0;
        upstream.setDefault(() => {
          if (Date.now() < switchAt) {
            limited += 1;
            return { type: 'error', status: 429, retryAfter: '1' };
          }
          answered += 1;
          return { type: 'answer', text: 'recovered', delayMs: 20 };
        });
        const firstOk = (outcomes: Outcome[]): number | undefined =>
          outcomes.reduce<number | undefined>(
            (first, o) =>
              o.status === 200 && o.at >= switchAt && (first === undefined || o.at < first) ? o.at : first,
            undefined,
          );
        // 32 clients back to back, until 1.5 s after the first answer past the switch (8 s at most).
        const outcomes = await load(service.url, 32, (sofar) => {
          const now = Date.now();
          const ok = firstOk(sofar);
          return now - startedAt > 8000 || (ok !== undefined && now - ok > 1500);
        });
        const firstOkAt = firstOk(outcomes);
        expect(firstOkAt).toBeDefined();
        const recoveryMs = firstOkAt! - switchAt;
        const refused = outcomes.filter((o) => o.status === 503);
        const kinds = [...new Set(refused.map((o) => `${o.code}/${o.resource ?? '-'}`))].join(', ');
        process.stdout.write(
          `rate-limit drill (${_name}): first 200 to a client ${recoveryMs} ms after the upstream recovered; ${outcomes.length} client ` +
            `calls, ${refused.length} × 503 (${kinds}), Retry-After at most ${Math.max(0, ...refused.map((o) => o.retryAfter ?? 0))} s; ` +
            `upstream: ${limited} requests answered 429 in 2 s, ${answered} answered 200\n`,
        );
        expect(recoveryMs).toBeLessThanOrEqual(2000);
        if (refusals) {
          expect(refused.length).toBeGreaterThan(0);
          expect(refused.some((o) => o.code === 'NO_CAPACITY' && o.resource === 'provider_rate_limit')).toBe(true);
        }
        // Never the breaker's 30 s: a 1 s rate limit answers "retry in 1 s" (2 s at most, rounding a partial second).
        expect(refused.every((o) => o.retryAfter !== null && o.retryAfter <= 2)).toBe(true);
        expect(refused.some((o) => o.code === 'CIRCUIT_OPEN')).toBe(false);
        // Once recovered it stays recovered: the calls that ended a second after the first 200 were all answered.
        const settled = outcomes.filter((o) => o.at > firstOkAt! + 1000);
        expect(settled.length).toBeGreaterThan(0);
        expect(settled.every((o) => o.status === 200)).toBe(true);
        // The provider was spared: the first wave of 32, then about one probe per hold.
        expect(limited).toBeLessThanOrEqual(32 + 6);
        const ready = (await (await fetch(`${service.url}/health/ready`)).json()) as {
          dependencies: Record<string, { status: string }>;
        };
        expect(ready.dependencies.llmProvider!.status).toBe('ok');
      } finally {
        await service.stop();
      }
    },
    60_000,
  );

  it('a 5xx storm still opens the circuit for LLM_BREAKER_COOLDOWN_MS', async () => {
    upstream.setDefault({ type: 'error', status: 500 });
    const service = await new ServiceProcess({
      DD_TRACE_ENABLED: 'false',
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: upstream.url,
      LLM_MODEL: 'gpt-drill',
      LLM_RETRY_BASE_MS: '5',
      LLM_RETRY_MAX_MS: '20',
    }).start();
    try {
      const statuses: number[] = [];
      let open: Response | undefined;
      for (let i = 0; i < 6 && !open; i++) {
        const res = await post(`${service.url}/reason`, { prompt: 'hello' });
        statuses.push(res.status);
        if (res.status === 503) open = res;
        else await res.arrayBuffer();
      }
      expect(statuses.slice(0, 2)).toEqual([502, 502]);
      expect(open).toBeDefined();
      expect(await open!.json()).toMatchObject({ code: 'CIRCUIT_OPEN', attempts: 0 });
      // The long open time stays for real failures (30 s by default).
      expect(Number(open!.headers.get('retry-after'))).toBeGreaterThanOrEqual(25);
      const sent = upstream.requests.length;
      await post(`${service.url}/reason`, { prompt: 'hello' }).then((r) => r.arrayBuffer());
      expect(upstream.requests.length).toBe(sent);
    } finally {
      await service.stop();
    }
  }, 60_000);
});
