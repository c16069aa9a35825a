/** At most this many more pairs of runs, and this long in all, while the ratio reads more than twice linear. */
const EXTRA_RUNS = 40;
const EXTRA_MS = 4_000;

/**
 * How a function's running time grows with its input, as a ratio that does not depend on how fast the machine is:
 * the fastest of several runs at `small` and at `large` (the fastest, so a pause of the machine or a GC does not count).
 * A regression test of "was quadratic, is linear" or "was linear, is bounded" asserts on this ratio, never on
 * milliseconds, which differ fivefold between a laptop and a loaded CI runner.
 *
 * The runs at the two sizes are interleaved, so a stretch of the machine being busy slows both alike, and there are at
 * least nine of each: on a CI runner whose two cores are shared with the services the e2e suites start, a run of a few
 * milliseconds is often preempted for a whole time slice, and five runs of the large size were once all preempted
 * (a linear function measured 33x for 8x the input; it measures 7.9x on a quiet machine). One of nine left alone is
 * enough for the fastest to be the function's own time; a quadratic function is slow on every run.
 */
export function growthRatio(run: (size: number) => void, small: number, large: number, runs = 9): number {
  const time = (size: number): number => {
    const start = process.hrtime.bigint();
    run(size);
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  time(small); // JIT warm-up: not measured
  time(large);
  let fastestSmall = Number.POSITIVE_INFINITY;
  let fastestLarge = Number.POSITIVE_INFINITY;
  const started = Date.now();
  // Past the first runs, measuring goes on while the ratio still reads more than twice linear, up to EXTRA_RUNS more
  // pairs or EXTRA_MS: a linear function whose large runs were all preempted (two busy loops beside it: 33-36x for 8x
  // the input, 1 run in 4 of a PII spec) gets more chances to show its own time; a quadratic one is slow on every run,
  // so the fastest of more runs still reads quadratic. The extra time is spent only where the ratio looks bad.
  const linear = large / small;
  for (let i = 0; ; i++) {
    fastestSmall = Math.min(fastestSmall, time(small));
    fastestLarge = Math.min(fastestLarge, time(large));
    if (i + 1 < Math.max(runs, 9)) continue;
    const ratio = fastestLarge / fastestSmall;
    if (ratio <= 2 * linear || i + 1 >= Math.max(runs, 9) + EXTRA_RUNS || Date.now() - started > EXTRA_MS) break;
  }
  return fastestLarge / fastestSmall;
}
