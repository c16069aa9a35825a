import { retryDelayMs } from './backoff';

describe('retryDelayMs (exponential, jittered, bounded)', () => {
  it('stays within [base, max] for every attempt and jitter', () => {
    for (const [base, max] of [
      [1000, 300_000],
      [10, 10],
      [50, 400],
      [600_000, 86_400_000],
    ] as const) {
      for (let attempts = 0; attempts <= 80; attempts++) {
        for (const random of [0, 0.25, 0.5, 0.999999, 1]) {
          const delay = retryDelayMs(attempts, base, max, random);
          expect(delay).toBeGreaterThanOrEqual(base);
          expect(delay).toBeLessThanOrEqual(max);
          expect(Number.isInteger(delay)).toBe(true);
        }
      }
    }
  });

  it('doubles per attempt, jittered between half and all of it', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, 1000, 300_000, 0.999999))).toEqual([
      1000, 2000, 4000, 8000, 16_000,
    ]);
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, 1000, 300_000, 0))).toEqual([1000, 1000, 2000, 4000, 8000]);
    expect(retryDelayMs(30, 1000, 300_000, 0)).toBe(150_000);
  });
});
