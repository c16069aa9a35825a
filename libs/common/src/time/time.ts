/** Time units and calendar helpers shared by the ledger, the forecaster and budgets (UTC throughout). */
export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** Start of the UTC hour holding `ts` (epoch ms). */
export function hourStart(ts: number): number {
  return Math.floor(ts / HOUR_MS) * HOUR_MS;
}

/** Start of the UTC day holding `ts`; budgets reset at UTC midnight. */
export function utcDayStart(ts: number): number {
  return Math.floor(ts / DAY_MS) * DAY_MS;
}

/**
 * Milliseconds on the process's monotonic clock (`performance.now()`), for durations, cooldowns and holds kept in
 * memory: unlike `Date.now()`, it never steps when the wall clock does (an NTP correction, a VM resumed, an
 * operator's `date -s`). A cooldown timed on the wall clock that steps back an hour lasts an hour longer.
 * Timestamps that are stored, shared between replicas or shown stay on `Date.now()`.
 */
export function monotonicNow(): number {
  return performance.now();
}
