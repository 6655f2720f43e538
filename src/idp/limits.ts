/**
 * Request budgets of the embedded authorization server, per client address and for everyone
 * together: login attempts, dynamic registrations, authorization requests. On Redis when
 * `REDIS_URL` is set (the resource server's Redis and key prefix), so they hold across processes.
 */
import type { Redis } from 'ioredis';
import { createWindowLimiter, perKeyAndGlobal, type RateLimiter } from '../web/rateLimiter.js';
import type { IdpConfig } from './config.js';

export interface IdpLimits {
  login: RateLimiter;
  registration: RateLimiter;
  authorization: RateLimiter;
}

export function createIdpLimits(
  config: Pick<IdpConfig, 'limits' | 'redisKeyPrefix'>,
  redis?: Redis,
): IdpLimits {
  const budget = (name: string, perIp: number, all: number) =>
    perKeyAndGlobal(
      createWindowLimiter(
        { points: perIp, durationSeconds: 60, keyPrefix: `${config.redisKeyPrefix}idp-${name}-ip` },
        redis,
      ),
      createWindowLimiter(
        { points: all, durationSeconds: 60, keyPrefix: `${config.redisKeyPrefix}idp-${name}-all` },
        redis,
      ),
    );
  const l = config.limits;
  return {
    login: budget('login', l.loginsPerIp, l.logins),
    registration: budget('reg', l.registrationsPerIp, l.registrations),
    authorization: budget('auth', l.authorizationsPerIp, l.authorizations),
  };
}
