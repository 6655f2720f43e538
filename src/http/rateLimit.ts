/**
 * Per-subject rate limit (rate-limiter-flexible, in memory): each signed-in user (`iss|sub`) gets
 * `perMinute` requests per rolling minute on the MCP routes; beyond that, 429 with `Retry-After`.
 * The limiter is an interface so a shared store (Redis) can back it when several replicas run.
 *
 * @example
 * ```ts
 * const limit = createRateLimiter(600);
 * const r = await limit.consume(principal.key); // { ok: true } or { ok: false, retryAfterSeconds: 12 }
 * ```
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface RateLimiter {
  consume(key: string): Promise<RateDecision>;
}

/** `perMinute <= 0` disables the limit. */
export function createRateLimiter(perMinute: number): RateLimiter {
  if (perMinute <= 0) return { consume: async () => ({ ok: true }) };
  const limiter = new RateLimiterMemory({ points: perMinute, duration: 60 });
  return {
    async consume(key) {
      try {
        await limiter.consume(key);
        return { ok: true };
      } catch (err) {
        if (err instanceof RateLimiterRes) {
          return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
        }
        throw err;
      }
    },
  };
}
