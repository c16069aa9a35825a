import { RateLimiter } from './rate-limiter';

describe('RateLimiter (token buckets per caller)', () => {
  it('lets a full minute of requests through at once, then refuses with the seconds until the next token', () => {
    const limiter = new RateLimiter();
    const t0 = 1_000_000;
    for (let i = 0; i < 60; i += 1) expect(limiter.take('key:a', 60, t0).allowed).toBe(true);
    const refused = limiter.take('key:a', 60, t0);
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: 1 });
    // One token per second comes back at 60/min.
    expect(limiter.take('key:a', 60, t0 + 1000).allowed).toBe(true);
    expect(limiter.take('key:a', 60, t0 + 1000).allowed).toBe(false);
  });

  it('says how long to wait at a low rate (Retry-After), and keeps callers apart', () => {
    const limiter = new RateLimiter();
    expect(limiter.take('ip:1', 2, 0).allowed).toBe(true);
    expect(limiter.take('ip:1', 2, 0).allowed).toBe(true);
    expect(limiter.take('ip:1', 2, 0)).toEqual({ allowed: false, retryAfterSeconds: 30 });
    expect(limiter.take('ip:1', 2, 15_000)).toEqual({ allowed: false, retryAfterSeconds: 15 });
    expect(limiter.take('ip:2', 2, 0).allowed).toBe(true);
  });

  it('does not limit at 0 and holds no bucket for it', () => {
    const limiter = new RateLimiter();
    for (let i = 0; i < 1000; i += 1) expect(limiter.take('ip:x', 0, 0).allowed).toBe(true);
    expect(limiter.size).toBe(0);
  });

  it('bounds its memory: idle buckets are dropped after a minute, and at most maxBuckets are held', () => {
    const limiter = new RateLimiter(100);
    for (let i = 0; i < 1000; i += 1) limiter.take(`ip:${i}`, 10, 0);
    expect(limiter.size).toBeLessThanOrEqual(100);
    limiter.take('ip:late', 10, 61_000);
    expect(limiter.size).toBe(1);
  });

  it('a refused caller evicted for room starts again with a full bucket (documented trade-off), others are kept', () => {
    const limiter = new RateLimiter(2);
    limiter.take('a', 1, 0);
    expect(limiter.take('a', 1, 0).allowed).toBe(false);
    limiter.take('b', 1, 1);
    limiter.take('c', 1, 2);
    expect(limiter.size).toBe(2);
    expect(limiter.take('a', 1, 3).allowed).toBe(true);
  });
});
