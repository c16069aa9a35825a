import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DogStatsdReceiver, UnixDogStatsdReceiver } from '../../../../test/support/dogstatsd-receiver';
import { testConfig } from '../../../../test/support/app-config';
import { formatTags } from './metrics.port';
import { packValues, StatsdMetricsAdapter } from './statsd-metrics.adapter';

describe('StatsdMetricsAdapter (hot-shots against a real UDP socket)', () => {
  let receiver: DogStatsdReceiver;
  beforeEach(async () => (receiver = await new DogStatsdReceiver().start()));
  afterEach(() => receiver.close());

  it('sums counters, keeps the last gauge and packs distribution samples per series, sent once per flush', async () => {
    const metrics = new StatsdMetricsAdapter(
      testConfig({ DD_DOGSTATSD_PORT: String(receiver.port), STATSD_FLUSH_INTERVAL_MS: '30', DD_ENV: 'unit' }),
    );
    const a = formatTags({ route: '/qa', method: 'post' });
    const b = formatTags({ route: '/reason', method: 'post' });
    for (let i = 0; i < 99; i++) metrics.increment('test.count', 1, a);
    metrics.increment('test.count', 1, [...a]); // equal tags in another array: the same series
    metrics.increment('test.count', 5, b);
    metrics.increment('test.other', 2.5, a);
    metrics.distribution('test.latency', 12.5, a);
    metrics.distribution('test.latency', 7, a);
    metrics.gauge('test.state', 1, b);
    metrics.gauge('test.state', 2, b);
    expect(receiver.lines).toHaveLength(0); // nothing leaves on the request path
    await receiver.waitFor((ls) => ls.filter((l) => l.name.startsWith('test.')).length >= 6);
    await new Promise((r) => setTimeout(r, 100));
    const mine = receiver.lines.filter((l) => l.name.startsWith('test.'));
    const counts = mine.filter((l) => l.name === 'test.count');
    expect(counts).toHaveLength(2);
    expect(counts.find((l) => l.tags.includes('route:/qa'))).toMatchObject({ value: 100, type: 'c' });
    expect(counts.find((l) => l.tags.includes('route:/reason'))).toMatchObject({ value: 5, type: 'c' });
    expect(mine.find((l) => l.name === 'test.other')).toMatchObject({ value: 2.5, type: 'c' });
    const latency = mine.filter((l) => l.name === 'test.latency');
    expect(latency.map((l) => l.value)).toEqual([12.5, 7]);
    expect(latency.every((l) => l.type === 'd' && l.raw.startsWith('test.latency:12.5:7|d|#'))).toBe(true);
    expect(mine.filter((l) => l.name === 'test.state')).toEqual([expect.objectContaining({ value: 2, type: 'g' })]);
    for (const line of mine)
      expect(line.tags).toEqual(expect.arrayContaining(['env:unit', 'service:llm-reliability-control-plane']));
    await metrics.close();
  });

  it('splits many samples into packed lines the agent can read, every value kept', async () => {
    const metrics = new StatsdMetricsAdapter(
      testConfig({ DD_DOGSTATSD_PORT: String(receiver.port), STATSD_FLUSH_INTERVAL_MS: '60000' }),
    );
    const tags = formatTags({ route: '/reason' });
    const values = Array.from({ length: 3000 }, (_, i) => i / 7);
    for (const value of values) metrics.distribution('test.many', value, tags);
    metrics.distribution('test.many', Number.NaN, tags); // never sent: DogStatsD cannot read it
    await metrics.close();
    await receiver.waitFor((ls) => ls.filter((l) => l.name === 'test.many').length >= values.length);
    const got = receiver.lines.filter((l) => l.name === 'test.many');
    expect(got).toHaveLength(values.length);
    got.forEach((line, i) => expect(Math.abs(line.value - values[i]!)).toBeLessThanOrEqual(values[i]! * 5e-6)); // 6 digits
    const rawLines = new Set(got.map((l) => l.raw));
    expect(rawLines.size).toBeGreaterThan(10);
    for (const raw of rawLines) expect(raw.length).toBeLessThan(1_300);
  });

  it("sends Datadog's client telemetry with the global tags, like every other line", async () => {
    const metrics = new StatsdMetricsAdapter(
      testConfig({
        DD_DOGSTATSD_PORT: String(receiver.port),
        STATSD_FLUSH_INTERVAL_MS: '60000',
        DD_ENV: 'unit',
        DD_VERSION: '1.2.3',
      }),
    );
    metrics.increment('test.telemetry', 1);
    // hot-shots flushes its telemetry every 10 s, and once more at close.
    await metrics.close();
    await receiver.waitFor((ls) => ls.some((l) => l.name === 'datadog.dogstatsd.client.metrics'));
    const telemetry = receiver.lines.filter((l) => l.name.startsWith('datadog.dogstatsd.client.'));
    expect(telemetry.find((l) => l.name === 'datadog.dogstatsd.client.metrics')).toMatchObject({ value: 1, type: 'c' });
    for (const line of receiver.lines)
      expect({ line: line.raw, tags: line.tags }).toEqual({
        line: line.raw,
        tags: expect.arrayContaining(['env:unit', 'service:llm-reliability-control-plane', 'version:1.2.3']) as unknown,
      });
    for (const line of telemetry) expect(line.tags).toEqual(expect.arrayContaining(['client:nodejs']));
  });

  it('formats packed values compactly and keeps small costs exact to 6 digits', () => {
    expect(packValues('m', 'd', [1, 2.5, 0.1 + 0.2, 0.0000123456789])).toEqual(['m:1:2.5:0.3:0.0000123457|d']);
    expect(packValues('m', 'd', [])).toEqual([]);
  });

  it('flushes pending counters on close and never throws when nothing listens', async () => {
    const port = receiver.port;
    const metrics = new StatsdMetricsAdapter(
      testConfig({ DD_DOGSTATSD_PORT: String(port), STATSD_FLUSH_INTERVAL_MS: '60000' }),
    );
    metrics.increment('test.closing', 3);
    await metrics.close();
    await receiver.waitFor((ls) => ls.some((l) => l.name === 'test.closing' && l.value === 3));
    await receiver.close();
    const orphan = new StatsdMetricsAdapter(
      testConfig({ DD_DOGSTATSD_PORT: String(port), STATSD_FLUSH_INTERVAL_MS: '10' }),
    );
    expect(() => {
      for (let i = 0; i < 1000; i++) orphan.increment('test.nobody', 1, [`i:${i % 3}`]);
    }).not.toThrow();
    await new Promise((r) => setTimeout(r, 50));
    expect(orphan.health().target).toBe(`udp://127.0.0.1:${port}`);
    await orphan.close();
    receiver = await new DogStatsdReceiver().start();
  });

  it('a send error makes health() not ok for a minute on the monotonic clock, whatever the wall clock does', async () => {
    const metrics = new StatsdMetricsAdapter(
      testConfig({ DD_DOGSTATSD_PORT: String(receiver.port), STATSD_FLUSH_INTERVAL_MS: '10' }),
    );
    try {
      // A datagram over UDP's 64 KiB limit: the socket refuses it (EMSGSIZE), a real send error.
      metrics.increment(`test.${'x'.repeat(70_000)}`, 1);
      const deadline = performance.now() + 10_000;
      while (metrics.health().sendErrors === 0 && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(metrics.health()).toMatchObject({ ok: false, sendErrors: 1 });
      // 61 s later on the monotonic clock, though the wall clock was stepped back an hour meanwhile (NTP, a VM
      // resumed): the error is a minute old, and the metrics are ok again.
      const wall = Date.now();
      const monotonic = performance.now();
      jest.spyOn(Date, 'now').mockReturnValue(wall - 3_600_000 + 61_000);
      jest.spyOn(performance, 'now').mockReturnValue(monotonic + 61_000);
      expect(metrics.health()).toMatchObject({ ok: true, sendErrors: 1 });
    } finally {
      jest.restoreAllMocks();
      await metrics.close();
    }
  });
});

describe("StatsdMetricsAdapter over the agent's unix datagram socket (DD_DOGSTATSD_URL=unix:///…)", () => {
  it('sends to the socket, and to a socket bound only after the start (the agent starting later)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lrcp-dsd-'));
    const path = join(dir, 'dsd.socket');
    const metrics = new StatsdMetricsAdapter(
      testConfig({ DD_DOGSTATSD_URL: `unix://${path}`, STATSD_FLUSH_INTERVAL_MS: '20', DD_ENV: 'unit' }),
    );
    // No socket yet: the sends of this while fail (counted, said in one line naming the socket), nothing throws.
    metrics.increment('test.before_agent', 1, formatTags({ route: '/qa' }));
    await new Promise((r) => setTimeout(r, 60));
    const missing = metrics.health();
    expect(missing.ok).toBe(false);
    expect(missing.lastError).toContain(`the socket unix://${path} does not exist or cannot be opened`);
    expect(missing.lastError).not.toContain('\n');
    const receiver = await new UnixDogStatsdReceiver(path).start();
    try {
      const deadline = Date.now() + 10_000;
      while (receiver.named('test.uds').length === 0 && Date.now() < deadline) {
        metrics.increment('test.uds', 1, formatTags({ route: '/qa' }));
        await new Promise((r) => setTimeout(r, 50));
      }
      const line = receiver.named('test.uds')[0];
      expect(line).toMatchObject({ type: 'c' });
      expect(line!.tags).toEqual(expect.arrayContaining(['env:unit', 'route:/qa']));
    } finally {
      await metrics.close();
      await receiver.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
