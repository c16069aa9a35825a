import type { OutboxStats } from './outbox.types';

/**
 * Folds `state, n, oldest` rows (one per state) into the outbox's counts and the age of its oldest waiting row, and
 * the `incident_open` row into the open incidents' count and the age of the oldest.
 */
export function toStats(rows: readonly Record<string, unknown>[], now: number): OutboxStats {
  const stats: OutboxStats = {
    pending: 0,
    delivering: 0,
    delivered: 0,
    failed: 0,
    oldestPendingAgeMs: null,
    openIncidents: 0,
    oldestOpenAgeMs: null,
  };
  let oldest: number | undefined;
  for (const row of rows) {
    const n = Number(row.n);
    switch (row.state) {
      case 'pending':
      case 'delivering':
        stats[row.state] = n;
        if (row.oldest !== null && row.oldest !== undefined) oldest = Math.min(oldest ?? Infinity, Number(row.oldest));
        break;
      case 'delivered':
      case 'failed':
        stats[row.state] = n;
        break;
      case 'incident_open':
        stats.openIncidents = n;
        if (n > 0 && row.oldest !== null && row.oldest !== undefined)
          stats.oldestOpenAgeMs = Math.max(0, now - Number(row.oldest));
        break;
      default:
        break;
    }
  }
  if (oldest !== undefined) stats.oldestPendingAgeMs = Math.max(0, now - oldest);
  return stats;
}
