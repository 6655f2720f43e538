/**
 * Fixed-window budgets per key (rate-limiter-flexible): `points` per `durationSeconds` for each
 * key. In memory by default; on Redis when a client is given, so the budget holds across
 * processes (if Redis is unreachable, each process falls back to its own in-memory count rather
 * than failing requests).
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface RateLimiter {
  /** Takes `points` (default 1) from the key's budget for this window. */
  consume(key: string, points?: number): Promise<RateDecision>;
}

export interface WindowOptions {
  /** Budget per key and window; `<= 0` disables the limit. */
  points: number;
  durationSeconds: number;
  /** Names this budget's keys (in Redis: the full key prefix). */
  keyPrefix: string;
}

export function createWindowLimiter(options: WindowOptions, redis?: Redis): RateLimiter {
  if (options.points <= 0) return { consume: async () => ({ ok: true }) };
  const window = { points: options.points, duration: options.durationSeconds, keyPrefix: options.keyPrefix };
  const memory = new RateLimiterMemory(window);
  const limiter = redis
    ? new RateLimiterRedis({ ...window, storeClient: redis, insuranceLimiter: memory })
    : memory;
  return {
    async consume(key, points = 1) {
      try {
        await limiter.consume(key, points);
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

/**
 * A budget per key and one shared by all keys: a key's request is charged to its own budget first
 * (a key over its budget does not use up everyone's), then to the shared one.
 */
export function perKeyAndGlobal(perKey: RateLimiter, global: RateLimiter): RateLimiter {
  return {
    async consume(key, points = 1) {
      const own = await perKey.consume(key, points);
      return own.ok ? global.consume('all', points) : own;
    },
  };
}
