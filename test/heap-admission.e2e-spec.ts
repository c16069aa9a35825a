import { FakeOpenAiServer } from './support/fake-openai-server';
import { ServiceProcess } from './support/service-process';

/**
 * A burst of large prompts cannot run the heap out (docs/operations.md, "Saturation"). The built service with a
 * small heap (256 MB old space), a loopback OpenAI-compatible upstream that holds every call, and 200 chat calls of
 * 900 KB sent at once: about 1.8 MB of heap each while in flight, 360 MB in all. The sampled heap signal needs
 * LLM_SHED_SUSTAIN_MS to shed; before the admission counted the prompts' heap, the process died of it (V8's "heap
 * out of memory", exit 134) within seconds, every call in flight lost. Now the calls that do not fit are refused at
 * once with 503 `no_capacity` naming the heap, the process lives on, and once the held calls end their heap is given
 * back: the next large call is answered. Bounded: one wave, about 180 MB over loopback.
 */

const CALLS = 200;
const PROMPT_CHARS = 900_000;

interface Outcome {
  status: number | 'failed';
  code?: string;
  message?: string;
}

describe('heap admission: a burst of large prompts is shed, not an out-of-memory crash', () => {
  let upstream: FakeOpenAiServer;
  let service: ServiceProcess;

  beforeAll(async () => {
    upstream = await new FakeOpenAiServer().start();
    service = await new ServiceProcess({
      NODE_OPTIONS: '--max-semi-space-size=8 --max-old-space-size=256',
      DD_TRACE_ENABLED: 'false',
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: upstream.url,
      LLM_MODEL: 'gpt-heap',
      LLM_TIMEOUT_MS: '120000',
      ML_REMOTE_EMBEDDINGS_SAMPLE_RATE: '0',
      // The burst keeps the loop busy for seconds on a slow machine: the loop's own shedding is off, so that what
      // refuses the calls here is the heap's.
      LLM_SHED_ELU: '0',
      LLM_SHED_EVENT_LOOP_DELAY_MS: '0',
    }).start();
  }, 60_000);

  afterAll(async () => {
    await service?.stop();
    await upstream?.close();
  });

  const body = (i: number): string =>
    JSON.stringify({
      model: 'gpt-heap',
      messages: [
        {
          role: 'user',
          content: `${i} ${'The quick brown fox jumps over the lazy dog. '.repeat(20_001)}`.slice(0, PROMPT_CHARS),
        },
      ],
    });

  async function call(i: number, signal: AbortSignal): Promise<Outcome> {
    try {
      const res = await fetch(`${service.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: body(i),
        signal,
      });
      const json = (await res.json()) as { error?: { code?: string; message?: string } };
      return { status: res.status, code: json.error?.code, message: json.error?.message };
    } catch {
      return { status: 'failed' };
    }
  }

  it('refuses what does not fit with 503 naming the heap, stays up, and gives the heap back when the calls end', async () => {
    upstream.setDefault({ type: 'hang' });
    const held = new AbortController();
    const refusals: Outcome[] = [];
    const calls = Array.from({ length: CALLS }, (_v, i) =>
      call(i, held.signal).then((outcome) => {
        if (outcome.status !== 'failed') refusals.push(outcome);
        return outcome;
      }),
    );
    // Every call is either held by the upstream or answered (refused): none is left unanswered by a dead process.
    const deadline = Date.now() + 90_000;
    while (upstream.requests.length + refusals.length < CALLS && Date.now() < deadline) {
      if (service.pid === undefined || !isAlive(service.pid)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(isAlive(service.pid!)).toBe(true);
    expect(upstream.requests.length + refusals.length).toBe(CALLS);
    expect(refusals.length).toBeGreaterThan(0);
    for (const refusal of refusals) {
      expect(refusal).toMatchObject({ status: 503, code: 'no_capacity' });
      expect(refusal.message).toContain('(heap)');
    }
    expect(upstream.requests.length).toBeGreaterThan(0);

    // The held calls' clients go away: their heap no longer counts, and the next large call goes through.
    held.abort();
    await Promise.all(calls);
    upstream.setDefault({ type: 'answer', text: 'Paris.' });
    const next = await waitForAnswer(() => call(CALLS, AbortSignal.timeout(30_000)), 20_000);
    expect(next.status).toBe(200);
    expect(isAlive(service.pid!)).toBe(true);
  }, 150_000);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The abandoned calls are recorded as their connections close: the first 200 within `ms`, or the last answer. */
async function waitForAnswer(attempt: () => Promise<Outcome>, ms: number): Promise<Outcome> {
  const deadline = Date.now() + ms;
  for (;;) {
    const outcome = await attempt();
    if (outcome.status === 200 || Date.now() > deadline) return outcome;
    await new Promise((r) => setTimeout(r, 250));
  }
}
