import { Logger } from '@nestjs/common';
import { testConfig } from '../../../../test/support/app-config';
import { withEveryFileDescriptorTaken } from '../../../../test/support/file-descriptors';
import { InMemoryMetrics } from './in-memory-metrics';
import { RuntimeMetrics } from './runtime-metrics';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('RuntimeMetrics', () => {
  // RSS is read from /proc/self, a file: with every file descriptor taken (a flood of connections), process.memoryUsage()
  // threw EMFILE in the report's timer, and the process ended (dd-trace's crash tracker then panicked on it too).
  it('reports the heap without RSS, and does not throw, when every file descriptor is taken', () => {
    const metrics = new InMemoryMetrics();
    const runtime = new RuntimeMetrics(testConfig({ RUNTIME_METRICS_INTERVAL_MS: '600000' }), metrics);
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { exhausted } = withEveryFileDescriptorTaken(() => runtime.report());
    expect(exhausted).toBe(true);
    // Said once, naming the cause and the setting: nothing else reports it.
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/file descriptors exhausted \(EMFILE\).*ulimit -n/);
    withEveryFileDescriptorTaken(() => runtime.report());
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
    expect(metrics.named('runtime.memory.heap_used_bytes')[0]!.value).toBeGreaterThan(1e6);
    expect(metrics.named('runtime.memory.rss_bytes')).toHaveLength(0);
    runtime.report();
    expect(metrics.named('runtime.memory.rss_bytes')).toHaveLength(1);
  });

  it('reports event-loop utilization and stalls, memory and GC time for the interval', async () => {
    const metrics = new InMemoryMetrics();
    const runtime = new RuntimeMetrics(testConfig({ RUNTIME_METRICS_INTERVAL_MS: '600000' }), metrics);
    runtime.onModuleInit();
    try {
      await sleep(60);
      // A stall of at least 120 ms and at least 256 MiB of short-lived garbage: young-generation collections whatever
      // the size of the young generation. The garbage was what 120 ms made: on a loaded runner 28 000 small arrays
      // (about 15 MB), less than a young generation grown in a long-running worker, and no GC was reported.
      const until = Date.now() + 120;
      let garbage: number[][] = [];
      for (let made = 0; made < 32_768 || Date.now() < until; made++) {
        garbage.push(new Array<number>(1024).fill(1)); // 8 KiB
        if (garbage.length > 1000) garbage = [];
      }
      await sleep(60);
      runtime.report();

      const gauge = (name: string): number => {
        const found = metrics.named(name);
        expect(found).toHaveLength(1);
        expect(found[0]!.type).toBe('gauge');
        return found[0]!.value;
      };
      expect(gauge('runtime.event_loop.utilization')).toBeGreaterThan(0.15);
      expect(gauge('runtime.event_loop.utilization')).toBeLessThanOrEqual(1);
      const stall = gauge('runtime.event_loop.delay.max_ms');
      expect(stall).toBeGreaterThan(80);
      expect(gauge('runtime.event_loop.delay.p99_ms')).toBeGreaterThan(0);
      expect(gauge('runtime.memory.heap_used_bytes')).toBeGreaterThan(1e6);
      expect(gauge('runtime.memory.rss_bytes')).toBeGreaterThan(gauge('runtime.memory.heap_used_bytes'));
      await sleep(20); // GC entries reach the observer asynchronously
      runtime.report();
      const gc = metrics.named('runtime.gc.pause_ms');
      expect(gc.length).toBeGreaterThan(0);
      for (const g of gc) {
        expect(g.type).toBe('count');
        expect(g.tags).toEqual([expect.stringMatching(/^kind:(minor|major|incremental|weakcb|other)$/)]);
      }

      // The next interval starts empty: a quiet one does not report the earlier stall again.
      metrics.recorded.length = 0;
      await sleep(100);
      runtime.report();
      expect(gauge('runtime.event_loop.delay.max_ms')).toBeLessThan(stall);
    } finally {
      runtime.onApplicationShutdown();
    }
  });

  it('is off with RUNTIME_METRICS_INTERVAL_MS=0', () => {
    const metrics = new InMemoryMetrics();
    const runtime = new RuntimeMetrics(testConfig({ RUNTIME_METRICS_INTERVAL_MS: '0' }), metrics);
    runtime.onModuleInit();
    runtime.onApplicationShutdown();
    expect(metrics.recorded).toEqual([]);
  });
});
