import { describeDrill, Drill, type DrillProgress, drillQuery } from './drill';

describe('control room drill', () => {
  it('turns the chosen faults into the query toggles of POST /qa, in a fixed order', () => {
    expect(drillQuery(['simulate_retry', 'simulate_bad_prompt'])).toBe('?simulate_bad_prompt=true&simulate_retry=true');
    expect(drillQuery([])).toBe('');
  });

  it('sends faulty calls until its time is up, counting the answers by status', async () => {
    let now = 0;
    const paths: string[] = [];
    const statuses = [200, 502, 200];
    const seen: DrillProgress[] = [];
    const drill = new Drill(
      (path) => {
        paths.push(path);
        now += 100;
        return Promise.resolve(statuses[(paths.length - 1) % statuses.length]!);
      },
      (p) => seen.push(p),
      () => now,
      (ms) => {
        now += ms;
        return Promise.resolve();
      },
    );
    await drill.start({ faults: ['simulate_retry'], durationMs: 1000, concurrency: 1, minIntervalMs: 250 });
    expect(paths.every((p) => p === '/qa?simulate_retry=true')).toBe(true);
    expect(drill.state.running).toBe(false);
    expect(drill.state.sent).toBe(4);
    expect(drill.state.byStatus).toEqual({ '200': 3, '502': 1 });
    expect(seen[0]!.running).toBe(true);
    expect(describeDrill(drill.state, now)).toBe(
      'Drill ended: 4 faulty calls sent (3 × 200, 1 × 502). Watch the score recover.',
    );
  });

  it('stops at the first refusal of the key (no admin scope) and says why', async () => {
    const drill = new Drill(
      () => Promise.reject(new Error('needs an API key with the admin scope')),
      () => undefined,
    );
    await drill.start({ faults: ['simulate_bad_prompt'], durationMs: 60_000, concurrency: 2, minIntervalMs: 0 });
    expect(drill.state.running).toBe(false);
    expect(drill.state.sent).toBe(0);
    expect(describeDrill(drill.state, Date.now())).toBe('Drill stopped: needs an API key with the admin scope');
  });

  it('can be stopped before its time is up', async () => {
    let release: () => void = () => undefined;
    const drill = new Drill(
      () => new Promise<number>((resolve) => (release = () => resolve(200))),
      () => undefined,
    );
    const run = drill.start({ faults: ['simulate_latency'], durationMs: 60_000, concurrency: 1, minIntervalMs: 0 });
    expect(describeDrill(drill.state, Date.now())).toMatch(/^Drill running: 0 faulty calls sent, (59|60) s left\.$/);
    const stopped = drill.stop();
    release();
    await Promise.all([run, stopped]);
    expect(drill.state).toMatchObject({ running: false, sent: 1 });
  });
});
