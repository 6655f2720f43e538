/**
 * Legacy HTTP+SSE across replicas. A client holds `GET /sse` open on one replica but its
 * `POST /messages?sessionId=…` may land on any replica. The replica holding the stream registers
 * it (owner = the principal's `iss|sub`) and subscribes to its channel; a replica receiving a POST
 * for a stream it does not hold checks the owner and publishes the message (with the validated
 * principal — never the token) to that channel. The answer then goes out on the stream as usual.
 *
 * {@link LocalSseRelay} (no Redis) routes nothing: a POST must reach the replica holding the stream.
 */
import type { Redis } from 'ioredis';
import type { Principal } from '../auth/principal.js';

export type Deliver = (message: unknown, principal: Principal) => void;

export interface SseRelay {
  /** `false`: messages cannot reach other replicas (no shared bus). */
  readonly shared: boolean;
  /** Makes a stream held by this process reachable from other replicas. */
  register(sessionId: string, principalKey: string, deliver: Deliver): Promise<void>;
  unregister(sessionId: string): Promise<void>;
  /** Hands a message to the replica holding the stream; `false` if none holds it for this principal. */
  forward(sessionId: string, principal: Principal, message: unknown): Promise<boolean>;
  close(): Promise<void>;
}

export class LocalSseRelay implements SseRelay {
  readonly shared = false;
  async register(): Promise<void> {}
  async unregister(): Promise<void> {}
  async forward(): Promise<boolean> {
    return false;
  }
  async close(): Promise<void> {}
}

const OWNER_TTL_MS = 90_000;

export class RedisSseRelay implements SseRelay {
  readonly shared = true;
  private readonly subscriber: Redis;
  private readonly local = new Map<string, { principalKey: string; deliver: Deliver }>();
  private readonly refresher: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly onError: (err: Error) => void = () => {},
  ) {
    this.subscriber = redis.duplicate();
    this.subscriber.on('error', (err: Error) => this.onError(err));
    this.subscriber.on('message', (channel: string, raw: string) => this.receive(channel, raw));
    // Owner keys expire unless refreshed, so a replica that died leaves no stream behind for long.
    this.refresher = setInterval(() => void this.refresh(), OWNER_TTL_MS / 3).unref();
  }

  private ownerKey(sessionId: string): string {
    return `${this.prefix}sse:owner:${sessionId}`;
  }

  private channel(sessionId: string): string {
    return `${this.prefix}sse:msg:${sessionId}`;
  }

  private receive(channel: string, raw: string): void {
    const sessionId = channel.slice(this.channel('').length);
    const stream = this.local.get(sessionId);
    if (!stream) return;
    try {
      const { message, principal } = JSON.parse(raw) as { message: unknown; principal: Principal };
      if (principal?.key !== stream.principalKey) return; // checked by the sender too
      stream.deliver(message, principal);
    } catch (err) {
      this.onError(err as Error);
    }
  }

  private async refresh(): Promise<void> {
    if (this.local.size === 0) return;
    const pipeline = this.redis.pipeline();
    // SET, not PEXPIRE: after a Redis restart the owner keys are back within one period.
    for (const [id, { principalKey }] of this.local) {
      pipeline.set(this.ownerKey(id), principalKey, 'PX', OWNER_TTL_MS);
    }
    await pipeline.exec().catch((err: Error) => this.onError(err));
  }

  async register(sessionId: string, principalKey: string, deliver: Deliver): Promise<void> {
    this.local.set(sessionId, { principalKey, deliver });
    await this.subscriber.subscribe(this.channel(sessionId));
    await this.redis.set(this.ownerKey(sessionId), principalKey, 'PX', OWNER_TTL_MS);
  }

  async unregister(sessionId: string): Promise<void> {
    if (!this.local.delete(sessionId)) return;
    await Promise.all([
      this.subscriber.unsubscribe(this.channel(sessionId)),
      this.redis.del(this.ownerKey(sessionId)),
    ]);
  }

  async forward(sessionId: string, principal: Principal, message: unknown): Promise<boolean> {
    if (sessionId.length > 200) return false;
    const owner = await this.redis.get(this.ownerKey(sessionId));
    if (owner === null || owner !== principal.key) return false;
    const receivers = await this.redis.publish(
      this.channel(sessionId),
      JSON.stringify({ message, principal }),
    );
    return receivers > 0;
  }

  async close(): Promise<void> {
    clearInterval(this.refresher);
    await Promise.all([...this.local.keys()].map((id) => this.unregister(id).catch(() => {})));
    this.subscriber.disconnect();
  }
}
