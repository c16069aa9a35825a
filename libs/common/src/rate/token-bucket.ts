/**
 * A token bucket: at most `capacity` tokens, refilled continuously at `perMs` tokens a millisecond, one taken per
 * use. Clock-agnostic: every call passes `now` in milliseconds (`Date.now()` or `performance.now()`, always the same
 * one for one bucket). Used by the per-caller rate limit (libs/security) and the LLM Observability keep budget
 * (libs/llm).
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  /** Starts full. */
  constructor(
    readonly capacity: number,
    readonly perMs: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.at = now;
  }

  /** Takes one token if one is there (after refilling up to `now`). */
  take(now: number): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + Math.max(0, now - this.at) * this.perMs);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until one token is back, as of the last `take` (0 when one is there). */
  msUntilToken(): number {
    return this.tokens >= 1 ? 0 : (1 - this.tokens) / this.perMs;
  }

  /** When the bucket was last used (the clock of `take`). */
  get lastUsedAt(): number {
    return this.at;
  }
}
