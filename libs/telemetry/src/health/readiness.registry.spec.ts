import { ReadinessRegistry } from './readiness.registry';

describe('ReadinessRegistry', () => {
  it('reports each check, a throwing one as degraded with its message', async () => {
    const registry = new ReadinessRegistry();
    registry.register('a', () => ({ status: 'ok', detail: 'fine' }));
    registry.register('b', () => Promise.reject(new Error('refused')));
    registry.register('c', () => {
      throw new Error('thrown');
    });
    expect(await registry.run()).toEqual({
      a: { status: 'ok', detail: 'fine' },
      b: { status: 'degraded', detail: 'refused' },
      c: { status: 'degraded', detail: 'thrown' },
    });
  });

  // A frozen PostgreSQL (the connection open, no answer) held the ledger's ping, and GET /health/ready with it, for
  // as long as the database stayed frozen: the probe timed out instead of saying what was wrong.
  it('a check that never answers is degraded after the timeout; the others are reported as they are', async () => {
    const registry = new ReadinessRegistry();
    registry.timeoutMs = 50;
    registry.register('ledger', () => new Promise(() => undefined));
    registry.register('logs', () => ({ status: 'ok', detail: 'keeps up' }));
    const hangGuard = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10_000).unref());
    expect(await Promise.race([registry.run(), hangGuard])).toEqual({
      ledger: { status: 'degraded', detail: 'no answer in 50 ms' },
      logs: { status: 'ok', detail: 'keeps up' },
    });
  });
});
