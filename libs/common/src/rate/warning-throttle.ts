import { monotonicNow } from '../time/time';

/**
 * At most one log line per key and interval for a condition that repeats (a store that is down, a receiver that
 * refuses): the first occurrence is let through at once, the next ones within the interval are counted, and the
 * next line let through says how many were held back. Recovery is the caller's to say (`clear(key)` returns the
 * count of lines held back since the last one).
 */
export class WarningThrottle {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    readonly intervalMs: number,
    private readonly now: () => number = monotonicNow,
  ) {}

  /**
   * Whether a line may be logged now for `key`: `undefined` when it is held back (and counted), else the number of
   * lines held back since the previous one (0 for the first).
   */
  admit(key = ''): number | undefined {
    const now = this.now();
    const last = this.last.get(key);
    if (last && now - last.at < this.intervalMs) {
      last.suppressed += 1;
      return undefined;
    }
    this.last.set(key, { at: now, suppressed: 0 });
    return last?.suppressed ?? 0;
  }

  /** Whether `key` has logged since its last `clear`. */
  active(key = ''): boolean {
    return this.last.has(key);
  }

  /** Forgets `key` (the condition is over): returns the lines held back since the last one let through. */
  clear(key = ''): number {
    const suppressed = this.last.get(key)?.suppressed ?? 0;
    this.last.delete(key);
    return suppressed;
  }

  /** Forgets every key. */
  reset(): void {
    this.last.clear();
  }
}

/** ` (N more since the last line)` for a count of held-back lines, else ''. */
export function heldBack(suppressed: number | undefined): string {
  return suppressed ? ` (${suppressed} more since the last line)` : '';
}
