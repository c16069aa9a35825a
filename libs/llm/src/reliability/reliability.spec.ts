import { backoffDelay } from './backoff';
import { CircuitBreaker, type CircuitState } from './circuit-breaker';
import { ConcurrencyLimiter, NoCapacityError } from './concurrency-limiter';

describe('backoffDelay', () => {
  it('grows exponentially with jitter inside [ceiling/2, ceiling], capped', () => {
    for (let retry = 0; retry < 6; retry++) {
      const ceiling = Math.min(1000, 100 * 2 ** retry);
      expect(backoffDelay(retry, 100, 1000, undefined, () => 0)).toBe(ceiling / 2);
      expect(backoffDelay(retry, 100, 1000, undefined, () => 0.999999)).toBeCloseTo(ceiling, 0);
    }
  });
  it('never goes below Retry-After', () => {
    expect(backoffDelay(0, 100, 1000, 3000, () => 0.5)).toBe(3000);
  });
});

describe('CircuitBreaker', () => {
  const options = { failureThreshold: 3, failureRatio: 0.5, minRequests: 10, windowMs: 10_000, cooldownMs: 1000 };

  it('opens on consecutive failures, lets one half-open probe through after the cooldown, reopens on its failure', () => {
    let now = 0;
    const states: CircuitState[] = [];
    const breaker = new CircuitBreaker(
      'p:m',
      options,
      (_k, s) => states.push(s),
      () => now,
    );
    for (let i = 0; i < 3; i++) breaker.onFailure();
    expect(breaker.current()).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.retryAfterMs()).toBe(1000);
    now = 1000;
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false); // only one probe
    breaker.onFailure();
    expect(breaker.current()).toBe('open');
    now = 2000;
    expect(breaker.tryAcquire()).toBe(true);
    breaker.onSuccess();
    expect(breaker.current()).toBe('closed');
    expect(states).toEqual(['open', 'half_open', 'open', 'half_open', 'closed']);
  });

  it('opens on the failure ratio over the window once enough calls were seen', () => {
    const now = 0;
    const breaker = new CircuitBreaker('p:m', { ...options, failureThreshold: 100 }, undefined, () => now);
    for (let i = 0; i < 5; i++) {
      breaker.onSuccess();
      breaker.onFailure();
    }
    expect(breaker.current()).toBe('open');
  });

  describe('on the default clock, when the wall clock steps (NTP, a VM resumed)', () => {
    // jest's fake timers move Date.now and performance.now together; setSystemTime steps Date.now alone, as a
    // wall-clock correction does.
    beforeEach(() => jest.useFakeTimers({ now: Date.UTC(2026, 11, 7, 12) }));
    afterEach(() => jest.useRealTimers());

    it('an open circuit still lets its probe through after the cooldown when the wall clock stepped back an hour', () => {
      const breaker = new CircuitBreaker('p:m', options);
      for (let i = 0; i < 3; i++) breaker.onFailure();
      expect(breaker.current()).toBe('open');
      jest.setSystemTime(Date.now() - 3_600_000);
      // Retry-After is the cooldown, not the cooldown plus the hour the wall clock went back.
      expect(breaker.retryAfterMs()).toBeLessThanOrEqual(options.cooldownMs);
      jest.advanceTimersByTime(options.cooldownMs);
      expect(breaker.current()).toBe('half_open');
      expect(breaker.tryAcquire()).toBe(true);
    });

    it('an open circuit keeps its cooldown when the wall clock steps forward an hour', () => {
      const breaker = new CircuitBreaker('p:m', options);
      for (let i = 0; i < 3; i++) breaker.onFailure();
      jest.setSystemTime(Date.now() + 3_600_000);
      expect(breaker.current()).toBe('open');
      expect(breaker.retryAfterMs()).toBe(options.cooldownMs);
    });
  });

  it('does not open on the ratio below minRequests', () => {
    const breaker = new CircuitBreaker('p:m', { ...options, failureThreshold: 100 }, undefined, () => 0);
    breaker.onSuccess();
    breaker.onFailure();
    breaker.onFailure();
    expect(breaker.current()).toBe('closed');
  });
});

describe('ConcurrencyLimiter', () => {
  it('bounds concurrency, serves waiters in order and times out with NoCapacityError', async () => {
    const limiter = new ConcurrencyLimiter(1, 50);
    const release = await limiter.acquire();
    const order: number[] = [];
    const second = limiter.acquire().then((r) => {
      order.push(2);
      return r;
    });
    expect(limiter.inFlight).toBe(1);
    expect(limiter.queued).toBe(1);
    release();
    (await second)();
    expect(order).toEqual([2]);
    const held = await limiter.acquire();
    await expect(limiter.acquire()).rejects.toBeInstanceOf(NoCapacityError);
    held();
    expect(limiter.inFlight).toBe(0);
  });
});
