import type { OutboxStats } from './outbox.types';

/** Folds `state, n, oldest` rows (one per state) into the outbox's counts and the age of its oldest waiting row. */
export function toStats(rows: readonly Record<string, unknown>[], now: number): OutboxStats {
  const stats: OutboxStats = { pending: 0, delivering: 0, delivered: 0, failed: 0, oldestPendingAgeMs: null };
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
      default:
        break;
    }
  }
  if (oldest !== undefined) stats.oldestPendingAgeMs = Math.max(0, now - oldest);
  return stats;
}
