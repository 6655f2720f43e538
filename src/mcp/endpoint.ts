/**
 * One Streamable HTTP endpoint that serves every protocol era from one server definition:
 *
 * - 2026-07-28 (stateless, `server/discover`, per-request `_meta` envelope) → the SDK's
 *   `createMcpHandler` in strict modern mode;
 * - 2025-era `initialize` → a new session whose id is signed ({@link SessionIds}) and bound to the
 *   principal that opened it; later requests with that id must come from the same `iss|sub`, else
 *   404 like an unknown id;
 * - 2025-era requests without a session id (clients that re-initialize on every call, such as
 *   ChatGPT) → the SDK's stateless fallback.
 *
 * No sticky routing: a replica that receives a validly signed session id it has not seen (the
 * session was opened on another replica, or before a restart) adopts it — it builds the session's
 * server and transport and initializes them with the protocol version the id carries — and serves
 * the request. Whether a session was ended (DELETE, idle, table full) is the
 * {@link SessionRegistry}'s answer, shared through Redis when configured.
 *
 * @example
 * ```ts
 * const endpoint = new McpEndpoint(factory, { sessionIds, registry, idleMs: 30 * 60_000, maxSessions: 10_000, … });
 * const response = await endpoint.handle(request, parsedBody, principal, authInfo);
 * ```
 */
import {
  type AuthInfo,
  createMcpHandler,
  type EventStore,
  isInitializeRequest,
  isLegacyRequest,
  type LegacyHttpHandler,
  legacyStatelessFallback,
  type McpHttpHandler,
  type McpServer,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { Principal } from '../auth/principal.js';
import type { SessionIds } from '../cluster/sessionIds.js';
import type { SessionRegistry } from '../cluster/sessionRegistry.js';

export interface EndpointOptions {
  sessionIds: SessionIds;
  registry: SessionRegistry;
  /** Resumable SSE responses (`Last-Event-ID`), when a shared event store is configured. */
  eventStore?: EventStore;
  /** A session's server and transport are dropped from this replica's memory after this long unused. */
  idleMs: number;
  maxSessions: number;
  /** `false`: answer `initialize` without a session (every request stateless). */
  sessions: boolean;
  /** `true`: 2025-era session POSTs are answered with JSON bodies rather than SSE streams. */
  jsonResponses: boolean;
  maxRequestBodySize: number;
  onSessionCountChange?: (count: number) => void;
  onError?: (err: Error) => void;
}

interface SessionEntry {
  transport: WebStandardStreamableHTTPServerTransport;
  server: McpServer;
  lastSeen: number;
}

const NOT_FOUND = 'Session not found: start a new session with initialize';

/** JSON-RPC error response with an HTTP status. */
export function rpcError(status: number, code: number, message: string, headers: HeadersInit = {}): Response {
  return Response.json({ jsonrpc: '2.0', error: { code, message }, id: null }, { status, headers });
}

export class McpEndpoint {
  private readonly modern: McpHttpHandler;
  private readonly stateless: LegacyHttpHandler;
  /** Sessions this replica holds a server for, least recently used first. */
  private readonly sessions = new Map<string, SessionEntry>();
  private readonly adopting = new Map<string, Promise<SessionEntry>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly factory: () => McpServer,
    private readonly o: EndpointOptions,
  ) {
    const onerror = (err: Error) => o.onError?.(err);
    this.modern = createMcpHandler(factory, {
      legacy: 'reject',
      maxRequestBodySize: o.maxRequestBodySize,
      onerror,
    });
    this.stateless = legacyStatelessFallback(factory, onerror, { maxRequestBodySize: o.maxRequestBodySize });
    this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, o.idleMs)).unref();
  }

  /** Sessions held in this replica's memory. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  async handle(
    request: Request,
    parsedBody: unknown,
    principal: Principal,
    authInfo: AuthInfo,
  ): Promise<Response> {
    const opts = { authInfo, parsedBody };
    if (!(await isLegacyRequest(request, parsedBody, { maxRequestBodySize: this.o.maxRequestBodySize }))) {
      return this.modern.fetch(request, opts);
    }
    const sid = request.headers.get('mcp-session-id');
    if (sid) return this.continueSession(sid, request, principal, opts);
    if (request.method === 'POST' && this.o.sessions && isInitializeRequest(parsedBody)) {
      return this.openSession(request, principal, parsedBody.params.protocolVersion, opts);
    }
    return this.stateless(request, opts);
  }

  private async continueSession(
    sid: string,
    request: Request,
    principal: Principal,
    opts: { authInfo: AuthInfo; parsedBody: unknown },
  ): Promise<Response> {
    // Forged, expired and other users' ids answer exactly like a session that does not exist.
    const claims = this.o.sessionIds.verify(sid, principal.key);
    if (!claims) return rpcError(404, -32001, NOT_FOUND);
    let alive: boolean;
    try {
      alive = await this.o.registry.touch(sid);
    } catch (err) {
      this.o.onError?.(err as Error);
      return rpcError(503, -32000, 'Session store unavailable: retry shortly', { 'retry-after': '2' });
    }
    if (!alive) {
      await this.closeSession(sid);
      return rpcError(404, -32001, NOT_FOUND);
    }
    if (request.method === 'DELETE') {
      try {
        await this.o.registry.end(sid);
      } catch (err) {
        this.o.onError?.(err as Error);
        return rpcError(503, -32000, 'Session store unavailable: retry shortly', { 'retry-after': '2' });
      }
      const entry = this.sessions.get(sid);
      if (!entry) return new Response(null, { status: 200 });
      return entry.transport.handleRequest(request, opts);
    }
    let entry = this.sessions.get(sid);
    if (entry) {
      // Keep the map in LRU order (Map iterates in insertion order).
      this.sessions.delete(sid);
      this.sessions.set(sid, entry);
    } else {
      try {
        entry = await this.adopt(sid, claims.protocolVersion);
      } catch (err) {
        this.o.onError?.(err as Error);
        return rpcError(500, -32603, 'Internal error: could not resume the session');
      }
    }
    entry.lastSeen = Date.now();
    return entry.transport.handleRequest(request, opts);
  }

  private newTransport(sid: string): WebStandardStreamableHTTPServerTransport {
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => sid,
      enableJsonResponse: this.o.jsonResponses,
      maxRequestBodySize: this.o.maxRequestBodySize,
      ...(this.o.eventStore && { eventStore: this.o.eventStore }),
      onsessionclosed: (id) => {
        this.forget(id);
      },
    });
    transport.onerror = (err) => this.o.onError?.(err);
    return transport;
  }

  private hold(sid: string, entry: SessionEntry): void {
    while (this.sessions.size >= this.o.maxSessions) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      void this.closeSession(oldest);
    }
    this.sessions.set(sid, entry);
    this.o.onSessionCountChange?.(this.sessions.size);
  }

  private async openSession(
    request: Request,
    principal: Principal,
    protocolVersion: string,
    opts: { authInfo: AuthInfo; parsedBody: unknown },
  ): Promise<Response> {
    const sid = this.o.sessionIds.issue(principal.key, protocolVersion);
    try {
      await this.o.registry.opened(sid);
    } catch (err) {
      this.o.onError?.(err as Error);
      return rpcError(503, -32000, 'Session store unavailable: retry shortly', { 'retry-after': '2' });
    }
    const server = this.factory();
    const transport = this.newTransport(sid);
    await server.connect(transport);
    const response = await transport.handleRequest(request, opts);
    if (response.ok) this.hold(sid, { transport, server, lastSeen: Date.now() });
    else await server.close().catch(() => {});
    return response;
  }

  /**
   * Builds this replica's server and transport for a session opened elsewhere: an internal
   * `initialize` with the session's protocol version, then `notifications/initialized`, exactly as
   * the client sent them to the replica that opened it. Concurrent requests share one adoption.
   */
  private adopt(sid: string, protocolVersion: string): Promise<SessionEntry> {
    const pending = this.adopting.get(sid);
    if (pending) return pending;
    const adoption = (async () => {
      const server = this.factory();
      const transport = this.newTransport(sid);
      await server.connect(transport);
      const post = (body: unknown, headers: Record<string, string> = {}) =>
        transport.handleRequest(
          new Request('http://sample-mcp.internal/mcp', {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              accept: 'application/json, text/event-stream',
              ...headers,
            },
            body: JSON.stringify(body),
          }),
        );
      const init = await post({
        jsonrpc: '2.0',
        id: 'sample-mcp-adopt',
        method: 'initialize',
        params: {
          protocolVersion,
          capabilities: {},
          clientInfo: { name: 'sample-mcp-adopted-session', version: '1' },
        },
      });
      await init.text();
      if (!init.ok) throw new Error(`adopting session: initialize answered ${init.status}`);
      const initialized = await post(
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        { 'mcp-session-id': sid },
      );
      if (initialized.status !== 202)
        throw new Error(`adopting session: initialized answered ${initialized.status}`);
      const entry: SessionEntry = { transport, server, lastSeen: Date.now() };
      this.hold(sid, entry);
      return entry;
    })();
    this.adopting.set(sid, adoption);
    return adoption.finally(() => this.adopting.delete(sid));
  }

  private forget(id: string): void {
    if (this.sessions.delete(id)) this.o.onSessionCountChange?.(this.sessions.size);
  }

  private async closeSession(id: string): Promise<void> {
    const entry = this.sessions.get(id);
    this.forget(id);
    await entry?.server.close().catch((err: Error) => this.o.onError?.(err));
  }

  /** Frees servers of sessions unused here; the registry decides whether the session itself ended. */
  private sweep(): void {
    const cutoff = Date.now() - this.o.idleMs;
    for (const [id, entry] of this.sessions) {
      if (entry.lastSeen < cutoff) void this.closeSession(id);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.keys()].map((id) => this.closeSession(id)));
    await this.modern.close();
  }
}
