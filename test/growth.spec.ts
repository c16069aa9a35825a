import { growthRatio } from './support/growth';

/** The yardstick of the "stays linear" tests: it must tell linear from quadratic, or those tests check nothing. */
describe('growthRatio', () => {
  const linear = (n: number): number => {
    let sum = 0;
    for (let i = 0; i < n * 200; i++) sum += i % 7;
    return sum;
  };
  const quadratic = (n: number): number => {
    let sum = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sum += (i ^ j) % 7;
    return sum;
  };

  it('measures about 8 for a linear function given 8 times the input', () => {
    expect(growthRatio((n) => linear(n), 1000, 8000)).toBeLessThan(24);
  });

  it('still measures a linear function as linear when its first large runs were all slowed (a busy runner)', () => {
    // The first 12 large runs (warm-up, the nine and two more) spin 30 times longer, as when every one of them was
    // preempted: the fastest of nine read 30x; measuring on while the ratio looks bad finds the function's own time.
    let slowedLeft = 12;
    const preempted = (n: number): number => {
      const slowed = n === 8000 && slowedLeft-- > 0;
      return linear(slowed ? n * 30 : n);
    };
    expect(growthRatio((n) => preempted(n), 1000, 8000)).toBeLessThan(24);
  });

  it('measures far more for a quadratic one', () => {
    expect(growthRatio((n) => quadratic(n), 250, 2000)).toBeGreaterThan(24);
  });
});
