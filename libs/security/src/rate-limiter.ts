import { Injectable } from '@nestjs/common';
import { TokenBucket } from '@app/common';

/** What the limiter decided for one request. */
export interface RateDecision {
  readonly allowed: boolean;
  /** Whole seconds until one token is back (the `Retry-After` of a 429); 0 when allowed. */
  readonly retryAfterSeconds: number;
}

/** Buckets held at most; the least recently used go first beyond it (a full bucket is the same as none). */
export const MAX_BUCKETS = 10_000;

/** A bucket untouched this long is full again, whatever its limit. */
const IDLE_MS = 60_000;

/**
 * Token buckets in memory, one per caller (an API key's name, or a client IP): `perMinute` tokens, refilled
 * continuously at `perMinute` per minute, one per request. Per replica: N replicas let N times the limit through.
 * Memory is bounded: a bucket idle for a minute is full again and is dropped, and at most MAX_BUCKETS are held
 * (least recently used dropped first).
 */
@Injectable()
export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly maxBuckets: number;

  constructor(maxBuckets?: number) {
    this.maxBuckets = maxBuckets ?? MAX_BUCKETS;
  }

  /** Takes one token from `key`'s bucket of `perMinute` (0: no limit). */
  take(key: string, perMinute: number, now: number = Date.now()): RateDecision {
    if (perMinute <= 0) return { allowed: true, retryAfterSeconds: 0 };
    const held = this.buckets.get(key);
    // A limit changed since the bucket was made starts a full bucket of the new size.
    const bucket = held?.capacity === perMinute ? held : new TokenBucket(perMinute, perMinute / 60_000, now);
    // Re-inserted so the map's order is least recently used first.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    const allowed = bucket.take(now);
    this.evict(now);
    if (allowed) return { allowed: true, retryAfterSeconds: 0 };
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(bucket.msUntilToken() / 1000)) };
  }

  /** How many buckets are held (tests, bounded memory). */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * The map is in least-recently-used order: buckets untouched for a minute (full again, so the same as none) are
   * dropped from the front, then the least recently used ones while more than `maxBuckets` are held.
   */
  private evict(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.lastUsedAt < IDLE_MS && this.buckets.size <= this.maxBuckets) break;
      this.buckets.delete(key);
    }
  }
}
