/**
 * What replicas must share, built once from the configuration: the key that signs session ids,
 * the session registry, the resumable-stream event store, the legacy SSE relay and the rate-limit
 * store. Without `REDIS_URL` everything lives in this process (one replica, or several that each
 * accept the others' session ids when they share `MCP_SESSION_SECRET`); with it, in Redis (and
 * `MCP_SESSION_SECRET` is required).
 *
 * @example
 * ```ts
 * const shared = await createSharedState(loadConfig(process.env), createLogger('info'));
 * const id = shared.sessionIds.issue('https://auth.example.com/realms/mcp|alice', '2025-11-25');
 * await shared.close();
 * ```
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { RedisEventStore } from './eventStore.js';
import { connectRedis, redactRedisUrl } from './redis.js';
import { SessionIds } from './sessionIds.js';
import { MemorySessionRegistry, RedisSessionRegistry, type SessionRegistry } from './sessionRegistry.js';
import { LocalSseRelay, RedisSseRelay, type SseRelay } from './sseRelay.js';

export interface SharedState {
  kind: 'memory' | 'redis';
  sessionIds: SessionIds;
  sessions: SessionRegistry;
  /** Only with Redis: events of SSE responses, for `Last-Event-ID` resumption on any replica. */
  events: RedisEventStore | undefined;
  sseRelay: SseRelay;
  redis: Redis | undefined;
  /** For `/readyz`. */
  check(): Promise<{ state: 'ready' | 'unavailable' | 'memory'; error?: string }>;
  close(): Promise<void>;
}

/** How long events of a response stream can be replayed. */
const EVENT_TTL_MS = 5 * 60_000;

export async function createSharedState(config: Config, logger: Logger): Promise<SharedState> {
  const registryOptions = {
    idleMs: config.sessionIdleSeconds * 1000,
    maxSessions: config.maxSessions,
    maxSessionsPerPrincipal: config.maxSessionsPerUser,
    maxAgeMs: config.sessionMaxAgeSeconds * 1000,
  };
  const onError = (err: Error) => logger.warn({ event: 'redis_error', err: err.message }, 'Redis error');
  if (!config.redisUrl) {
    if (!config.sessionSecret) {
      logger.info(
        { event: 'session_secret' },
        'MCP_SESSION_SECRET is not set: session ids are signed with a key of this process (sessions end on restart and are not valid on other replicas)',
      );
    }
    const sessions = new MemorySessionRegistry(registryOptions);
    return {
      kind: 'memory',
      sessionIds: new SessionIds(config.sessionSecret ?? randomBytes(48), registryOptions),
      sessions,
      events: undefined,
      sseRelay: new LocalSseRelay(),
      redis: undefined,
      check: async () => ({ state: 'memory' }),
      close: async () => sessions.close(),
    };
  }
  const redis = await connectRedis(config.redisUrl);
  redis.on('error', onError);
  const prefix = config.redisKeyPrefix;
  // Required with Redis (the configuration refuses otherwise): one key all replicas share.
  const secret = config.sessionSecret ?? randomBytes(48);
  const sseRelay = new RedisSseRelay(redis, prefix, onError);
  logger.info(
    { event: 'shared_state', redis: redactRedisUrl(config.redisUrl), prefix },
    'sessions, stream events, legacy SSE routing and rate limits are shared through Redis',
  );
  return {
    kind: 'redis',
    sessionIds: new SessionIds(secret, registryOptions),
    sessions: new RedisSessionRegistry(redis, prefix, registryOptions),
    events: new RedisEventStore(redis, prefix, { ttlMs: EVENT_TTL_MS }),
    sseRelay,
    redis,
    check: async () => {
      try {
        await redis.ping();
        return { state: 'ready' };
      } catch (err) {
        return { state: 'unavailable', error: (err as Error).message };
      }
    },
    close: async () => {
      await sseRelay.close();
      // QUIT lets commands already sent (stream unregistrations) finish first.
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
