/** The limiter's verdict: allowed, or how long to wait before the next request may pass. */
export type RateVerdict = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

/** A rate limiter keyed by caller. */
export interface RateLimiter {
  take(key: string): RateVerdict;
}

/**
 * A token bucket per key: `perMinute` requests in a burst, refilled continuously at
 * `perMinute` a minute. The keys are the configured tokens' names, so the map stays as
 * small as `MERCHANT_TOKEN`.
 * @example
 * const limiter = createRateLimiter(600);
 * limiter.take('token#1') // { allowed: true }
 */
export function createRateLimiter(perMinute: number, clock: () => number = Date.now): RateLimiter {
  const perMs = perMinute / 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key) {
      const now = clock();
      const bucket = buckets.get(key) ?? { tokens: perMinute, at: now };
      bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.at) * perMs);
      bucket.at = now;
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true };
      }
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1_000)) };
    },
  };
}
