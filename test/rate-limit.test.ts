// The per-principal token bucket, on a controlled clock.
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/server/rate-limit.js';

describe('RateLimiter', () => {
  it('allows a burst of perMinute calls, then says when the next one is free', () => {
    let now = 0;
    const limiter = new RateLimiter({ perMinute: 3, now: () => now });
    expect([1, 2, 3].map(() => limiter.take('alice').allowed)).toEqual([true, true, true]);
    expect(limiter.take('alice')).toEqual({ allowed: false, retryAfterMs: 20_000 });
    now += 19_999;
    expect(limiter.take('alice').allowed).toBe(false);
    now += 1;
    expect(limiter.take('alice').allowed).toBe(true);
    expect(limiter.take('alice').allowed).toBe(false);
  });

  it('keeps each principal in its own bucket', () => {
    const limiter = new RateLimiter({ perMinute: 1, now: () => 0 });
    expect(limiter.take('alice').allowed).toBe(true);
    expect(limiter.take('alice').allowed).toBe(false);
    expect(limiter.take('bob').allowed).toBe(true);
  });

  it('refills to at most a full bucket after idling', () => {
    let now = 0;
    const limiter = new RateLimiter({ perMinute: 2, now: () => now });
    limiter.take('alice');
    now += 3_600_000;
    expect([1, 2, 3].map(() => limiter.take('alice').allowed)).toEqual([true, true, false]);
  });
});
