/**
 * A window's length as the texts say it ("5m", "1h", "90s"): its configured length (HEALTH_WINDOW_SHORT_MS,
 * HEALTH_WINDOW_LONG_MS), not its name in the API, which stays `5m` and `1h` whatever the length.
 */
export function spanLabel(ms: number): string {
  if (ms > 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms > 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}
