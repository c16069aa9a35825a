import { LATENCY_LADDER_MS } from '../window-usage';
import { ROLLUP_MS, planWindow } from './window-rollup';

const T = Date.UTC(2026, 11, 6, 10, 0, 0);
const ladder = [LATENCY_LADDER_MS[10]!, LATENCY_LADDER_MS[40]!];

describe('planWindow: which part of a window the 10-second rollups answer', () => {
  it('whole slots from the rollups, the ragged edges from the raw records', () => {
    expect(planWindow({ from: T + 1500, to: T + 10 * ROLLUP_MS + 20, latencyBoundsMs: ladder }, 0)).toEqual({
      raw: [
        [T + 1500, T + ROLLUP_MS],
        [T + 10 * ROLLUP_MS, T + 10 * ROLLUP_MS + 20],
      ],
      slots: [T + ROLLUP_MS, T + 10 * ROLLUP_MS],
      buckets: [10, 40],
    });
    expect(planWindow({ from: T, to: T + 60 * ROLLUP_MS }, 0)).toEqual({
      raw: [],
      slots: [T, T + 60 * ROLLUP_MS],
      buckets: [],
    });
  });

  it("the health score's windows (on its 10 s step) need no raw scan at all", () => {
    const to = T + 37 * ROLLUP_MS;
    for (const span of [5 * 60_000, 3_600_000]) {
      expect(planWindow({ from: to - span, to, latencyBoundsMs: ladder }, 0)).toEqual({
        raw: [],
        slots: [to - span, to],
        buckets: [10, 40],
      });
    }
  });

  it('before the rollups start, from the raw records', () => {
    const since = T + 5 * ROLLUP_MS;
    expect(planWindow({ from: T, to: T + 60 * ROLLUP_MS }, since)).toEqual({
      raw: [[T, since]],
      slots: [since, T + 60 * ROLLUP_MS],
      buckets: [],
    });
  });

  it('all raw for less than a whole slot, a bound off the ladder, or no rollups yet', () => {
    expect(planWindow({ from: T + 10, to: T + ROLLUP_MS + 10 }, 0)?.slots).toBeNull();
    expect(planWindow({ from: T, to: T + 60 * ROLLUP_MS, latencyBoundsMs: [500] }, 0)).toBeNull();
    expect(planWindow({ from: T, to: T + 60 * ROLLUP_MS }, null)).toBeNull();
  });
});
