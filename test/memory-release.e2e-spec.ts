import { CallsInFlight } from './support/calls-in-flight';
import { ServiceProcess } from './support/service-process';

/**
 * The idle memory release (MEMORY_RELEASE_IDLE_MS, docs/operations.md "Memory") in the built service, started with
 * npm start's node flags: 2,000 calls held in flight by an upstream that never answers grow the heap; once their
 * clients have gone and the loop has been idle, the service hands the memory back (a log line, the two
 * `runtime.memory.release*` metrics, and the RSS gauge back near where it was before the load). Without
 * --expose-gc it says at start that the release is off. Bounded: one wave of 2,000 calls, about 20 s.
 */

const RSS = 'runtime.memory.rss_bytes';
const MIB = 2 ** 20;

describe('idle memory release', () => {
  const calls = new CallsInFlight();

  beforeAll(async () => {
    await calls.start({
      NODE_OPTIONS: '--expose-gc --max-semi-space-size=8 --max-old-space-size=320',
      MEMORY_RELEASE_IDLE_MS: '1500',
    });
  }, 60_000);

  afterAll(() => calls.stop());

  const lowestRss = async (ms: number): Promise<number> => (await calls.lowest(ms, [RSS]))[RSS];

  it('hands the memory of a load back once the loop is idle', async () => {
    // A release may follow the start-up's own growth: wait for the quiet state the load is compared with.
    await new Promise((r) => setTimeout(r, 3000));
    const before = await lowestRss(1000);
    const { statsd, service } = calls;
    const releasesBefore = statsd.named('runtime.memory.release_ms').length;

    const loadFrom = statsd.lines.length;
    await calls.open(2000, (i) => `Name the largest city of region number ${i}, in one word. ${'x'.repeat(2000)}`);
    await calls.abandon();

    const released = await statsd.waitFor(
      (lines) => lines.filter((l) => l.name === 'runtime.memory.release_ms').length > releasesBefore,
      15_000,
    );
    const log = await service.waitForLog((l) => String(l.message).startsWith('idle memory release: RSS '), 2000);
    const peak = released.slice(loadFrom).filter((l) => l.name === RSS);
    const loaded = Math.max(...peak.map((l) => l.value));
    const after = await lowestRss(1000);
    const bytes = released.filter((l) => l.name === 'runtime.memory.released_bytes').at(-1)!.value;
    process.stdout.write(
      `idle memory release: RSS ${(before / MIB).toFixed(0)} MiB idle, ${(loaded / MIB).toFixed(0)} MiB with 2,000 calls ` +
        `in flight, ${(after / MIB).toFixed(0)} MiB after (${(bytes / MIB).toFixed(0)} MiB released; ${String(log.message)})\n`,
    );
    expect(loaded - before).toBeGreaterThan(40 * MIB);
    expect(bytes).toBeGreaterThan(20 * MIB);
    // Most of the growth is handed back: what stays is the allocator's (malloc keeps its arenas).
    expect(after - before).toBeLessThan((loaded - before) * 0.5);
  }, 120_000);

  it('says at start that the release is off when V8 gc is not exposed', async () => {
    const bare = await new ServiceProcess({
      NODE_OPTIONS: '--max-old-space-size=320',
      DD_TRACE_ENABLED: 'false',
      DD_DOGSTATSD_PORT: String(calls.statsd.port),
    }).start();
    try {
      const line = await bare.waitForLog((l) => String(l.message).startsWith('idle memory release is off'), 5000);
      expect(line.message).toContain('--expose-gc');
    } finally {
      await bare.stop();
    }
  }, 60_000);
});
