import { TokenBucket } from './token-bucket';

describe('TokenBucket', () => {
  it('starts full, takes one token per use, and refuses when empty', () => {
    const bucket = new TokenBucket(3, 1 / 1000, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, true, false]);
    // Empty: a token is back 1 s later (1 token a second).
    expect(bucket.msUntilToken()).toBeCloseTo(1000, 6);
    expect(bucket.take(999)).toBe(false);
    expect(bucket.take(1000)).toBe(true);
    expect(bucket.lastUsedAt).toBe(1000);
  });

  it('refills continuously, never above its capacity, and ignores a clock that goes back', () => {
    const bucket = new TokenBucket(2, 1 / 500, 0);
    bucket.take(0);
    bucket.take(0);
    expect(bucket.take(250)).toBe(false); // half a token
    expect(bucket.msUntilToken()).toBeCloseTo(250, 6);
    expect(bucket.take(100)).toBe(false); // earlier than the last use: no refill, no loss
    expect(bucket.take(10_000)).toBe(true); // refilled to 2, not 20
    expect(bucket.take(10_000)).toBe(true);
    expect(bucket.take(10_000)).toBe(false);
  });
});
