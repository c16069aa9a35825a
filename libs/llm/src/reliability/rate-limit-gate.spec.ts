import { type GateTicket, RateLimitGate, RateLimitWaitError } from './rate-limit-gate';
import { SaturationTracker } from './saturation';

/** The gate on a fake clock (jest's modern fake timers move Date.now and performance.now with the timers). */
function gate(maxLimit = 100, holdMs = 1000, maxHoldMs = 60_000) {
  const holds: { holdMs: number; limit: number }[] = [];
  const g = new RateLimitGate('openai:m', { holdMs, maxHoldMs, maxLimit }, (_k, hold, limit) =>
    holds.push({ holdMs: hold, limit }),
  );
  return { g, holds };
}

const take = (g: RateLimitGate): GateTicket => {
  const ticket = g.tryAcquire();
  if (!ticket) throw new Error('the gate refused');
  return ticket;
};

describe('RateLimitGate: a 429 holds for Retry-After, then half-open probes, with an adaptive limit', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('holds for the Retry-After, then lets exactly one probe through; its success reopens the gate', () => {
    const { g, holds } = gate();
    const t = take(g);
    g.onRateLimited(t, 1000);
    expect(g.current()).toBe('held');
    expect(g.retryAfterMs()).toBe(1000);
    expect(g.tryAcquire()).toBeUndefined();
    jest.advanceTimersByTime(999);
    expect(g.tryAcquire()).toBeUndefined();
    jest.advanceTimersByTime(1);
    expect(g.current()).toBe('probing');
    const probe = take(g);
    expect(probe.probe).toBe(true);
    expect(g.tryAcquire()).toBeUndefined(); // one probe at a time
    g.onSuccess(probe);
    expect(g.current()).toBe('open');
    expect(take(g).probe).toBe(false);
    expect(holds).toEqual([{ holdMs: 1000, limit: 1 }]);
  });

  it('a hold ends after its Retry-After though the wall clock stepped back an hour meanwhile (NTP, a VM resumed)', () => {
    const { g } = gate();
    g.onRateLimited(take(g), 1000);
    // setSystemTime steps Date.now alone, as a wall-clock correction does; the timers (and performance.now) go on.
    jest.setSystemTime(Date.now() - 3_600_000);
    expect(g.retryAfterMs()).toBeLessThanOrEqual(1000);
    jest.advanceTimersByTime(1000);
    expect(g.current()).toBe('probing');
    expect(take(g).probe).toBe(true);
  });

  it('holds LLM_RATE_LIMIT_HOLD_MS without a Retry-After, and never longer than the maximum', () => {
    const { g, holds } = gate(100, 1000, 5000);
    g.onRateLimited(take(g), undefined);
    jest.advanceTimersByTime(1000);
    g.onRateLimited(take(g), 3_600_000);
    expect(holds.map((h) => h.holdMs)).toEqual([1000, 5000]);
    expect(g.retryAfterMs()).toBe(5000);
  });

  it('a probe refused again holds again, the hold growing from the 2nd 429 in a row (250 ms · 2^(n−1), at most 5 s)', () => {
    const { g, holds } = gate(100, 100);
    for (let i = 0; i < 7; i++) {
      g.onRateLimited(take(g), undefined);
      jest.advanceTimersByTime(holds[holds.length - 1]!.holdMs);
    }
    expect(holds.map((h) => h.holdMs)).toEqual([100, 500, 1000, 2000, 4000, 5000, 5000]);
    g.onSuccess(take(g));
    g.onRateLimited(take(g), undefined);
    expect(holds[holds.length - 1]!.holdMs).toBe(100); // a success resets the growth
  });

  it('halves the limit from the calls in flight on a 429, once per hold; +1 per success up to the cap', () => {
    const { g } = gate(100);
    const tickets = Array.from({ length: 40 }, () => take(g));
    expect(g.limit).toBe(100);
    g.onRateLimited(tickets[0]!, 1000);
    expect(g.limit).toBe(20); // min(100, 40 in flight) / 2
    // The other 39 were sent before the hold: their 429s change nothing more.
    for (const t of tickets.slice(1)) g.onRateLimited(t, 1000);
    expect(g.limit).toBe(20);
    expect(g.inFlight).toBe(0);
    jest.advanceTimersByTime(1000);
    g.onSuccess(take(g)); // the probe's success: open, +1
    expect(g.limit).toBe(21);
    const open = Array.from({ length: 21 }, () => take(g));
    expect(g.tryAcquire()).toBeUndefined(); // at the adaptive limit
    for (const t of open) g.onSuccess(t);
    expect(g.limit).toBe(42);
    for (let i = 0; i < 200; i++) g.onSuccess(take(g));
    expect(g.limit).toBe(100);
    // Back at the cap, the gate no longer counts: the provider's ConcurrencyLimiter is the hard cap.
    expect(Array.from({ length: 150 }, () => g.tryAcquire()).every((t) => t !== undefined)).toBe(true);
  });

  it('a probe refused does not halve the limit (one call in flight says nothing about the rate)', () => {
    const { g } = gate(100);
    const tickets = Array.from({ length: 10 }, () => take(g));
    g.onRateLimited(tickets[0]!, 100);
    for (const t of tickets.slice(1)) g.release(t);
    expect(g.limit).toBe(5);
    jest.advanceTimersByTime(100);
    g.onRateLimited(take(g), 100);
    expect(g.limit).toBe(5);
  });

  it('a probe ending in another failure (5xx, timeout) reopens the gate: the circuit breaker counts that', () => {
    const { g } = gate();
    g.onRateLimited(take(g), 50);
    jest.advanceTimersByTime(50);
    g.onFailure(take(g));
    expect(g.current()).toBe('open');
  });

  it('a probe released without an outcome (client gone) lets the next caller probe', () => {
    const { g } = gate();
    g.onRateLimited(take(g), 50);
    jest.advanceTimersByTime(50);
    const probe = take(g);
    g.release(probe);
    g.release(probe); // settled once
    expect(g.inFlight).toBe(0);
    expect(take(g).probe).toBe(true);
  });

  it('waiters are admitted when the hold ends (the first as the probe, the rest when it succeeds), in order', async () => {
    const { g } = gate();
    g.onRateLimited(take(g), 1000);
    const order: number[] = [];
    const waiting = [1, 2, 3].map((n) =>
      g.acquire(5000).then((t) => {
        order.push(n);
        return t;
      }),
    );
    expect(g.queued).toBe(3);
    expect(g.tryAcquire()).toBeUndefined(); // no jumping the queue
    await jest.advanceTimersByTimeAsync(1000);
    expect(order).toEqual([1]);
    const probe = await waiting[0]!;
    expect(probe.probe).toBe(true);
    g.onSuccess(probe);
    await jest.advanceTimersByTimeAsync(0);
    expect(order).toEqual([1, 2, 3]);
  });

  it('a wait past its bound fails with what is left of the hold; an abort leaves the queue at once', async () => {
    const { g } = gate();
    g.onRateLimited(take(g), 10_000);
    const timedOut = g.acquire(2000).catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(2000);
    const error = (await timedOut) as RateLimitWaitError;
    expect(error).toBeInstanceOf(RateLimitWaitError);
    expect(error.retryAfterMs).toBe(8000);
    expect(error.waitedMs).toBe(2000);
    await expect(g.acquire(0)).rejects.toBeInstanceOf(RateLimitWaitError);
    const controller = new AbortController();
    const aborted = g.acquire(5000, controller.signal).catch((e: unknown) => e);
    controller.abort(new Error('client gone'));
    expect(((await aborted) as Error).message).toBe('client gone');
    expect(g.queued).toBe(0);
  });

  it('the drill: 429 with Retry-After 1 for 2 s, then 200: a call is answered within about 1 s of the recovery', async () => {
    const { g } = gate(5000);
    const recoverAt = Date.now() + 2000;
    const upstream = (): boolean => Date.now() >= recoverAt;
    let answeredAt: number | undefined;
    // Calls keep arriving every 50 ms, each waiting up to 2 s (LLM_QUEUE_TIMEOUT_MS) for the gate.
    const calls: Promise<void>[] = [];
    for (let t = 0; t < 4000 && answeredAt === undefined; t += 50) {
      calls.push(
        g.acquire(2000).then(
          (ticket) => {
            if (upstream()) {
              answeredAt ??= Date.now();
              g.onSuccess(ticket);
            } else g.onRateLimited(ticket, 1000);
          },
          () => undefined,
        ),
      );
      await jest.advanceTimersByTimeAsync(50);
    }
    await jest.advanceTimersByTimeAsync(2000);
    await Promise.all(calls);
    expect(answeredAt).toBeDefined();
    expect(answeredAt! - recoverAt).toBeLessThanOrEqual(1000);
  });
});

describe('SaturationTracker: a signal sheds load once sustained, not on a burst', () => {
  const thresholds = { elu: 0.95, eventLoopDelayMs: 500, heapRatio: 0.9, sustainMs: 2000 };
  const sample = (at: number, over: Partial<{ elu: number; delay: number; heap: number }> = {}) => ({
    at,
    elu: over.elu ?? 0.2,
    eventLoopDelayP99Ms: over.delay ?? 5,
    heapRatio: over.heap ?? 0.3,
  });

  it('names the event loop after ELU stays over its threshold for the sustain window; one sample under clears it', () => {
    const tracker = new SaturationTracker(thresholds);
    expect(tracker.update(sample(0, { elu: 0.99 }))).toBeUndefined();
    expect(tracker.update(sample(1000, { elu: 0.99 }))).toBeUndefined();
    expect(tracker.update(sample(2000, { elu: 0.99 }))).toBe('event_loop');
    expect(tracker.update(sample(2500, { elu: 0.5 }))).toBeUndefined();
    expect(tracker.update(sample(3000, { elu: 0.99 }))).toBeUndefined();
  });

  it('a burst of delay shorter than the window sheds nothing; sustained delay does; heap is named after the loop', () => {
    const tracker = new SaturationTracker(thresholds);
    expect(tracker.update(sample(0, { delay: 900 }))).toBeUndefined();
    expect(tracker.update(sample(500))).toBeUndefined();
    for (let at = 1000; at <= 3000; at += 500) tracker.update(sample(at, { delay: 700, heap: 0.95 }));
    expect(tracker.update(sample(3500, { delay: 700, heap: 0.95 }))).toBe('event_loop');
    expect(tracker.update(sample(4000, { heap: 0.95 }))).toBe('heap');
  });

  it('a threshold of 0 turns its signal off; all off: disabled', () => {
    const off = new SaturationTracker({ elu: 0, eventLoopDelayMs: 0, heapRatio: 0, sustainMs: 500 });
    expect(off.enabled).toBe(false);
    for (let at = 0; at <= 5000; at += 500)
      expect(off.update(sample(at, { elu: 1, delay: 9999, heap: 1 }))).toBe(undefined);
  });
});

describe('RateLimitGate: a caller that starts waiting as the hold ends', () => {
  it('is admitted as the probe, not left waiting its whole bound (the hold ended between the look and the wake timer)', async () => {
    // A clock that moves 1 ms at every reading: the hold (2 ms) is still on when `acquire` looks (tryAcquire) and over
    // by the time it would schedule its wake timer. A retry whose backoff is exactly the Retry-After lands here: its
    // timer runs on the event loop's cached clock and can fire a fraction of a millisecond before the hold ends.
    // Before, no wake timer was set (the gate was no longer held) and nothing admitted the caller: it waited its whole
    // bound and the call failed with the 429 (fallback-chain.spec's "honours Retry-After" failed so under load).
    let t = 0;
    const g = new RateLimitGate('openai:m', { holdMs: 1000, maxHoldMs: 60_000, maxLimit: 100 }, undefined, () => t++);
    const first = g.tryAcquire();
    expect(first).toBeDefined();
    g.onRateLimited(first!, 2);
    const outcome = await g.acquire(200).then(
      (ticket) => ticket,
      (error: unknown) => error,
    );
    expect(outcome).not.toBeInstanceOf(RateLimitWaitError);
    expect((outcome as GateTicket).probe).toBe(true);
  });
});
