/**
 * Which 2025-era sessions are still alive. A signed session id ({@link SessionIds}) proves a
 * replica issued it; the registry answers whether it was ended since — by `DELETE`, by staying
 * idle for `idleMs`, or by being pushed out of a full table — and extends its idle time on use.
 *
 * - {@link MemorySessionRegistry}: this process only. With several replicas and no Redis, each
 *   replica accepts any validly signed id, and `DELETE` or idle expiry only ends it where it
 *   happened.
 * - {@link RedisSessionRegistry}: one key per live session with the idle time as its TTL, so every
 *   replica sees the same answer.
 */
import type { Redis } from 'ioredis';
import { evictOldest } from '../web/maps.js';
import { sessionHash } from './sessionIds.js';

export interface SessionRegistry {
  /** Records a session that was just opened. */
  opened(id: string): Promise<void>;
  /** `false` when the session was ended; otherwise extends its idle time and answers `true`. */
  touch(id: string): Promise<boolean>;
  /** Ends a session for every replica that shares this registry. */
  end(id: string): Promise<void>;
  close(): void;
}

export interface RegistryOptions {
  idleMs: number;
  maxSessions: number;
  /** Ended ids older than a session's maximum age need not be remembered: their signature has expired. */
  maxAgeMs: number;
}

export class MemorySessionRegistry implements SessionRegistry {
  /** Live sessions by last use, least recently used first. */
  private readonly live = new Map<string, number>();
  /** Ended sessions by when they ended. */
  private readonly ended = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: RegistryOptions) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, options.idleMs)).unref();
  }

  async opened(id: string): Promise<void> {
    this.use(id);
  }

  async touch(id: string): Promise<boolean> {
    if (this.ended.has(id)) return false;
    this.use(id);
    return true;
  }

  async end(id: string): Promise<void> {
    this.live.delete(id);
    this.ended.set(id, Date.now());
    // Bounded: beyond this many the oldest are forgotten (and then expire with their signature).
    evictOldest(this.ended, this.options.maxSessions * 10);
  }

  private use(id: string): void {
    this.live.delete(id);
    this.live.set(id, Date.now());
    evictOldest(this.live, this.options.maxSessions, (oldest) => void this.end(oldest));
  }

  /** Ends idle sessions and forgets ended ids whose signature has expired anyway. */
  sweep(now = Date.now()): void {
    for (const [id, lastSeen] of this.live) {
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
    private readonly options: Pick<RegistryOptions, 'idleMs'>,
  ) {}

  /** Session ids are bearer-like: only a hash of them is stored. */
  private key(id: string): string {
    return `${this.prefix}session:${sessionHash(id)}`;
  }

  async opened(id: string): Promise<void> {
    await this.redis.set(this.key(id), '1', 'PX', this.options.idleMs);
  }

  async touch(id: string): Promise<boolean> {
    return (await this.redis.pexpire(this.key(id), this.options.idleMs)) === 1;
  }

  async end(id: string): Promise<void> {
    await this.redis.del(this.key(id));
  }

  close(): void {}
}
