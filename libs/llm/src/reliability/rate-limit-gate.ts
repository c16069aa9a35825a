import { monotonicNow } from '@app/common';

export type RateLimitState = 'open' | 'held' | 'probing';

/** Numeric value of a state for the `llm.rate_limit.state` gauge. */
export const RATE_LIMIT_STATE_VALUE: Record<RateLimitState, number> = { open: 0, probing: 1, held: 2 };

export interface RateLimitGateOptions {
  /** The hold after a 429 without Retry-After (LLM_RATE_LIMIT_HOLD_MS). */
  holdMs: number;
  /** Ceiling of any hold: a longer Retry-After is cut to it (LLM_RATE_LIMIT_MAX_HOLD_MS). */
  maxHoldMs: number;
  /** Ceiling of the adaptive limit (LLM_MAX_CONCURRENCY). */
  maxLimit: number;
}

/** Growth of the hold while probes keep being refused: at least 250 ms · 2^(n−1) from the 2nd 429 in a row, at most 5 s. */
const PROBE_GROWTH_BASE_MS = 250;
const PROBE_GROWTH_MAX_MS = 5_000;

/** Thrown when a call waited its bound for a held (or full) gate: answered 503 NO_CAPACITY `provider_rate_limit`. */
export class RateLimitWaitError extends Error {
  constructor(
    readonly key: string,
    /** What is left of the hold (0 when the gate is probing or at its adaptive limit). */
    readonly retryAfterMs: number,
    readonly waitedMs: number,
  ) {
    super(`${key} is rate-limited by the provider (waited ${waitedMs} ms)`);
    this.name = 'RateLimitWaitError';
  }
}

/** A call's pass through the gate: settle it exactly once (`onSuccess`, `onRateLimited`, `onFailure`, `release`). */
export interface GateTicket {
  /** The hold epoch it was admitted in: a 429 of an earlier epoch (sent before the hold) changes nothing. */
  readonly epoch: number;
  /** The half-open probe: its outcome ends (or renews) the hold. */
  readonly probe: boolean;
  settled: boolean;
}

interface Waiter {
  admit: (ticket: GateTicket) => void;
  fail: (error: Error) => void;
}

/**
 * The rate-limit gate of one provider+model: a 429 is a capacity signal, not a fault (the circuit breaker never
 * counts it). A 429 starts a hold for the provider's Retry-After (LLM_RATE_LIMIT_HOLD_MS without one; at most
 * LLM_RATE_LIMIT_MAX_HOLD_MS; the n-th 429 in a row holds at least 250 ms · 2^(n−1), at most 5 s), then the gate is
 * half-open: one probe at a time; its success reopens the gate, its 429 holds again. Open, it admits up to an
 * adaptive limit (AIMD): halved on a 429 (once per hold: the 429s of calls sent before the hold change nothing,
 * from the calls in flight when it came), +1 per success up to `maxLimit`. Callers wait in FIFO order
 * (`acquire`, bounded) or look without waiting (`tryAcquire`) and fall back to another model.
 */
export class RateLimitGate {
  private state: RateLimitState = 'open';
  private holdUntil = 0;
  private epoch = 0;
  /** 429s in a row without a success: the growth of the hold. */
  private strikes = 0;
  private probeInFlight = false;
  private active = 0;
  private limitValue: number;
  private readonly waiters: Waiter[] = [];
  private wakeTimer?: NodeJS.Timeout;

  constructor(
    readonly key: string,
    private readonly options: RateLimitGateOptions,
    private readonly onHold: (key: string, holdMs: number, limit: number) => void = () => undefined,
    private readonly now: () => number = monotonicNow,
  ) {
    this.limitValue = options.maxLimit;
  }

  current(): RateLimitState {
    if (this.state === 'held' && this.now() >= this.holdUntil) this.state = 'probing';
    return this.state;
  }

  /** The adaptive limit of calls in flight. */
  get limit(): number {
    return this.limitValue;
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /** Milliseconds left of the hold (0 when not held). */
  retryAfterMs(): number {
    return this.current() === 'held' ? Math.max(0, this.holdUntil - this.now()) : 0;
  }

  /** A ticket now, or undefined (held, the probe in flight, at the limit, or callers already waiting). */
  tryAcquire(): GateTicket | undefined {
    if (this.waiters.length > 0 || !this.admissible()) return undefined;
    return this.admit();
  }

  /** A ticket, waiting up to `waitMs` in FIFO order; RateLimitWaitError past it, the abort reason if the signal fires. */
  acquire(waitMs: number, signal?: AbortSignal): Promise<GateTicket> {
    signal?.throwIfAborted();
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    if (waitMs <= 0) return Promise.reject(new RateLimitWaitError(this.key, this.retryAfterMs(), 0));
    return new Promise<GateTicket>((resolve, reject) => {
      const started = this.now();
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
      };
      const waiter: Waiter = {
        admit: (ticket) => {
          cleanup();
          resolve(ticket);
        },
        fail: (error) => {
          cleanup();
          reject(error);
        },
      };
      const timer = setTimeout(
        () => waiter.fail(new RateLimitWaitError(this.key, this.retryAfterMs(), this.now() - started)),
        waitMs,
      );
      const onAbort = (): void => {
        const reason: unknown = signal?.reason;
        waiter.fail(reason instanceof Error ? reason : new Error(String(reason)));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      // Pump, not only a wake timer: the hold may have ended since `tryAcquire` looked (a timer on the event loop's
      // cached clock fires a fraction of a millisecond early), and then no timer would ever admit this caller.
      this.pump();
    });
  }

  /** The provider answered: a probe reopens the gate; the limit grows by one. */
  onSuccess(ticket: GateTicket): void {
    if (!this.settle(ticket)) return;
    if (ticket.epoch === this.epoch) {
      this.strikes = 0;
      if (ticket.probe) this.state = 'open';
      if (this.state === 'open') this.limitValue = Math.min(this.options.maxLimit, this.limitValue + 1);
    }
    this.pump();
  }

  /**
   * The provider answered 429: a hold for its Retry-After (bounded). A call sent before the current hold began
   * changes nothing (its 429 was already answered by the hold); otherwise the limit is halved (not on a probe: one
   * call in flight says nothing about the rate the provider takes).
   */
  onRateLimited(ticket: GateTicket, retryAfterMs: number | undefined): void {
    if (!this.settle(ticket)) return;
    if (ticket.epoch !== this.epoch) {
      this.pump();
      return;
    }
    if (!ticket.probe) this.limitValue = Math.max(1, Math.floor(Math.min(this.limitValue, this.active + 1) / 2));
    this.strikes += 1;
    const growth = this.strikes < 2 ? 0 : Math.min(PROBE_GROWTH_MAX_MS, PROBE_GROWTH_BASE_MS * 2 ** (this.strikes - 1));
    const holdMs = Math.min(this.options.maxHoldMs, Math.max(retryAfterMs ?? this.options.holdMs, growth));
    this.holdUntil = this.now() + holdMs;
    this.state = 'held';
    this.epoch += 1;
    this.onHold(this.key, holdMs, this.limitValue);
    this.pump();
  }

  /** Another failure (5xx, timeout): not a rate limit, so a probe reopens the gate (the circuit breaker counts it). */
  onFailure(ticket: GateTicket): void {
    if (!this.settle(ticket)) return;
    if (ticket.probe && ticket.epoch === this.epoch) this.state = 'open';
    this.pump();
  }

  /** Ended without an outcome about the provider (the client went away, a drill, a bad request): frees the ticket. */
  release(ticket: GateTicket): void {
    if (!this.settle(ticket)) return;
    this.pump();
  }

  private settle(ticket: GateTicket): boolean {
    if (ticket.settled) return false;
    ticket.settled = true;
    this.active -= 1;
    if (ticket.probe && ticket.epoch === this.epoch) this.probeInFlight = false;
    return true;
  }

  private admissible(): boolean {
    const state = this.current();
    if (state === 'held') return false;
    if (state === 'probing') return !this.probeInFlight;
    // At the cap the gate lets everything through: the hard cap is the provider's ConcurrencyLimiter (a 503 there
    // names `concurrency`); only a limit lowered by a 429 holds calls back here.
    return this.limitValue >= this.options.maxLimit || this.active < this.limitValue;
  }

  private admit(): GateTicket {
    const probe = this.current() === 'probing';
    if (probe) this.probeInFlight = true;
    this.active += 1;
    return { epoch: this.epoch, probe, settled: false };
  }

  /** Admits waiting callers while the gate lets them through; while held, wakes up when the hold ends. */
  private pump(): void {
    while (this.waiters.length > 0 && this.admissible()) this.waiters[0]!.admit(this.admit());
    this.scheduleWake();
  }

  private scheduleWake(): void {
    if (this.waiters.length === 0 || this.current() !== 'held') return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined;
        this.pump();
      },
      Math.max(0, this.holdUntil - this.now()),
    );
    this.wakeTimer.unref();
  }
}
