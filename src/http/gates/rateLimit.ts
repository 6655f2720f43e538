/**
 * Per-subject rate limit (rate-limiter-flexible): each signed-in user (`iss|sub`) gets
 * `perMinute` requests per rolling minute on the MCP routes; beyond that, 429 with `Retry-After`.
 * In memory by default; on Redis when one is configured, so the limit holds across replicas (if
 * Redis is unreachable, each replica falls back to its own in-memory count rather than failing
 * requests).
 */
import type { Redis } from 'ioredis';
import type { Principal } from '../../auth/principal.js';
import type { Metrics } from '../../observability/metrics.js';
import { sendRpcError } from '../../web/nodeIo.js';
import { createWindowLimiter, type RateDecision, type RateLimiter } from '../../web/rateLimiter.js';
import type { Exchange, Gate } from '../exchange.js';

export type { RateDecision, RateLimiter } from '../../web/rateLimiter.js';

/** `perMinute` requests per user per minute; `perMinute <= 0` disables the limit. */
export function createRateLimiter(perMinute: number, shared?: { redis: Redis; prefix: string }): RateLimiter {
  return createWindowLimiter(
    { points: perMinute, durationSeconds: 60, keyPrefix: shared ? `${shared.prefix}rate` : 'rate' },
    shared?.redis,
  );
}

/** The gate: one point per request for the signed-in user; beyond the limit 429 with `Retry-After`. */
/**
 * How long a request over the limit waits for its 429: a client that keeps N requests going is
 * slowed to N a second instead of taking the CPU with as many cheap refusals as can be written.
 */
const REFUSAL_DELAY_MS = 1000;

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

async function refuseOver(
  x: Exchange,
  rate: RateDecision,
  metrics: Pick<Metrics, 'rateLimited'>,
): Promise<boolean> {
  if (rate.ok) return true;
  x.log.rateLimited = true;
  metrics.rateLimited.inc();
  await new Promise((resolve) => setTimeout(resolve, REFUSAL_DELAY_MS).unref());
  if (x.res.destroyed) return false;
  sendRpcError(x.res, 429, -32000, `Too many requests: retry in ${rate.retryAfterSeconds} s`, {
    'retry-after': String(rate.retryAfterSeconds),
  });
  return false;
}
