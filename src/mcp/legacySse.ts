/**
 * The deprecated HTTP+SSE transport (protocol 2024-11-05): `GET /sse` opens an event stream that
 * first names the POST endpoint (`/messages?sessionId=…`); answers to those POSTs arrive on the
 * stream. Kept for clients that still fall back to it. Same authentication as `/mcp`, and a
 * stream belongs to the principal that opened it. A POST that reaches a replica which does not
 * hold the stream is handed to the one that does through the {@link SseRelay} (Redis).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AuthInfo, type McpServer, parseJSONRPCMessage } from '@modelcontextprotocol/server';
import { SSEServerTransport } from '@modelcontextprotocol/server-legacy/sse';
import type { Principal } from '../auth/principal.js';
import type { SseRelay } from '../cluster/sseRelay.js';
import { sendRpcError } from '../web/nodeIo.js';

interface SseEntry {
  transport: SSEServerTransport;
  server: McpServer;
  principalKey: string;
}

export class LegacySseEndpoint {
  private readonly streams = new Map<string, SseEntry>();

  constructor(
    private readonly factory: () => McpServer,
    private readonly options: {
      keepAliveMs: number;
      /** Streams one principal may hold; opening another closes their oldest. */
      maxStreamsPerPrincipal: number;
      /** A stream is closed after this long; the client opens a new one. */
      maxLifetimeMs: number;
      relay: SseRelay;
      /** The SDK's view of a principal whose message was relayed from another replica. */
      authInfoFor: (p: Principal) => AuthInfo;
      onCountChange?: (n: number) => void;
      /** A stream closed, `seconds` after it was opened (the legacy transport's session). */
      onSessionEnd?: (seconds: number) => void;
      onError?: (err: Error) => void;
    },
  ) {}

  /** Opens the event stream; resolves once the `endpoint` event was sent. */
  async open(res: ServerResponse, principal: Principal): Promise<string> {
    // One user cannot pile up streams (file descriptors, memory): their oldest goes first.
    const own = [...this.streams.values()].filter((e) => e.principalKey === principal.key);
    const excess = own.length - this.options.maxStreamsPerPrincipal + 1;
    for (const oldest of own.slice(0, Math.max(0, excess))) void oldest.transport.close().catch(() => {});
    const transport = new SSEServerTransport('/messages', res);
    const server = this.factory();
    const id = transport.sessionId;
    const opened = performance.now();
    this.streams.set(id, { transport, server, principalKey: principal.key });
    this.options.onCountChange?.(this.streams.size);
    const ping = setInterval(() => {
      if (!res.writableEnded) res.write(': keep-alive\n\n');
    }, this.options.keepAliveMs).unref();
    // No stream lives for ever (it was authorized once, by a token that expires long before).
    const lifetime = setTimeout(
      () => void transport.close().catch(() => {}),
      this.options.maxLifetimeMs,
    ).unref();
    const cleanup = () => {
      clearInterval(ping);
      clearTimeout(lifetime);
      if (this.streams.delete(id)) {
        this.options.onCountChange?.(this.streams.size);
        this.options.onSessionEnd?.((performance.now() - opened) / 1000);
      }
      this.options.relay.unregister(id).catch((err: Error) => this.options.onError?.(err));
    };
    transport.onclose = cleanup;
    res.on('close', () => {
      cleanup();
      void server.close().catch(() => {});
    });
    transport.onerror = (err) => this.options.onError?.(err);
    // Reachable from other replicas before the client learns the POST URL (the `endpoint` event
    // that connect() sends), so its first POST can land anywhere.
    await this.options.relay.register(id, principal.key, (message, p) => {
      if (p.key !== principal.key) return;
      transport.handleMessage(message, { authInfo: this.options.authInfoFor(p) }).catch(() => {
        // invalid messages were refused by the replica that received them; reported via onerror
      });
    });
    // The client may have gone while this was being set up: cleanup then ran before registration.
    if (res.destroyed) {
      cleanup();
      return id;
    }
    await server.connect(transport);
    res.flushHeaders();
    return id;
  }

  /**
   * Delivers one POSTed JSON-RPC message, here or through the relay to the replica holding the
   * stream; `false` (the caller answers 404) for unknown streams and other users' streams.
   */
  async post(
    req: IncomingMessage,
    res: ServerResponse,
    sessionId: string | null,
    parsedBody: unknown,
    principal: Principal,
    authInfo: AuthInfo,
  ): Promise<boolean> {
    if (!sessionId) return false;
    const entry = this.streams.get(sessionId);
    if (entry) {
      if (entry.principalKey !== principal.key) return false;
      (req as IncomingMessage & { auth?: AuthInfo }).auth = authInfo;
      await entry.transport.handlePostMessage(req, res, parsedBody);
      return true;
    }
    if (!this.options.relay.shared) return false;
    let message: unknown;
    try {
      message = parseJSONRPCMessage(parsedBody);
    } catch {
      sendRpcError(res, 400, -32600, 'Invalid JSON-RPC message');
      return true;
    }
    let delivered: boolean;
    try {
      delivered = await this.options.relay.forward(sessionId, principal, message);
    } catch (err) {
      this.options.onError?.(err as Error);
      sendRpcError(res, 503, -32000, 'Relay unavailable: retry shortly', { 'retry-after': '2' });
      return true;
    }
    if (!delivered) return false;
    res.writeHead(202).end('Accepted');
    return true;
  }

  async close(): Promise<void> {
    await Promise.all([...this.streams.values()].map((e) => e.server.close().catch(() => {})));
    this.streams.clear();
  }
}
