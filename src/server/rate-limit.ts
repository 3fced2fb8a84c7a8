// A token bucket per principal for mutating tool calls, so a looping agent cannot hammer a merchant.
// In-process only: each server process keeps its own buckets (processes sharing a store do not pool them).

export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

export interface RateLimiterOptions {
  /** Calls allowed per minute; also the burst size. */
  perMinute: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

const MINUTE = 60_000;
/** Idle buckets are full again after a minute; dropping them bounds memory by the active principals. */
const PRUNE_EVERY = 1_000;

export class RateLimiter {
  readonly perMinute: number;
  private readonly now: () => number;
  private readonly buckets = new Map<string, Bucket>();
  private takes = 0;

  constructor(options: RateLimiterOptions) {
    if (!(options.perMinute > 0)) throw new RangeError('perMinute must be positive');
    this.perMinute = options.perMinute;
    this.now = options.now ?? Date.now;
  }

  /** Takes one call from `principal`'s bucket, or says how long until one is free. */
  take(principal: string): RateDecision {
    const now = this.now();
    if (++this.takes % PRUNE_EVERY === 0) this.prune(now);
    const perMs = this.perMinute / MINUTE;
    const bucket = this.buckets.get(principal) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + Math.max(0, now - bucket.at) * perMs);
    bucket.at = now;
    this.buckets.set(principal, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterMs: Math.ceil((1 - bucket.tokens) / perMs) };
  }

  private prune(now: number): void {
    for (const [principal, bucket] of this.buckets) {
      if (now - bucket.at >= MINUTE) this.buckets.delete(principal);
    }
  }
}
