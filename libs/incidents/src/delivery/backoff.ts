/**
 * The wait before the next delivery attempt after `attempts` failed ones (1 after the first failure): exponential
 * from `baseMs` (doubling each attempt), capped at `maxMs`, with "equal jitter" (between half of the exponential
 * value and all of it), and never below `baseMs` nor above `maxMs`. `random` is in [0, 1).
 */
export function retryDelayMs(attempts: number, baseMs: number, maxMs: number, random: number): number {
  const n = Math.max(1, Math.floor(attempts));
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.min(n - 1, 40));
  const jittered = exponential / 2 + (exponential / 2) * Math.min(Math.max(random, 0), 1);
  return Math.round(Math.min(maxMs, Math.max(baseMs, jittered)));
}
