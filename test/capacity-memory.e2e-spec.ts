import { CallsInFlight } from './support/calls-in-flight';

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
  const calls = new CallsInFlight();

  beforeAll(async () => {
    await calls.start({ NODE_OPTIONS: '--max-semi-space-size=8 --max-old-space-size=320' });
  }, 60_000);

  afterAll(() => calls.stop());

  /** The lowest heap and RSS samples over the next `ms`. */
  async function plateau(ms: number): Promise<{ heap: number; rss: number }> {
    const low = await calls.lowest(ms, [HEAP, RSS]);
    return { heap: low[HEAP], rss: low[RSS] };
  }

  it('measures the heap per call in flight', async () => {
    const open = (n: number): Promise<void> =>
      calls.open(n, (i) => `What is the capital of country number ${i}? Answer in one word.`);
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
      await calls.abandon();
    }
  }, 150_000);
});
