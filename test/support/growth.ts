/**
 * How a function's running time grows with its input, as a ratio that does not depend on how fast the machine is:
 * the fastest of a few runs at `small` and at `large` (the fastest, so a pause of the machine or a GC does not count).
 * A regression test of "was quadratic, is linear" or "was linear, is bounded" asserts on this ratio, never on
 * milliseconds, which differ fivefold between a laptop and a loaded CI runner.
 */
export function growthRatio(run: (size: number) => void, small: number, large: number, runs = 3): number {
  const fastest = (size: number): number => {
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < runs; i++) {
      const start = process.hrtime.bigint();
      run(size);
      best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
    }
    return best;
  };
  fastest(small); // JIT warm-up: not measured
  return fastest(large) / fastest(small);
}
