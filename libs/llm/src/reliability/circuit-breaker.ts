import { monotonicNow } from '@app/common';

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** Opens after this many consecutive failures. */
  failureThreshold: number;
  /** ...or when the failure ratio over the window reaches this, with at least `minRequests` outcomes. */
  failureRatio: number;
  minRequests: number;
  windowMs: number;
  /** How long it stays open before letting one probe through. */
  cooldownMs: number;
}

/** Numeric value of a state for the `llm.circuit.state` gauge. */
export const CIRCUIT_STATE_VALUE: Record<CircuitState, number> = { closed: 0, half_open: 1, open: 2 };

/**
 * A circuit breaker for one provider+model. Closed: calls pass, outcomes counted in a rolling window
 * (10 buckets). Open: calls are refused until the cooldown ends. Half-open: exactly one probe passes;
 * its success closes the circuit, its failure opens it again.
 */
export class CircuitBreaker {
  private state: CircuitState = 'closed';
  private consecutiveFailures = 0;
  private openedAt = 0;
  private probeInFlight = false;
  private readonly buckets: { start: number; ok: number; failed: number }[] = [];

  constructor(
    readonly key: string,
    private readonly options: BreakerOptions,
    private readonly onChange: (key: string, state: CircuitState) => void = () => undefined,
    private readonly now: () => number = monotonicNow,
  ) {}

  current(): CircuitState {
    if (this.state === 'open' && this.now() - this.openedAt >= this.options.cooldownMs) this.transition('half_open');
    return this.state;
  }

  /** Milliseconds until an open circuit lets a probe through (0 when not open). */
  retryAfterMs(): number {
    return this.state === 'open' ? Math.max(0, this.options.cooldownMs - (this.now() - this.openedAt)) : 0;
  }

  /** Whether a call may go now; in half-open, only the first caller gets the probe. */
  tryAcquire(): boolean {
    const state = this.current();
    if (state === 'closed') return true;
    if (state === 'half_open' && !this.probeInFlight) {
      this.probeInFlight = true;
      return true;
    }
    return false;
  }

  onSuccess(): void {
    this.consecutiveFailures = 0;
    this.count(true);
    if (this.state !== 'closed') {
      this.probeInFlight = false;
      this.buckets.length = 0;
      this.transition('closed');
    }
  }

  onFailure(): void {
    this.consecutiveFailures += 1;
    this.count(false);
    if (this.state === 'half_open') {
      this.probeInFlight = false;
      this.open();
      return;
    }
    if (this.state === 'closed' && (this.consecutiveFailures >= this.options.failureThreshold || this.ratioTripped()))
      this.open();
  }

  /** A call that passed `tryAcquire` but ended without an outcome that says anything about the upstream. */
  release(): void {
    if (this.state === 'half_open') this.probeInFlight = false;
  }

  private open(): void {
    this.openedAt = this.now();
    this.transition('open');
  }

  private transition(state: CircuitState): void {
    if (this.state === state) return;
    this.state = state;
    this.onChange(this.key, state);
  }

  private count(ok: boolean): void {
    const now = this.now();
    const width = this.options.windowMs / 10;
    let last = this.buckets[this.buckets.length - 1];
    if (!last || now - last.start >= width) {
      last = { start: now - (now % width), ok: 0, failed: 0 };
      this.buckets.push(last);
    }
    if (ok) last.ok += 1;
    else last.failed += 1;
    while (this.buckets.length > 0 && now - this.buckets[0]!.start >= this.options.windowMs) this.buckets.shift();
  }

  private ratioTripped(): boolean {
    let ok = 0;
    let failed = 0;
    for (const b of this.buckets) {
      ok += b.ok;
      failed += b.failed;
    }
    const total = ok + failed;
    return total >= this.options.minRequests && failed / total >= this.options.failureRatio;
  }
}
