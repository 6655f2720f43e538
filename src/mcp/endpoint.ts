/**
 * One Streamable HTTP endpoint that serves every protocol era from one server definition:
 *
 * - 2026-07-28 (stateless, `server/discover`, per-request `_meta` envelope) → the SDK's
 *   `createMcpHandler` in strict modern mode;
 * - 2025-era `initialize` → a new session (`Mcp-Session-Id`), bound to the principal that opened
 *   it; later requests with that id must come from the same `iss|sub`, else 404 like an unknown id;
 * - 2025-era requests without a session id (clients that re-initialize on every call, such as
 *   ChatGPT) → the SDK's stateless fallback.
 *
 * Sessions end on DELETE, after `idleMs` without requests, or when the session table is full
 * (least recently used first).
 *
 * @example
 * ```ts
 * const endpoint = new McpEndpoint(factory, { idleMs: 30 * 60_000, maxSessions: 10_000 });
 * const response = await endpoint.handle(request, parsedBody, principal, authInfo);
 * ```
 */
import { randomUUID } from 'node:crypto';
import {
  type AuthInfo,
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  type LegacyHttpHandler,
  legacyStatelessFallback,
  type McpHttpHandler,
  type McpServer,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { Principal } from '../auth/principal.js';

export interface EndpointOptions {
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
  principalKey: string;
  lastSeen: number;
}

/** JSON-RPC error response with an HTTP status. */
export function rpcError(status: number, code: number, message: string, headers: HeadersInit = {}): Response {
  return Response.json({ jsonrpc: '2.0', error: { code, message }, id: null }, { status, headers });
}

export class McpEndpoint {
  private readonly modern: McpHttpHandler;
  private readonly stateless: LegacyHttpHandler;
  private readonly sessions = new Map<string, SessionEntry>();
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
    if (sid) {
      const entry = this.sessions.get(sid);
      // Another user's session answers exactly like a session that does not exist.
      if (!entry || entry.principalKey !== principal.key) {
        return rpcError(404, -32001, 'Session not found: start a new session with initialize');
      }
      entry.lastSeen = Date.now();
      // Keep the map in LRU order (Map iterates in insertion order).
      this.sessions.delete(sid);
      this.sessions.set(sid, entry);
      return entry.transport.handleRequest(request, opts);
    }
    if (request.method === 'POST' && this.o.sessions && isInitializeRequest(parsedBody)) {
      return this.openSession(request, principal, opts);
    }
    return this.stateless(request, opts);
  }

  private async openSession(
    request: Request,
    principal: Principal,
    opts: { authInfo: AuthInfo; parsedBody: unknown },
  ): Promise<Response> {
    while (this.sessions.size >= this.o.maxSessions) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      await this.closeSession(oldest);
    }
    const server = this.factory();
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: this.o.jsonResponses,
      maxRequestBodySize: this.o.maxRequestBodySize,
      onsessioninitialized: (id) => {
        this.sessions.set(id, { transport, server, principalKey: principal.key, lastSeen: Date.now() });
        this.o.onSessionCountChange?.(this.sessions.size);
      },
      onsessionclosed: (id) => {
        this.forget(id);
      },
    });
    transport.onerror = (err) => this.o.onError?.(err);
    await server.connect(transport);
    return transport.handleRequest(request, opts);
  }

  private forget(id: string): void {
    if (this.sessions.delete(id)) this.o.onSessionCountChange?.(this.sessions.size);
  }

  private async closeSession(id: string): Promise<void> {
    const entry = this.sessions.get(id);
    this.forget(id);
    await entry?.server.close().catch((err: Error) => this.o.onError?.(err));
  }

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
