import { LATENCY_LADDER_MS } from '../window-usage';
import { MINUTE_MS, planWindow } from './minute-rollup';

const T = Date.UTC(2026, 11, 6, 10, 0, 0);
const ladder = [LATENCY_LADDER_MS[10]!, LATENCY_LADDER_MS[40]!];

describe('planWindow: which part of a window the minute rollups answer', () => {
  it('whole minutes from the rollups, the ragged edges from the raw records', () => {
    expect(planWindow({ from: T + 1500, to: T + 10 * MINUTE_MS + 20, latencyBoundsMs: ladder }, 0)).toEqual({
      raw: [
        [T + 1500, T + MINUTE_MS],
        [T + 10 * MINUTE_MS, T + 10 * MINUTE_MS + 20],
      ],
      minutes: [T + MINUTE_MS, T + 10 * MINUTE_MS],
      buckets: [10, 40],
    });
    expect(planWindow({ from: T, to: T + 60 * MINUTE_MS }, 0)).toEqual({
      raw: [],
      minutes: [T, T + 60 * MINUTE_MS],
      buckets: [],
    });
  });

  it('before the rollups start, from the raw records', () => {
    const since = T + 5 * MINUTE_MS;
    expect(planWindow({ from: T, to: T + 60 * MINUTE_MS }, since)).toEqual({
      raw: [[T, since]],
      minutes: [since, T + 60 * MINUTE_MS],
      buckets: [],
    });
  });

  it('all raw for less than a whole minute, a bound off the ladder, or no rollups yet', () => {
    expect(planWindow({ from: T + 10, to: T + MINUTE_MS + 10 }, 0)?.minutes).toBeNull();
    expect(planWindow({ from: T, to: T + 60 * MINUTE_MS, latencyBoundsMs: [500] }, 0)).toBeNull();
    expect(planWindow({ from: T, to: T + 60 * MINUTE_MS }, null)).toBeNull();
  });
});
