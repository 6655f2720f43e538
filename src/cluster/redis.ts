/**
 * The Redis connection for state shared between replicas (`REDIS_URL`). Start-up waits for the
 * first connection and fails with a message naming `REDIS_URL` when there is none; afterwards
 * ioredis reconnects on its own and commands fail fast while it is down (callers answer 503).
 */
import { Redis } from 'ioredis';
import { ConfigError } from '../config/config.js';

/** The URL without its password, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.href;
  } catch {
    return 'redis://…';
  }
}

export async function connectRedis(url: string, opts: { connectTimeoutMs?: number } = {}): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: opts.connectTimeoutMs ?? 5000,
    // A command waits for at most one reconnection attempt, and never longer than a second:
    // a Redis that stops answering costs requests a bounded delay (then 503 or the fallback).
    maxRetriesPerRequest: 1,
    commandTimeout: 1000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  redis.on('error', () => {}); // reported through failed commands and /readyz
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new ConfigError(
      'REDIS_URL',
      `cannot reach Redis at ${redactRedisUrl(url)} (${(err as Error).message})`,
      'start Redis or correct the URL; unset REDIS_URL to keep shared state in memory (a single replica)',
    );
  }
  return redis;
}
