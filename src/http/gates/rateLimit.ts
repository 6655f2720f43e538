/**
 * Per-subject rate limit (rate-limiter-flexible): each signed-in user (`iss|sub`) gets
 * `perMinute` requests per rolling minute on the MCP routes; beyond that, 429 with `Retry-After`.
 * In memory by default; on Redis when one is configured, so the limit holds across replicas (if
 * Redis is unreachable, each replica falls back to its own in-memory count rather than failing
 * requests).
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Principal } from '../../auth/principal.js';
import type { Metrics } from '../../observability/metrics.js';
import { sendRpcError } from '../../web/nodeIo.js';
import type { Exchange, Gate } from '../exchange.js';

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface RateLimiter {
  /** Takes `points` (default 1) from the key's budget for this minute. */
  consume(key: string, points?: number): Promise<RateDecision>;
}

/** `perMinute <= 0` disables the limit. */
export function createRateLimiter(perMinute: number, shared?: { redis: Redis; prefix: string }): RateLimiter {
  if (perMinute <= 0) return { consume: async () => ({ ok: true }) };
  const memory = new RateLimiterMemory({ points: perMinute, duration: 60 });
  const limiter = shared
    ? new RateLimiterRedis({
        storeClient: shared.redis,
        keyPrefix: `${shared.prefix}rate`,
        points: perMinute,
        duration: 60,
        insuranceLimiter: memory,
      })
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

/** The gate: one point per request for the signed-in user; beyond the limit 429 with `Retry-After`. */
export function rateLimitGate(limiter: RateLimiter, metrics: Pick<Metrics, 'rateLimited'>): Gate {
  return async (x) => refuseOver(x, await limiter.consume((x.principal as Principal).key), metrics);
}

/**
 * After the body is read: a JSON-RPC batch costs one point per message (the request paid one
 * already), so batching does not multiply a user's budget.
 */
export function batchChargeGate(limiter: RateLimiter, metrics: Pick<Metrics, 'rateLimited'>): Gate {
  return async (x) => {
    const json = x.body?.json;
    if (!Array.isArray(json) || json.length <= 1) return true;
    return refuseOver(x, await limiter.consume((x.principal as Principal).key, json.length - 1), metrics);
  };
}

function refuseOver(x: Exchange, rate: RateDecision, metrics: Pick<Metrics, 'rateLimited'>): boolean {
  if (rate.ok) return true;
  x.log.rateLimited = true;
  metrics.rateLimited.inc();
  sendRpcError(x.res, 429, -32000, `Too many requests: retry in ${rate.retryAfterSeconds} s`, {
    'retry-after': String(rate.retryAfterSeconds),
  });
  return false;
}
