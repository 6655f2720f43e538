/**
 * The resource server's HTTP surface: routing, the security gates in front of every protected
 * route (Host → Origin → CORS preflight → method → bearer token → body), and one structured log
 * line plus metrics per request.
 *
 * | path                                        | auth | what                                  |
 * |---------------------------------------------|------|---------------------------------------|
 * | `/.well-known/oauth-protected-resource[/mcp]` | no   | RFC 9728 metadata (CORS `*`)          |
 * | `/mcp`, `/`                                 | yes  | Streamable HTTP (all protocol eras)   |
 * | `/` from a browser (Accept: text/html)      | no   | landing page with live readiness      |
 * | `/sse`, `/messages`                         | yes  | legacy HTTP+SSE                       |
 * | `/orders/{id}`                              | yes  | the order as a page (the tools' `url`) |
 * | `/healthz`, `/readyz`, `/metrics`           | no   | operations                            |
 *
 * @example
 * ```ts
 * const app = createApp({ config, store, keys, logger, metrics });
 * http.createServer(app.handle).listen(config.port, config.host);
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator } from '../auth/authenticate.js';
import { challengeFor } from '../auth/challenge.js';
import { AuthError } from '../auth/errors.js';
import type { KeyStore } from '../auth/jwks/keyStore.js';
import { metadataUrlFor, PRM_PATH, protectedResourceMetadata, type ResourcePath } from '../auth/metadata.js';
import { type Principal, viewerOf } from '../auth/principal.js';
import type { SharedState } from '../cluster/sharedState.js';
import type { Config } from '../config/config.js';
import { authInfoFor } from '../mcp/context.js';
import { McpEndpoint } from '../mcp/endpoint.js';
import { LegacySseEndpoint } from '../mcp/legacySse.js';
import { createServerFactory } from '../mcp/server.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { OrderStore } from '../orders/types.js';
import { CORS_ALLOW_HEADERS, corsHeaders, hostAllowed, originAllowed, PUBLIC_CORS } from './guards.js';
import { createLandingPage, wantsLandingPage } from './landing.js';
import {
  BodyTooLargeError,
  readBody,
  STREAM_HEADERS,
  sendJson,
  sendRpcError,
  sendWebResponse,
  toWebRequest,
} from './nodeIo.js';
import { orderPage, signInPage } from './orderPage.js';
import { createRateLimiter } from './rateLimit.js';

export interface AppDeps {
  config: Config;
  store: OrderStore;
  keys: Pick<KeyStore, 'status' | 'refresh'>;
  authenticate: Authenticator;
  logger: Logger;
  metrics: Metrics;
  /** State shared between replicas (in memory when there is one). */
  shared: SharedState;
}

type Route =
  | 'landing'
  | 'prm'
  | 'prm_mcp'
  | 'mcp'
  | 'sse'
  | 'messages'
  | 'order'
  | 'healthz'
  | 'readyz'
  | 'metrics'
  | 'unknown';

/** What the request log line says about a request, filled in as it is handled. */
interface RequestLog {
  route: Route;
  /** A long-lived event stream (GET /mcp, GET /sse): not counted as in-flight work. */
  stream?: boolean;
  rateLimited?: boolean;
  /** The client closed the connection before the request was read or answered. */
  clientAborted?: boolean;
  rpcMethod?: string;
  tool?: string;
  protocolVersion?: string;
  principal?: Principal;
  authFailure?: string;
}

function routeOf(pathname: string): Route {
  if (pathname === PRM_PATH) return 'prm';
  if (pathname === `${PRM_PATH}/mcp`) return 'prm_mcp';
  if (pathname === '/mcp' || pathname === '/') return 'mcp';
  if (pathname === '/sse') return 'sse';
  if (pathname === '/messages') return 'messages';
  if (pathname.startsWith('/orders/')) return 'order';
  if (pathname === '/healthz') return 'healthz';
  if (pathname === '/readyz') return 'readyz';
  if (pathname === '/metrics') return 'metrics';
  return 'unknown';
}

const ALLOWED_METHODS: Partial<Record<Route, string[]>> = {
  mcp: ['POST', 'GET', 'DELETE'],
  sse: ['GET'],
  messages: ['POST'],
  order: ['GET'],
};

/** The resource a protected path belongs to: `/mcp` has its own metadata, the rest share the origin's. */
function resourcePathOf(pathname: string): ResourcePath {
  return pathname === '/mcp' ? '/mcp' : '';
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** JSON-RPC method, tool name and protocol version of a parsed body, for the log line. */
function describeRpc(body: unknown, log: RequestLog): void {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return;
  const msg = body as { method?: unknown; params?: Record<string, unknown> };
  if (typeof msg.method === 'string') log.rpcMethod = msg.method.slice(0, 100);
  const params = msg.params;
  if (params && typeof params === 'object') {
    if (msg.method === 'tools/call' && typeof params.name === 'string') log.tool = params.name.slice(0, 128);
    if (msg.method === 'initialize' && typeof params.protocolVersion === 'string') {
      log.protocolVersion ??= params.protocolVersion.slice(0, 40);
    }
    const meta = params._meta as Record<string, unknown> | undefined;
    const v = meta?.['io.modelcontextprotocol/protocolVersion'];
    if (typeof v === 'string') log.protocolVersion ??= v.slice(0, 40);
  }
}

export interface App {
  handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** Requests being answered right now, not counting long-lived event streams. */
  readonly inFlight: number;
  /** Ends open sessions and streams. */
  close: () => Promise<void>;
  readonly sessionCount: number;
}

export function createApp(deps: AppDeps): App {
  const { config, store, logger, metrics } = deps;
  const onError = (err: Error) =>
    logger.warn({ event: 'mcp_error', err: err.message }, 'MCP transport error');
  const factory = createServerFactory({
    store,
    serverUrl: config.serverUrl,
    onToolCall: (tool, outcome) => metrics.toolCalls.inc({ tool, outcome }),
  });
  const { shared } = deps;
  const endpoint = new McpEndpoint(factory, {
    sessionIds: shared.sessionIds,
    registry: shared.sessions,
    ...(shared.events && { eventStore: shared.events }),
    idleMs: config.sessionIdleSeconds * 1000,
    maxSessions: config.maxSessions,
    sessions: config.sessions,
    jsonResponses: config.jsonResponses,
    maxRequestBodySize: config.maxBodyBytes,
    onSessionCountChange: (n) => metrics.sessions.set({ transport: 'streamable_http' }, n),
    onError,
  });
  const landing = createLandingPage({ config, keys: deps.keys, store });
  const limiter = createRateLimiter(
    config.rateLimitPerMinute,
    shared.redis && { redis: shared.redis, prefix: config.redisKeyPrefix },
  );
  let inFlight = 0;
  const sse = new LegacySseEndpoint(factory, {
    keepAliveMs: 25_000,
    relay: shared.sseRelay,
    authInfoFor: (p) => authInfoFor(p, config.serverUrl),
    onCountChange: (n) => metrics.sessions.set({ transport: 'sse' }, n),
    onError,
  });

  function finish(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    log: RequestLog,
    started: bigint,
  ): void {
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    metrics.requests.inc({ route: log.route, method: req.method ?? '', status: res.statusCode });
    metrics.duration.observe({ route: log.route }, durationMs / 1000);
    if (log.route === 'healthz' || log.route === 'metrics') return; // probes would drown the log
    const p = log.principal;
    const sessionId =
      firstHeader(req.headers['mcp-session-id']) ?? (res.getHeader('mcp-session-id') as string);
    logger.info(
      {
        event: 'request',
        method: req.method,
        path: url.pathname.slice(0, 200),
        route: log.route,
        status: res.statusCode,
        durationMs: Math.round(durationMs * 100) / 100,
        protocolVersion: log.protocolVersion,
        sessionId: sessionId?.slice(0, 100),
        rpcMethod: log.rpcMethod,
        tool: log.tool,
        authFailure: log.authFailure,
        rateLimited: log.rateLimited,
        clientAborted: log.clientAborted,
        ...(p && { iss: p.issuer, aud: p.audience, sub: p.subject, clientId: p.clientId, scopes: p.scopes }),
      },
      'request',
    );
  }

  async function authenticate(req: IncomingMessage, res: ServerResponse, url: URL, log: RequestLog) {
    try {
      const principal = await deps.authenticate(req.headersDistinct.authorization);
      log.principal = principal;
      return principal;
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      log.authFailure = err.reason;
      metrics.authFailures.inc({ reason: err.reason });
      const challenge = challengeFor(
        err,
        metadataUrlFor(config.serverUrl, resourcePathOf(url.pathname)),
        config.requiredScope,
      );
      const headers: Record<string, string> = challenge
        ? { 'www-authenticate': challenge }
        : { 'retry-after': '5' };
      if (log.route === 'order' && (req.headers.accept ?? '').includes('text/html')) {
        res.writeHead(err.status, { ...headers, 'content-type': 'text/html; charset=utf-8' });
        res.end(signInPage(config.serverUrl));
      } else {
        const error = err.kind === 'unavailable' ? 'temporarily_unavailable' : err.kind;
        sendJson(res, err.status, { error, error_description: err.description }, headers);
      }
      return undefined;
    }
  }

  async function readJsonBody(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<{ ok: boolean; raw?: Buffer; body?: unknown }> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') {
      sendRpcError(res, 415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
      return { ok: false };
    }
    let raw: Buffer;
    try {
      raw = await readBody(req, config.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        sendRpcError(res, 413, -32000, `Request body larger than ${config.maxBodyBytes} bytes`, {
          connection: 'close',
        });
        return { ok: false };
      }
      throw err;
    }
    try {
      return { ok: true, raw, body: JSON.parse(raw.toString('utf8')) };
    } catch {
      sendRpcError(res, 400, -32700, 'Parse error: the body is not valid JSON');
      return { ok: false };
    }
  }

  async function handleProtected(req: IncomingMessage, res: ServerResponse, url: URL, log: RequestLog) {
    const method = req.method ?? 'GET';
    if (!hostAllowed(req.headers.host, config)) {
      sendRpcError(res, 403, -32000, `Host "${String(req.headers.host).slice(0, 100)}" is not allowed`);
      return;
    }
    const origin = firstHeader(req.headers.origin);
    if (!originAllowed(origin, config)) {
      sendRpcError(res, 403, -32000, `Origin "${String(origin).slice(0, 100)}" is not allowed`);
      return;
    }
    for (const [k, v] of Object.entries(corsHeaders(origin, config))) res.setHeader(k, v);
    const allowed = ALLOWED_METHODS[log.route] ?? [];
    if (method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': [...allowed, 'OPTIONS'].join(', '),
        'access-control-allow-headers': CORS_ALLOW_HEADERS,
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    if (!allowed.includes(method)) {
      sendRpcError(res, 405, -32000, 'Method not allowed', { allow: allowed.join(', ') });
      return;
    }
    const principal = await authenticate(req, res, url, log);
    if (!principal) return;
    const rate = await limiter.consume(principal.key);
    if (!rate.ok) {
      log.rateLimited = true;
      metrics.rateLimited.inc();
      sendRpcError(res, 429, -32000, `Too many requests: retry in ${rate.retryAfterSeconds} s`, {
        'retry-after': String(rate.retryAfterSeconds),
      });
      return;
    }
    const authInfo = authInfoFor(principal, `${config.serverUrl}${resourcePathOf(url.pathname)}`);
    log.protocolVersion = firstHeader(req.headers['mcp-protocol-version'])?.slice(0, 40);

    if (log.route === 'order') {
      const id = decodeURIComponent(url.pathname.slice('/orders/'.length));
      const order = await store.get(id, viewerOf(principal));
      if ((req.headers.accept ?? '').includes('text/html')) {
        res.writeHead(order ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
        res.end(orderPage(order, id));
      } else if (order) {
        sendJson(res, 200, order);
      } else {
        sendJson(res, 404, {
          error: 'not_found',
          error_description: `No order with id "${id.slice(0, 200)}"`,
        });
      }
      return;
    }
    if (log.route === 'sse' || method === 'GET') {
      log.stream = true;
      inFlight -= 1;
    }
    if (log.route === 'sse') {
      for (const [k, v] of Object.entries(STREAM_HEADERS)) res.setHeader(k, v);
      await sse.open(res, principal);
      return;
    }

    let parsed: { ok: boolean; raw?: Buffer; body?: unknown } = { ok: true };
    if (method === 'POST') {
      parsed = await readJsonBody(req, res);
      if (!parsed.ok) return;
      describeRpc(parsed.body, log);
    }
    if (log.route === 'messages') {
      const delivered = await sse.post(
        req,
        res,
        url.searchParams.get('sessionId'),
        parsed.body,
        principal,
        authInfo,
      );
      if (!delivered) sendRpcError(res, 404, -32001, 'Session not found: open a new stream with GET /sse');
      return;
    }
    const reply = await endpoint.handle(
      {
        method,
        headers: req.headers,
        body: parsed.body,
        // Built only when an SDK transport serves the request (2026 wire, event streams).
        webRequest: () => {
          const abort = new AbortController();
          res.on('close', () => abort.abort());
          return toWebRequest(req, url, parsed.raw, abort.signal);
        },
      },
      principal,
      authInfo,
    );
    if (reply instanceof Response) {
      await sendWebResponse(res, reply);
    } else {
      for (const [k, v] of Object.entries(reply.headers)) res.setHeader(k, v);
      if (reply.headers['content-type'] === 'text/event-stream') {
        for (const [k, v] of Object.entries(STREAM_HEADERS)) res.setHeader(k, v);
      }
      res.setHeader('content-length', Buffer.byteLength(reply.body));
      res.writeHead(reply.status);
      res.end(reply.body);
    }
  }

  async function handleReady(res: ServerResponse): Promise<void> {
    let jwks = deps.keys.status();
    if (jwks.state === 'unavailable') {
      await deps.keys.refresh().catch(() => {});
      jwks = deps.keys.status();
    }
    const storeReady = await store.isReady().catch(() => false);
    const sharedState = await deps.shared.check();
    // Without Redis, stateless and 2026 requests are still served (sessions answer 503): degraded,
    // not unready, so a probe does not take every replica out at once.
    const ok = storeReady && jwks.state !== 'unavailable';
    const degraded = jwks.state === 'degraded' || sharedState.state === 'unavailable';
    sendJson(res, ok ? 200 : 503, {
      status: !ok ? 'unavailable' : degraded ? 'degraded' : 'ready',
      checks: {
        jwks: {
          state: jwks.state,
          url: jwks.jwksUrl,
          keys: jwks.keyIds.length,
          fetchedAt: jwks.fetchedAt,
          error: jwks.lastError,
        },
        store: { state: storeReady ? 'ready' : 'unavailable' },
        shared: sharedState,
      },
    });
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL, log: RequestLog): Promise<void> {
    switch (log.route) {
      case 'prm':
      case 'prm_mcp': {
        if (req.method === 'OPTIONS') {
          res.writeHead(204, PUBLIC_CORS).end();
        } else if (req.method === 'GET' || req.method === 'HEAD') {
          const doc = protectedResourceMetadata(config, log.route === 'prm' ? '' : '/mcp');
          sendJson(res, 200, doc, { ...PUBLIC_CORS, 'cache-control': 'public, max-age=300' });
        } else {
          sendJson(res, 405, { error: 'method_not_allowed' }, { allow: 'GET, OPTIONS' });
        }
        return;
      }
      case 'healthz':
        sendJson(res, 200, { status: 'ok' });
        return;
      case 'readyz':
        await handleReady(res);
        return;
      case 'metrics': {
        const text = await metrics.registry.metrics();
        res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text);
        return;
      }
      case 'landing':
        await landing(res);
        return;
      case 'unknown':
        sendJson(res, 404, {
          error: 'not_found',
          error_description: `Nothing at ${url.pathname.slice(0, 200)}; the MCP endpoint is ${config.serverUrl}/mcp`,
        });
        return;
      default:
        await handleProtected(req, res, url, log);
    }
  }

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const started = process.hrtime.bigint();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', config.serverUrl);
    } catch {
      sendJson(res, 400, { error: 'invalid_request', error_description: 'Malformed request target' });
      return;
    }
    const log: RequestLog = {
      route: url.pathname === '/' && wantsLandingPage(req) ? 'landing' : routeOf(url.pathname),
    };
    inFlight += 1;
    res.on('close', () => {
      if (!log.stream) inFlight -= 1;
      finish(req, res, url, log, started);
    });
    route(req, res, url, log).catch((err: unknown) => {
      if (req.destroyed && (err as NodeJS.ErrnoException)?.code === 'ECONNRESET') {
        // The client went away mid-request (it closed the connection): nothing to answer.
        log.clientAborted = true;
        return;
      }
      logger.error(
        { event: 'unhandled', err: (err as Error)?.message, path: url.pathname },
        'request failed',
      );
      if (!res.headersSent) sendRpcError(res, 500, -32603, 'Internal error');
      else res.destroy();
    });
  };

  return {
    handle,
    close: async () => {
      await Promise.all([endpoint.close(), sse.close()]);
    },
    get inFlight() {
      return inFlight;
    },
    get sessionCount() {
      return endpoint.sessionCount;
    },
  };
}
