/**
 * Delay before retry number `retry` (0-based): exponential with full jitter, capped at `maxMs`; a
 * Retry-After from the upstream is a floor (never retry sooner than the provider asked).
 */
export function backoffDelay(
  retry: number,
  baseMs: number,
  maxMs: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** retry);
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.max(jittered, retryAfterMs ?? 0);
}
