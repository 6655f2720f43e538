/**
 * One Streamable HTTP endpoint that serves every protocol era from one server definition:
 *
 * - 2026-07-28 (stateless, `server/discover`, per-request `_meta` envelope) → the SDK's
 *   `createMcpHandler` in strict modern mode;
 * - 2025-era `initialize` → a new session whose id is signed ({@link SessionIds}) and bound to the
 *   principal that opened it; later requests with that id must come from the same `iss|sub`, else
 *   404 like an unknown id;
 * - 2025-era requests without a session id (clients that re-initialize on every call, such as
 *   ChatGPT) → served like session POSTs by the process's shared server, without a session.
 *
 * No sticky routing: a replica that receives a validly signed session id it has not seen (the
 * session was opened on another replica, or before a restart) adopts it — it builds the session's
 * server and transport and initializes them with the protocol version the id carries — and serves
 * the request. Whether a session was ended (DELETE, idle, table full) is the
 * {@link SessionRegistry}'s answer, shared through Redis when configured.
 */
import type { IncomingHttpHeaders } from 'node:http';
import {
  type AuthInfo,
  classifyInboundRequest,
  createMcpHandler,
  type EventStore,
  isInitializeRequest,
  type JSONRPCMessage,
  type McpHttpHandler,
  type McpServer,
  parseJSONRPCMessage,
  SUPPORTED_PROTOCOL_VERSIONS,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import type { Principal } from '../auth/principal.js';
import { publicSessionId, type SessionIds } from '../cluster/sessionIds.js';
import type { SessionRegistry } from '../cluster/sessionRegistry.js';
import { evictOldest } from '../web/maps.js';
import { rpcErrorBody } from '../web/nodeIo.js';
import { withFacts } from './context.js';
import { pooledFactory } from './serverPool.js';
import { SharedServer } from './sharedServer.js';

export interface EndpointOptions {
  sessionIds: SessionIds;
  registry: SessionRegistry;
  /** Resumable SSE responses (`Last-Event-ID`), when a shared event store is configured. */
  eventStore?: { forSession(sessionId: string): EventStore };
  /** A session's server and transport are dropped from this replica's memory after this long unused. */
  idleMs: number;
  maxSessions: number;
  /** `false`: answer `initialize` without a session (every request stateless). */
  sessions: boolean;
  /** `true`: 2025-era session POSTs are answered with JSON bodies rather than SSE streams. */
  jsonResponses: boolean;
  maxRequestBodySize: number;
  onSessionCountChange?: (count: number) => void;
  /** A session was ended by its client (DELETE), `seconds` after it was opened. */
  onSessionEnd?: (seconds: number, protocolVersion: string) => void;
  onError?: (err: Error) => void;
}

interface SessionEntry {
  transport: WebStandardStreamableHTTPServerTransport;
  server: McpServer;
  lastSeen: number;
}

/** An HTTP request as the endpoint needs it; the web `Request` is only built when an SDK transport serves it. */
export interface Inbound {
  method: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body of a POST; `undefined` otherwise. */
  body: unknown;
  webRequest: () => Request;
}

/** A complete answer written straight to the socket (no web `Response` round trip). */
export interface DirectReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const NOT_FOUND = 'Session not found: start a new session with initialize';
const MAX_BATCH = 100;

/** A JSON-RPC error answer with an HTTP status. */
function rpcError(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): DirectReply {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: rpcErrorBody(code, message),
  };
}

/** The session registry (Redis) did not answer: the client may retry. */
function storeUnavailable(): DirectReply {
  return rpcError(503, -32000, 'Session store unavailable: retry shortly', { 'retry-after': '2' });
}

function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

export class McpEndpoint {
  private readonly modern: McpHttpHandler;
  /** Sessions this replica holds an SDK server for (GET streams, resumable streams), LRU first. */
  private readonly sessions = new Map<string, SessionEntry>();
  private readonly adopting = new Map<string, Promise<SessionEntry>>();
  private readonly sweeper: NodeJS.Timeout;
  private shared: Promise<SharedServer> | undefined;

  constructor(
    private readonly factory: () => McpServer,
    private readonly options: EndpointOptions,
  ) {
    const onerror = (err: Error) => options.onError?.(err);
    this.modern = createMcpHandler(pooledFactory(factory, 16), {
      legacy: 'reject',
      maxRequestBodySize: options.maxRequestBodySize,
      onerror,
    });
    this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, options.idleMs)).unref();
  }

  private sharedServer(): Promise<SharedServer> {
    this.shared ??= SharedServer.start(this.factory);
    return this.shared;
  }

  async handle(inbound: Inbound, principal: Principal, authInfo: AuthInfo): Promise<Response | DirectReply> {
    const classified = classifyInboundRequest({
      httpMethod: inbound.method,
      protocolVersionHeader: headerOf(inbound.headers, 'mcp-protocol-version'),
      mcpMethodHeader: headerOf(inbound.headers, 'mcp-method'),
      mcpNameHeader: headerOf(inbound.headers, 'mcp-name'),
      ...(inbound.body !== undefined && { body: inbound.body }),
    });
    const opts = { authInfo, parsedBody: inbound.body };
    if (classified.kind !== 'legacy') return this.modern.fetch(inbound.webRequest(), opts);
    const sid = headerOf(inbound.headers, 'mcp-session-id');
    if (sid) return this.continueSession(sid, inbound, principal, authInfo);
    if (inbound.method === 'POST') {
      const version = headerOf(inbound.headers, 'mcp-protocol-version');
      const info = version ? withFacts(authInfo, { protocolVersion: version }) : authInfo;
      return this.serveOnSharedServer(inbound, principal, info, undefined);
    }
    // GET or DELETE without a session: no stream, no session to end (the SDK's stateless answer).
    return rpcError(405, -32000, 'Method not allowed.', { allow: 'POST' });
  }

  /**
   * A 2025-era POST served by the process's shared server: the checks the SDK's Streamable HTTP
   * transport makes (Accept, JSON-RPC shape, batch size, one `initialize`, MCP-Protocol-Version),
   * then the messages, then one JSON body or one short SSE stream. A successful `initialize` opens
   * a session when sessions are on.
   */
  private async serveOnSharedServer(
    inbound: Inbound,
    principal: Principal,
    authInfo: AuthInfo,
    sid: string | undefined,
  ): Promise<DirectReply> {
    const accept = headerOf(inbound.headers, 'accept') ?? '';
    if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
      return rpcError(
        406,
        -32000,
        'Not Acceptable: Client must accept both application/json and text/event-stream',
      );
    }
    const batch = Array.isArray(inbound.body);
    const raw = batch ? (inbound.body as unknown[]) : [inbound.body];
    if (raw.length > MAX_BATCH) {
      return rpcError(400, -32600, `Invalid Request: Batch must not exceed ${MAX_BATCH} messages`);
    }
    let messages: JSONRPCMessage[];
    try {
      messages = raw.map((m) => parseJSONRPCMessage(m));
    } catch {
      return rpcError(400, -32700, 'Parse error: Invalid JSON-RPC message');
    }
    const initialize = messages.some((m) => isInitializeRequest(m));
    if (initialize) {
      if (sid) return rpcError(400, -32600, 'Invalid Request: Server already initialized');
      if (messages.length > 1) {
        return rpcError(400, -32600, 'Invalid Request: Only one initialization request is allowed');
      }
    } else {
      const version = headerOf(inbound.headers, 'mcp-protocol-version');
      if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
        return rpcError(
          400,
          -32000,
          `Bad Request: Unsupported protocol version: ${version.slice(0, 40)} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
        );
      }
    }
    const responses = await (await this.sharedServer()).dispatch(messages, authInfo);
    if (responses.length === 0) return { status: 202, headers: {}, body: '' };
    const headers: Record<string, string> = {};
    const first = responses[0] as { result?: { protocolVersion?: unknown } };
    if (initialize && this.options.sessions && typeof first.result?.protocolVersion === 'string') {
      const newSid = this.options.sessionIds.issue(principal.key, first.result.protocolVersion);
      try {
        await this.options.registry.opened(newSid, principal.key);
      } catch (err) {
        this.options.onError?.(err as Error);
        return storeUnavailable();
      }
      headers['mcp-session-id'] = newSid;
    } else if (sid) {
      headers['mcp-session-id'] = sid;
    }
    if (this.options.jsonResponses) {
      headers['content-type'] = 'application/json';
      return { status: 200, headers, body: JSON.stringify(batch ? responses : first) };
    }
    headers['content-type'] = 'text/event-stream';
    return {
      status: 200,
      headers,
      body: responses.map((r) => `event: message\ndata: ${JSON.stringify(r)}\n\n`).join(''),
    };
  }

  private async continueSession(
    sid: string,
    inbound: Inbound,
    principal: Principal,
    authInfo: AuthInfo,
  ): Promise<Response | DirectReply> {
    // Forged, expired and other users' ids answer exactly like a session that does not exist.
    const claims = this.options.sessionIds.verify(sid, principal.key);
    if (!claims) return rpcError(404, -32001, NOT_FOUND);
    // For spans: the session's public part and its negotiated version (verified, so not forged).
    authInfo = withFacts(authInfo, {
      session: publicSessionId(sid),
      protocolVersion: claims.protocolVersion,
    });
    let alive: boolean;
    try {
      alive = await this.options.registry.touch(sid, principal.key);
    } catch (err) {
      this.options.onError?.(err as Error);
      return storeUnavailable();
    }
    if (!alive) {
      await this.closeSession(sid);
      return rpcError(404, -32001, NOT_FOUND);
    }
    const opts = { authInfo, parsedBody: inbound.body };
    if (inbound.method === 'DELETE') {
      try {
        await this.options.registry.end(sid);
      } catch (err) {
        this.options.onError?.(err as Error);
        return storeUnavailable();
      }
      this.options.onSessionEnd?.(Math.max(0, Date.now() - claims.issuedAt) / 1000, claims.protocolVersion);
      const entry = this.sessions.get(sid);
      if (!entry) return { status: 200, headers: {}, body: '' };
      return entry.transport.handleRequest(inbound.webRequest(), opts);
    }
    // POSTs need no per-session server, unless their SSE events are kept for resumption.
    const resumable = this.options.eventStore !== undefined && !this.options.jsonResponses;
    if (inbound.method === 'POST' && !resumable) {
      const held = this.sessions.get(sid);
      if (held) held.lastSeen = Date.now(); // its GET stream stays while the session is in use
      return this.serveOnSharedServer(inbound, principal, authInfo, sid);
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
        this.options.onError?.(err as Error);
        return rpcError(500, -32603, 'Internal error: could not resume the session');
      }
    }
    entry.lastSeen = Date.now();
    return entry.transport.handleRequest(inbound.webRequest(), opts);
  }

  private newTransport(sid: string): WebStandardStreamableHTTPServerTransport {
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => sid,
      enableJsonResponse: this.options.jsonResponses,
      maxRequestBodySize: this.options.maxRequestBodySize,
      ...(this.options.eventStore && { eventStore: this.options.eventStore.forSession(sid) }),
      onsessionclosed: (id) => {
        this.forget(id);
      },
    });
    transport.onerror = (err) => this.options.onError?.(err);
    return transport;
  }

  private hold(sid: string, entry: SessionEntry): void {
    evictOldest(this.sessions, this.options.maxSessions - 1, (oldest) => void this.closeSession(oldest));
    this.sessions.set(sid, entry);
    this.options.onSessionCountChange?.(this.sessions.size);
  }

  /**
   * Builds this replica's SDK server and transport for a session (for its event stream, or its
   * resumable responses): an internal `initialize` with the session's protocol version, then
   * `notifications/initialized`, as the client sent them when it opened the session. Concurrent
   * requests share one adoption.
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
    if (this.sessions.delete(id)) this.options.onSessionCountChange?.(this.sessions.size);
  }

  private async closeSession(id: string): Promise<void> {
    const entry = this.sessions.get(id);
    this.forget(id);
    await entry?.server.close().catch((err: Error) => this.options.onError?.(err));
  }

  /** Frees servers of sessions unused here; the registry decides whether the session itself ended. */
  private sweep(): void {
    const cutoff = Date.now() - this.options.idleMs;
    for (const [id, entry] of this.sessions) {
      if (entry.lastSeen < cutoff) void this.closeSession(id);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.keys()].map((id) => this.closeSession(id)));
    await this.modern.close();
    if (this.shared) await (await this.shared).close();
  }
}
