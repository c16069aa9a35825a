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

/** The longest delay `setTimeout`/`setInterval` take (2^31 − 1 ms, about 24.8 days): past it they fire after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Calls `task` every `periodMs`, whatever its length (`setInterval` of more than MAX_TIMER_MS fires every
 * millisecond), timed on the monotonic clock; the timer does not hold the process open. Returns what stops it.
 */
export function repeatEvery(periodMs: number, task: () => void): () => void {
  let due = monotonicNow() + periodMs;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    // At least 1 ms: a timer may fire a fraction of a millisecond before the monotonic clock reaches `due`.
    timer = setTimeout(tick, Math.min(MAX_TIMER_MS, Math.max(1, due - monotonicNow())));
    timer.unref();
  };
  const tick = (): void => {
    if (monotonicNow() >= due) {
      // One call for a period missed whole (a suspended VM), not one per period.
      due = Math.max(due + periodMs, monotonicNow());
      task();
    }
    arm();
  };
  arm();
  return () => clearTimeout(timer);
}
