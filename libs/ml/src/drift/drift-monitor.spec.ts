import { InMemoryMetrics } from '@app/telemetry';
import { DriftMonitor } from './drift-monitor';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);

describe('DriftMonitor', () => {
  let metrics: InMemoryMetrics;
  let drift: DriftMonitor;
  beforeEach(() => {
    metrics = new InMemoryMetrics();
    drift = new DriftMonitor(metrics);
  });

  it('reports a steady series as stable and low risk', () => {
    for (let i = 0; i < 120; i++)
      drift.record('qa', 'gemini-2.5-flash', 0.85 + (i % 2 ? 0.02 : -0.02), T0 + i * 60_000);
    const snap = drift.snapshot('qa', 'gemini-2.5-flash', T0 + 119 * 60_000)!;
    expect(snap).toMatchObject({
      endpoint: 'qa',
      model: 'gemini-2.5-flash',
      samples: 120,
      trend: 'stable',
      risk: 'low',
    });
    expect(snap.currentQuality).toBeCloseTo(0.85, 2);
    expect(Math.abs(snap.slopePerHour)).toBeLessThan(0.005);
    expect(snap.projected24h).toBeCloseTo(snap.currentQuality, 1);
  });

  it('detects a degrading series by its regression slope and projects it 24 h ahead', () => {
    // quality falls from 0.9 by 0.025 per hour over 6 hours
    for (let i = 0; i <= 360; i++) drift.record('reason', 'm', 0.9 - 0.025 * (i / 60), T0 + i * 60_000);
    const snap = drift.snapshot('reason', 'm', T0 + 6 * HOUR)!;
    expect(snap.trend).toBe('degrading');
    expect(snap.slopePerHour).toBeCloseTo(-0.025, 3);
    expect(snap.projected24h).toBeCloseTo(snap.currentQuality - 0.6, 2);
    expect(snap.risk).toBe('critical');
  });

  it('detects improvement and keeps the trend stable until the window spans 15 minutes', () => {
    for (let i = 0; i < 30; i++) drift.record('qa', 'm', 0.2 + i * 0.02, T0 + i * 1000);
    expect(drift.snapshot('qa', 'm', T0 + 30_000)!.trend).toBe('stable');
    drift.record('qa', 'm', 0.9, T0 + HOUR);
    const snap = drift.snapshot('qa', 'm', T0 + HOUR)!;
    expect(snap.trend).toBe('improving');
    expect(snap.slopePerHour).toBeGreaterThan(0);
  });

  it('bounds the window by age (24 h) and keeps series apart', () => {
    drift.record('qa', 'a', 0.1, T0);
    drift.record('qa', 'a', 0.9, T0 + 25 * HOUR);
    drift.record('qa', 'b', 0.5, T0 + 25 * HOUR);
    const now = T0 + 25 * HOUR;
    expect(drift.snapshot('qa', 'a', now)).toMatchObject({ samples: 1, currentQuality: 0.9 });
    expect(drift.snapshot('stress', 'a', now)).toBeUndefined();
    expect(
      drift
        .all(now)
        .map((s) => s.model)
        .sort(),
    ).toEqual(['a', 'b']);
  });

  it('keeps the whole window at any traffic: 10 answers a second for 30 minutes still show their trend', () => {
    // 18,000 answers falling by 0.6 an hour (0.9 → 0.6). Kept as the last 1,000 answers (100 s), the window never
    // spanned 15 minutes at more than about one answer a second, so a busy endpoint's trend was always 'stable'.
    const count = 18_000;
    for (let i = 0; i < count; i++) {
      const at = T0 + i * 100;
      drift.record('qa', 'm', 0.9 - 0.6 * ((i * 100) / HOUR), at);
    }
    const snap = drift.snapshot('qa', 'm', T0 + (count - 1) * 100)!;
    expect(snap.samples).toBe(count);
    expect(snap.trend).toBe('degrading');
    expect(snap.slopePerHour).toBeCloseTo(-0.6, 3);
    expect(snap.currentQuality).toBeCloseTo(0.6, 2);
    expect(snap.projected24h).toBe(0);
    expect(snap.risk).toBe('critical');
  });

  it('fits the same slope from answers that finish out of order', () => {
    const inOrder = new DriftMonitor(metrics);
    const times = Array.from({ length: 400 }, (_, i) => T0 + i * 7_000);
    const quality = (at: number): number => 0.8 - 0.1 * ((at - T0) / HOUR) + (at % 3) * 0.01;
    for (const at of times) inOrder.record('qa', 'm', quality(at), at);
    // every pair of neighbours swapped, across minute boundaries
    for (let i = 0; i < times.length; i += 2) {
      for (const at of [times[i + 1]!, times[i]!]) drift.record('qa', 'm', quality(at), at);
    }
    const now = times.at(-1)!;
    const a = inOrder.snapshot('qa', 'm', now)!;
    const b = drift.snapshot('qa', 'm', now)!;
    expect(b.samples).toBe(400);
    expect(b.slopePerHour).toBeCloseTo(a.slopePerHour, 4);
    expect(b.slopePerHour).toBeCloseTo(-0.1, 2);
  });

  it('forgets a pair without an answer for 24 h: no gauge, and its slot is free', () => {
    for (let p = 0; p < 200; p++) drift.record('qa', `m${p}`, 0.2, T0);
    drift.record('qa', 'late', 0.9, T0 + HOUR);
    expect(drift.snapshot('qa', 'late', T0 + HOUR)).toBeUndefined(); // 200 pairs tracked: no room
    drift.report(T0 + HOUR);
    expect(metrics.named('llm.quality.drift.risk')).toHaveLength(200);
    metrics.recorded.length = 0;
    const dayLater = T0 + 25 * HOUR;
    drift.report(dayLater);
    expect(metrics.named('llm.quality.drift.risk')).toEqual([]);
    drift.record('qa', 'late', 0.9, dayLater);
    expect(drift.all(dayLater).map((s) => s.model)).toEqual(['late']);
  });

  it('reports gauges per endpoint and model', () => {
    for (let i = 0; i < 20; i++) drift.record('qa', 'gemini-2.5-flash', 0.2, T0 + i * 60_000);
    drift.report(T0 + 19 * 60_000);
    expect(metrics.named('llm.quality.drift.current')).toEqual([
      { type: 'gauge', name: 'llm.quality.drift.current', value: 0.2, tags: ['endpoint:qa', 'model:gemini-2.5-flash'] },
    ]);
    expect(metrics.named('llm.quality.drift.projected_24h')).toHaveLength(1);
    expect(metrics.named('llm.quality.drift.risk')[0]!.value).toBe(3);
  });
});
