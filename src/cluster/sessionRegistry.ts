/**
 * Which 2025-era sessions are still alive. A signed session id ({@link SessionIds}) proves a
 * replica issued it; the registry answers whether it was ended since — by `DELETE`, by staying
 * idle for `idleMs`, or by being pushed out of a full table — and extends its idle time on use.
 * Each principal (`iss|sub`) holds at most `maxSessionsPerPrincipal`: a new one beyond that ends
 * that principal's least recently used session, never another user's.
 *
 * - {@link MemorySessionRegistry}: this process only. With several replicas and no Redis, each
 *   replica accepts any validly signed id, and `DELETE` or idle expiry only ends it where it
 *   happened.
 * - {@link RedisSessionRegistry}: one key per live session with the idle time as its TTL, so every
 *   replica sees the same answer, and per principal a sorted set of its sessions by last use.
 */
import type { Redis } from 'ioredis';
import { evictOldest } from '../web/maps.js';
import { principalHash, sessionHash } from './sessionIds.js';

export interface SessionRegistry {
  /** Records a session that `owner` (the principal key) just opened. */
  opened(id: string, owner: string): Promise<void>;
  /** `false` when the session was ended; otherwise extends its idle time and answers `true`. */
  touch(id: string, owner: string): Promise<boolean>;
  /** Ends a session for every replica that shares this registry. */
  end(id: string): Promise<void>;
  close(): void;
}

export interface RegistryOptions {
  idleMs: number;
  maxSessions: number;
  /** Sessions one principal may hold; opening another ends that principal's least recently used. */
  maxSessionsPerPrincipal: number;
  /** Ended ids older than a session's maximum age need not be remembered: their signature has expired. */
  maxAgeMs: number;
}

export class MemorySessionRegistry implements SessionRegistry {
  /** Live sessions by last use, least recently used first. */
  private readonly live = new Map<string, { lastSeen: number; owner: string }>();
  /** Each principal's live sessions, least recently used first. */
  private readonly byOwner = new Map<string, Set<string>>();
  /** Ended sessions by when they ended. */
  private readonly ended = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: RegistryOptions) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, options.idleMs)).unref();
  }

  async opened(id: string, owner: string): Promise<void> {
    this.use(id, owner);
  }

  async touch(id: string, owner: string): Promise<boolean> {
    if (this.ended.has(id)) return false;
    this.use(id, owner);
    return true;
  }

  async end(id: string): Promise<void> {
    const owner = this.live.get(id)?.owner;
    this.live.delete(id);
    if (owner !== undefined) {
      const own = this.byOwner.get(owner);
      own?.delete(id);
      if (own?.size === 0) this.byOwner.delete(owner);
    }
    this.ended.set(id, Date.now());
    // Bounded: beyond this many the oldest are forgotten (and then expire with their signature).
    evictOldest(this.ended, this.options.maxSessions * 10);
  }

  private use(id: string, owner: string): void {
    this.live.delete(id);
    this.live.set(id, { lastSeen: Date.now(), owner });
    const own = this.byOwner.get(owner) ?? new Set<string>();
    own.delete(id);
    own.add(id);
    this.byOwner.set(owner, own);
    // The principal's own oldest first, so one user cannot push out everyone else's sessions.
    while (own.size > this.options.maxSessionsPerPrincipal) {
      const oldest = own.values().next().value as string;
      void this.end(oldest);
    }
    evictOldest(this.live, this.options.maxSessions, (oldest) => void this.end(oldest));
  }

  /** Ends idle sessions and forgets ended ids whose signature has expired anyway. */
  sweep(now = Date.now()): void {
    for (const [id, { lastSeen }] of this.live) {
      if (lastSeen >= now - this.options.idleMs) break; // LRU order: the rest were used later
      void this.end(id);
    }
    for (const [id, endedAt] of this.ended) {
      if (endedAt >= now - this.options.maxAgeMs) break;
      this.ended.delete(id);
    }
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}

export class RedisSessionRegistry implements SessionRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly options: Pick<RegistryOptions, 'idleMs' | 'maxSessionsPerPrincipal'>,
  ) {}

  /** Session ids are bearer-like: only a hash of them is stored. */
  private key(id: string): string {
    return this.keyOfHash(sessionHash(id));
  }

  private keyOfHash(hash: string): string {
    return `${this.prefix}session:${hash}`;
  }

  /** The principal's sessions (hashes), scored by last use. */
  private ownerKey(owner: string): string {
    return `${this.prefix}sessions-of:${principalHash(owner)}`;
  }

  async opened(id: string, owner: string): Promise<void> {
    const now = Date.now();
    const own = this.ownerKey(owner);
    const results = await this.redis
      .multi()
      .set(this.key(id), '1', 'PX', this.options.idleMs)
      .zadd(own, now, sessionHash(id))
      .zremrangebyscore(own, '-inf', now - this.options.idleMs)
      .pexpire(own, this.options.idleMs)
      .zcard(own)
      .exec();
    const count = Number(results?.[4]?.[1] ?? 0);
    const excess = count - this.options.maxSessionsPerPrincipal;
    if (excess <= 0) return;
    // The principal's least recently used sessions end; nobody else's.
    const popped = (await this.redis.zpopmin(own, excess)).filter((_, i) => i % 2 === 0);
    if (popped.length) await this.redis.del(...popped.map((h) => this.keyOfHash(h)));
  }

  async touch(id: string, owner: string): Promise<boolean> {
    const alive = (await this.redis.pexpire(this.key(id), this.options.idleMs)) === 1;
    if (alive) {
      const own = this.ownerKey(owner);
      await this.redis
        .multi()
        .zadd(own, Date.now(), sessionHash(id))
        .pexpire(own, this.options.idleMs)
        .exec();
    }
    return alive;
  }

  async end(id: string): Promise<void> {
    await this.redis.del(this.key(id));
  }

  close(): void {}
}
