import { InMemoryMetrics } from '@app/telemetry';
import { DRIFT_MAX_SAMPLES, DriftMonitor } from './drift-monitor';

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
    const snap = drift.snapshot('qa', 'gemini-2.5-flash')!;
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
    const snap = drift.snapshot('reason', 'm')!;
    expect(snap.trend).toBe('degrading');
    expect(snap.slopePerHour).toBeCloseTo(-0.025, 3);
    expect(snap.projected24h).toBeCloseTo(snap.currentQuality - 0.6, 2);
    expect(snap.risk).toBe('critical');
  });

  it('detects improvement and keeps the trend stable until the window spans 15 minutes', () => {
    for (let i = 0; i < 30; i++) drift.record('qa', 'm', 0.2 + i * 0.02, T0 + i * 1000);
    expect(drift.snapshot('qa', 'm')!.trend).toBe('stable');
    drift.record('qa', 'm', 0.9, T0 + HOUR);
    const snap = drift.snapshot('qa', 'm')!;
    expect(snap.trend).toBe('improving');
    expect(snap.slopePerHour).toBeGreaterThan(0);
  });

  it('bounds the window by age (24 h) and size, and keeps series apart', () => {
    drift.record('qa', 'a', 0.1, T0);
    drift.record('qa', 'a', 0.9, T0 + 25 * HOUR);
    expect(drift.snapshot('qa', 'a')!.samples).toBe(1);
    for (let i = 0; i < DRIFT_MAX_SAMPLES + 50; i++) drift.record('qa', 'b', 0.5, T0 + i);
    expect(drift.snapshot('qa', 'b')!.samples).toBe(DRIFT_MAX_SAMPLES);
    expect(drift.snapshot('stress', 'a')).toBeUndefined();
    expect(
      drift
        .all()
        .map((s) => s.model)
        .sort(),
    ).toEqual(['a', 'b']);
  });

  it('reports gauges per endpoint and model', () => {
    for (let i = 0; i < 20; i++) drift.record('qa', 'gemini-2.5-flash', 0.2, T0 + i * 60_000);
    drift.report();
    expect(metrics.named('llm.quality.drift.current')).toEqual([
      { type: 'gauge', name: 'llm.quality.drift.current', value: 0.2, tags: ['endpoint:qa', 'model:gemini-2.5-flash'] },
    ]);
    expect(metrics.named('llm.quality.drift.projected_24h')).toHaveLength(1);
    expect(metrics.named('llm.quality.drift.risk')[0]!.value).toBe(3);
  });
});
