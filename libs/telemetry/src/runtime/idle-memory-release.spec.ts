import { testConfig } from '../../../../test/support/app-config';
import { InMemoryMetrics } from '../metrics/in-memory-metrics';
import { IdleMemoryRelease, MIN_GROWTH_BYTES } from './idle-memory-release';
import { withEveryFileDescriptorTaken } from '../../../../test/support/file-descriptors';
import { type LoopTimes, ProcessMemory } from './process-memory';
import { V8ProcessMemory } from './v8-process-memory';

const MIB = 1024 * 1024;

/** A process whose event loop and RSS the test sets; `release` drops RSS to `afterRelease`. */
class ScriptedProcess extends ProcessMemory {
  canRelease = true;
  rssBytes = 200 * MIB;
  afterRelease = 210 * MIB;
  releases = 0;
  private times = { idleMs: 0, activeMs: 0 };

  rss(): number | undefined {
    return this.rssBytes;
  }
  loopTimes(): LoopTimes {
    return { ...this.times };
  }
  release(): void {
    this.releases++;
    this.rssBytes = this.afterRelease;
  }
  /** The loop spends `ms`, `busy` of it active. */
  spend(ms: number, busy: number): void {
    this.times.activeMs += ms * busy;
    this.times.idleMs += ms * (1 - busy);
  }
}

/** `null`: the service's default MEMORY_RELEASE_IDLE_MS. */
function setUp(idleMs: string | null = '5000') {
  const process = new ScriptedProcess();
  const metrics = new InMemoryMetrics();
  const env: Record<string, string> = idleMs === null ? {} : { MEMORY_RELEASE_IDLE_MS: idleMs };
  const release = new IdleMemoryRelease(testConfig(env), process, metrics);
  let now = 0;
  /** Seconds of checks, each second with the loop busy `busy` of the time. */
  const run = (seconds: number, busy: number): (number | undefined)[] => {
    const out: (number | undefined)[] = [];
    for (let i = 0; i < seconds; i++) {
      process.spend(1000, busy);
      now += 1000;
      out.push(release.check(now));
    }
    return out;
  };
  release.check(now);
  return { process, metrics, release, run };
}

describe('IdleMemoryRelease', () => {
  it('after a load, releases once the loop has been idle for MEMORY_RELEASE_IDLE_MS, and reports it', () => {
    const { process, metrics, run } = setUp();
    run(3, 0.01); // warm and idle: the baseline is 200 MiB
    process.rssBytes = 450 * MIB;
    run(20, 0.9); // a load: no release while the loop is busy
    expect(process.releases).toBe(0);

    const idle = run(8, 0.01);
    expect(process.releases).toBe(1);
    // Idle from the start of the first idle second: released at the fifth, not before.
    expect(idle.slice(0, 4)).toEqual([undefined, undefined, undefined, undefined]);
    expect(idle[4]).toBe(240 * MIB);
    expect(metrics.named('runtime.memory.released_bytes').map((m) => m.value)).toEqual([240 * MIB]);
    expect(metrics.named('runtime.memory.release_ms')).toHaveLength(1);
    expect(metrics.named('runtime.memory.release_ms')[0]!.type).toBe('distribution');

    // Still idle, RSS unchanged: no second release.
    run(30, 0.01);
    expect(process.releases).toBe(1);
  });

  it('waits while the loop is busy, and a busy second restarts the idle wait', () => {
    const { process, run } = setUp();
    run(2, 0.01);
    process.rssBytes = 300 * MIB;
    run(1, 0.9); // the load that grew it
    run(4, 0.01);
    run(1, 0.5); // a burst before the idle time was reached
    run(4, 0.01);
    expect(process.releases).toBe(0);
    run(1, 0.01);
    expect(process.releases).toBe(1);
  });

  it('does not collect a process whose RSS has not grown by MIN_GROWTH_BYTES since the last release', () => {
    const { process, run } = setUp();
    run(3, 0.01);
    process.rssBytes += MIN_GROWTH_BYTES - MIB;
    run(10, 0.5);
    run(10, 0.01);
    expect(process.releases).toBe(0);

    // Memory V8 cannot give back (the allocator's) does not make it collect again and again.
    process.rssBytes = 300 * MIB;
    process.afterRelease = 290 * MIB;
    run(10, 0.01);
    expect(process.releases).toBe(1);
    run(60, 0.01);
    expect(process.releases).toBe(1);
    process.rssBytes = 290 * MIB + MIN_GROWTH_BYTES;
    run(10, 0.01);
    expect(process.releases).toBe(2);
  });

  it('by default leaves bursts with pauses shorter than 30 s alone, and releases after 30 s of quiet', () => {
    // The calls just after a release cost more CPU (bench/RESULTS.md), so short pauses must not trigger one.
    const { process, run } = setUp(null);
    run(3, 0.01);
    for (let burst = 0; burst < 10; burst++) {
      process.rssBytes = (300 + burst) * MIB;
      run(3, 0.9);
      run(20, 0.01);
    }
    expect(process.releases).toBe(0);
    run(10, 0.01);
    expect(process.releases).toBe(1);
  });

  it('is off with MEMORY_RELEASE_IDLE_MS=0, and when V8 gc is not exposed', () => {
    for (const [idleMs, exposed] of [
      ['0', true],
      ['5000', false],
    ] as const) {
      const { process, release, run } = setUp(idleMs);
      process.canRelease = exposed;
      expect(release.enabled).toBe(false);
      process.rssBytes = 500 * MIB;
      run(30, 0.01);
      expect(process.releases).toBe(0);
    }
  });

  // RSS is read from /proc/self, a file: with every file descriptor taken (a flood of connections) the reading threw
  // EMFILE in the check's timer and ended the process.
  it('skips a check whose RSS cannot be read (every file descriptor taken), instead of throwing', () => {
    const { value: rss, exhausted } = withEveryFileDescriptorTaken(() => new V8ProcessMemory().rss());
    expect(exhausted).toBe(true);
    expect(rss).toBeUndefined();
    expect(new V8ProcessMemory().rss()).toBeGreaterThan(0);

    const { process, run } = setUp();
    run(3, 0.01);
    process.rssBytes = 450 * MIB;
    const unreadable = process as unknown as { rss: () => number | undefined };
    const rssOf = process.rss.bind(process);
    unreadable.rss = () => undefined;
    expect(run(8, 0.01)).toEqual(Array(8).fill(undefined));
    expect(process.releases).toBe(0);
    unreadable.rss = rssOf;
    run(8, 0.01);
    expect(process.releases).toBe(1);
  });
});
