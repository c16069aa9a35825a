import { DogStatsdReceiver } from './support/dogstatsd-receiver';
import { FakeOpenAiServer } from './support/fake-openai-server';
import { ServiceProcess } from './support/service-process';

/**
 * What one call in flight costs in memory (docs/operations.md, "Capacity and overhead"): the built service as
 * `npm start` runs it (320 MB old space), its calls held by an upstream that never answers, the heap gauge
 * (`runtime.memory.heap_used_bytes`, every 250 ms) at 0, 1,000 and 2,000 calls in flight. The lowest sample of each
 * plateau approximates the live heap (right after a collection); the slope is the heap per call in flight. Bounded:
 * 2,000 calls, one wave each, about 15 s.
 */

const HEAP = 'runtime.memory.heap_used_bytes';
const RSS = 'runtime.memory.rss_bytes';

describe('memory per call in flight', () => {
  let upstream: FakeOpenAiServer;
  let statsd: DogStatsdReceiver;
  let service: ServiceProcess;

  beforeAll(async () => {
    upstream = await new FakeOpenAiServer().start();
    upstream.setDefault({ type: 'hang' });
    statsd = await new DogStatsdReceiver().start();
    service = await new ServiceProcess({
      NODE_OPTIONS: '--max-semi-space-size=8 --max-old-space-size=320',
      DD_TRACE_ENABLED: 'false',
      DD_DOGSTATSD_PORT: String(statsd.port),
      RUNTIME_METRICS_INTERVAL_MS: '250',
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: upstream.url,
      LLM_MODEL: 'gpt-memory',
      LLM_TIMEOUT_MS: '60000',
      ML_REMOTE_EMBEDDINGS_SAMPLE_RATE: '0',
    }).start();
  }, 30_000);

  afterAll(async () => {
    await service?.stop();
    await upstream?.close();
    await statsd?.close();
  });

  /** The lowest heap and RSS samples over the next `ms`. */
  async function plateau(ms: number): Promise<{ heap: number; rss: number }> {
    const from = statsd.lines.length;
    await new Promise((r) => setTimeout(r, ms));
    const recent = statsd.lines.slice(from);
    const min = (name: string): number => Math.min(...recent.filter((l) => l.name === name).map((l) => l.value));
    return { heap: min(HEAP), rss: min(RSS) };
  }

  it('measures the heap per call in flight', async () => {
    const controller = new AbortController();
    const pending: Promise<unknown>[] = [];
    const open = async (n: number): Promise<void> => {
      const target = upstream.requests.length + n;
      for (let i = 0; i < n; i++) {
        pending.push(
          fetch(`${service.url}/reason`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ prompt: `What is the capital of country number ${i}? Answer in one word.` }),
            signal: controller.signal,
          }).catch(() => undefined),
        );
      }
      await upstream.waitForRequests(target, 15_000);
    };
    try {
      const idle = await plateau(2000);
      await open(1000);
      const at1000 = await plateau(2500);
      await open(1000);
      const at2000 = await plateau(2500);
      const perCall = (at2000.heap - idle.heap) / 2000;
      const rssPerCall = (at2000.rss - idle.rss) / 2000;
      const fit = Math.floor((320 * 2 ** 20 * 0.9 - idle.heap) / perCall);
      process.stdout.write(
        `memory per call in flight: idle heap ${(idle.heap / 2 ** 20).toFixed(1)} MiB, at 1000 ${(at1000.heap / 2 ** 20).toFixed(1)} MiB, ` +
          `at 2000 ${(at2000.heap / 2 ** 20).toFixed(1)} MiB: ${(perCall / 1024).toFixed(1)} KiB of heap per call ` +
          `(RSS ${(rssPerCall / 1024).toFixed(1)} KiB); about ${fit} calls in flight fit under 90 % of a 320 MB heap\n`,
      );
      expect(perCall).toBeGreaterThan(0);
      expect(perCall).toBeLessThan(200 * 1024);
    } finally {
      controller.abort();
      await Promise.all(pending);
    }
  }, 40_000);
});
