/**
 * Resumable Streamable HTTP streams across replicas: the SDK's `EventStore` on Redis streams.
 * Every SSE event the server sends on a 2025-era session stream is appended to
 * `<prefix>events:<streamId>` (capped, expiring after `ttlMs`); a client that lost its stream
 * reconnects with `Last-Event-ID` — to any replica — and gets the events it missed.
 *
 * Event ids are `<streamId>.<redis entry id>`, so the stream is found from the id alone. Each
 * session gets its own key space ({@link RedisEventStore.forSession}, keyed by a hash of the
 * session id): an event id from another session — or the SDK's fixed id of the standalone GET
 * stream, which every session shares — never reaches this session's events.
 */
import type { EventStore, JSONRPCMessage } from '@modelcontextprotocol/server';
import type { Redis } from 'ioredis';
import { sessionHash } from './sessionIds.js';

const STREAM_ID = /^[A-Za-z0-9_-]{1,100}$/;
const ENTRY_ID = /^\d{1,20}-\d{1,20}$/;

export class RedisEventStore implements EventStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly options: { ttlMs: number; maxEventsPerStream?: number },
  ) {}

  /** The store of one session's streams. */
  forSession(sessionId: string): RedisEventStore {
    return new RedisEventStore(this.redis, `${this.prefix}session:${sessionHash(sessionId)}:`, this.options);
  }

  private key(streamId: string): string {
    return `${this.prefix}events:${streamId}`;
  }

  private parse(eventId: string): { streamId: string; entryId: string } | undefined {
    const dot = eventId.lastIndexOf('.');
    const streamId = eventId.slice(0, dot);
    const entryId = eventId.slice(dot + 1);
    return dot > 0 && STREAM_ID.test(streamId) && ENTRY_ID.test(entryId) ? { streamId, entryId } : undefined;
  }

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    if (!STREAM_ID.test(streamId)) throw new Error('Invalid stream id');
    const key = this.key(streamId);
    const max = String(this.options.maxEventsPerStream ?? 1000);
    const results = await this.redis
      .multi()
      .xadd(key, 'MAXLEN', '~', max, '*', 'm', JSON.stringify(message))
      .pexpire(key, this.options.ttlMs)
      .exec();
    const [err, entryId] = results?.[0] ?? [new Error('Redis transaction was discarded')];
    if (err) throw err;
    return `${streamId}.${String(entryId)}`;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.parse(eventId)?.streamId;
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const parsed = this.parse(lastEventId);
    if (!parsed) throw new Error('Invalid event id');
    const entries = await this.redis.xrange(this.key(parsed.streamId), `(${parsed.entryId}`, '+');
    for (const [entryId, fields] of entries) {
      const i = fields.indexOf('m');
      const raw = i >= 0 ? fields[i + 1] : undefined;
      if (raw === undefined) continue;
      const message = JSON.parse(raw) as JSONRPCMessage;
      // The priming event is stored as `{}`: it carries no message to replay.
      if (Object.keys(message).length === 0) continue;
      await send(`${parsed.streamId}.${entryId}`, message);
    }
    return parsed.streamId;
  }
}
