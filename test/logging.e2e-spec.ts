import { startWithTelemetry, type TelemetryStack } from './support/http';

/**
 * A log collector that stops reading (a full stdout pipe) must not make the service grow its memory without
 * bound or stop answering: lines wait up to LOG_MAX_BACKLOG_BYTES, then are dropped and counted.
 */
describe('logging: a stalled stdout', () => {
  let stack: TelemetryStack;

  beforeAll(async () => {
    stack = await startWithTelemetry({ LOG_MAX_BACKLOG_BYTES: '65536', STATSD_FLUSH_INTERVAL_MS: '50' });
  });

  afterAll(async () => {
    stack?.service.resumeStdout();
    await stack?.stop();
  });

  const ready = async (): Promise<{
    status: string;
    dependencies: Record<string, { status: string; detail: string }>;
  }> => {
    const response = await fetch(`${stack.service.url}/health/ready`);
    expect(response.status).toBe(200);
    return (await response.json()) as {
      status: string;
      dependencies: Record<string, { status: string; detail: string }>;
    };
  };

  it('keeps answering, drops what does not fit, counts it, and logs again once stdout drains', async () => {
    const { service, statsd } = stack;
    expect((await ready()).dependencies.logs).toEqual({ status: 'ok', detail: 'stdout keeps up; no line dropped' });

    service.pauseStdout();
    // Each call writes a ~0.5 KB line: far more than the pipe, the reader's buffer and the 64 KB backlog hold.
    const statuses: number[] = [];
    for (let batch = 0; batch < 60; batch++) {
      const responses = await Promise.all(
        Array.from({ length: 25 }, () => fetch(`${service.url}/health/ready?batch=${batch}`)),
      );
      for (const r of responses) {
        statuses.push(r.status);
        await r.arrayBuffer();
      }
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    const lines = await statsd.waitFor((ls) => ls.some((l) => l.name === 'log.dropped.count'), 10_000);
    const dropped = lines.filter((l) => l.name === 'log.dropped.count').reduce((sum, l) => sum + l.value, 0);
    expect(dropped).toBeGreaterThan(100);
    const logs = (await ready()).dependencies.logs!;
    expect(logs.status).toBe('degraded');
    expect(logs.detail).toMatch(/^\d+ log lines dropped since start/);
    expect(service.stderr.join('')).toContain('log lines dropped: stdout is not keeping up');

    service.resumeStdout();
    const before = service.logs().length;
    await fetch(`${service.url}/health/ready?after=drain`);
    const line = await service.waitForLog((l) => l.handler === 'HealthController.readiness', 10_000, before);
    expect(line.message).toBe('request completed');
    // What was kept before the drops is written out, not lost: at least the backlog's worth of lines.
    expect(service.logs().length - before).toBeGreaterThan(60);
  });
});
