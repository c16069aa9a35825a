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
