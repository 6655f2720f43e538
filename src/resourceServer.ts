/**
 * Composition root of the resource server: builds every part from the {@link Config} and
 * listens. `npm run serve` and the tests both start it through here.
 *
 * @example
 * ```ts
 * const rs = await startResourceServer(loadConfig(process.env), { logger });
 * console.log(rs.url); // http://127.0.0.1:3000
 * await rs.close();
 * ```
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname } from 'node:path';
import { createAuthenticator } from './auth/authenticate.js';
import { KeyStore } from './auth/jwks/keyStore.js';
import { createSharedState, type SharedState } from './cluster/sharedState.js';
import type { Config } from './config/config.js';
import { listenOnConfigured } from './config/listen.js';
import { type App, createApp } from './http/app.js';
import { createRateLimiter } from './http/gates/rateLimit.js';
import { authInfoFor } from './mcp/context.js';
import { McpEndpoint } from './mcp/endpoint.js';
import { LegacySseEndpoint } from './mcp/legacySse.js';
import { createServerFactory } from './mcp/server.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { PostgresOrderStore } from './orders/postgres.js';
import { SqliteOrderStore } from './orders/sqlite.js';
import { tracedStore } from './orders/traced.js';
import { asyncStore, type OrderStore } from './orders/types.js';
import { urlOf } from './web/listen.js';

export interface ResourceServer {
  /** Where it listens, e.g. `http://127.0.0.1:3000` (the public URL is `config.serverUrl`). */
  url: string;
  server: Server;
  app: App;
  keys: KeyStore;
  store: OrderStore;
  metrics: Metrics;
  shared: SharedState;
  /** Stops accepting, ends sessions and streams, closes the store. */
  close: () => Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Use this store instead of opening the configured one (it is then not closed by `close`). */
  store?: OrderStore | SqliteOrderStore;
  /**
   * Make spans (HTTP, bearer check, MCP, tool, store): true when the process registered the
   * OpenTelemetry SDK (src/observability/telemetry.ts, `startTelemetry(config.telemetry).tracing`).
   */
  tracing?: boolean;
}

/** Opens the configured order store and creates the sample orders when it is empty. */
async function openStore(config: Config, logger: Logger): Promise<OrderStore> {
  const created = (count: number, where: string) =>
    logger.info({ event: 'sample_data', path: where, count }, 'created sample orders');
  if (config.ordersStore === 'postgres') {
    const pg = await PostgresOrderStore.open({
      connectionString: config.databaseUrl,
      max: config.databasePoolMax,
      statementTimeoutMillis: config.databaseStatementTimeoutMs,
      onPoolError: (err) =>
        logger.warn({ event: 'db_pool_error', err: err.message }, 'idle database connection failed'),
    });
    const seeded = await pg.ensureSampleData();
    if (seeded.created) created(seeded.count, 'postgres');
    return pg;
  }
  mkdirSync(dirname(config.ordersDb), { recursive: true });
  const sqlite = SqliteOrderStore.open(config.ordersDb);
  const seeded = sqlite.ensureSampleData();
  if (seeded.created) created(seeded.count, config.ordersDb);
  return asyncStore(sqlite);
}

export async function startResourceServer(config: Config, opts: StartOptions = {}): Promise<ResourceServer> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const tracing = opts.tracing ?? false;
  const opened: OrderStore = opts.store
    ? opts.store instanceof SqliteOrderStore
      ? asyncStore(opts.store)
      : opts.store
    : await openStore(config, logger);
  const store = tracing
    ? tracedStore(opened, config.ordersStore === 'postgres' ? 'postgresql' : 'sqlite')
    : opened;
  const keys = new KeyStore({
    issuer: config.issuer,
    jwksUrl: config.jwksUrl,
    cooldownMs: config.jwksCooldownSeconds * 1000,
    maxAgeMs: config.jwksMaxAgeSeconds * 1000,
  });
  const metrics = createMetrics();
  const authenticate = createAuthenticator({ ...config, keys });
  let shared: SharedState;
  try {
    shared = await createSharedState(config, logger);
  } catch (err) {
    if (!opts.store) await store.close();
    throw err;
  }
  const onError = (err: Error) =>
    logger.warn({ event: 'mcp_error', err: err.message }, 'MCP transport error');
  const factory = createServerFactory(
    {
      store,
      serverUrl: config.serverUrl,
      onToolCall: (tool, outcome) => metrics.toolCalls.inc({ tool, outcome }),
    },
    { tracing, onOperation: metrics.recordOperation },
  );
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
    onSessionEnd: (seconds, version) =>
      metrics.recordSession({ transport: 'streamable_http', 'mcp.protocol.version': version }, seconds),
    onError,
  });
  const sse = new LegacySseEndpoint(factory, {
    keepAliveMs: 25_000,
    maxStreamsPerPrincipal: config.maxSseStreamsPerUser,
    maxLifetimeMs: config.sseMaxLifetimeSeconds * 1000,
    relay: shared.sseRelay,
    authInfoFor: (p) => authInfoFor(p, config.serverUrl),
    onCountChange: (n) => metrics.sessions.set({ transport: 'sse' }, n),
    onSessionEnd: (seconds) =>
      metrics.recordSession({ transport: 'sse', 'mcp.protocol.version': '2024-11-05' }, seconds),
    onError,
  });
  const limiter = createRateLimiter(
    config.rateLimitPerMinute,
    shared.redis && { redis: shared.redis, prefix: config.redisKeyPrefix },
  );
  const endStreams = () => Promise.all([endpoint.close(), sse.close()]);
  const app = createApp({
    config,
    store,
    keys,
    authenticate,
    limiter,
    endpoint,
    sse,
    logger,
    metrics,
    shared,
    tracing,
  });

  const server = createServer(
    {
      keepAliveTimeout: 65_000,
      headersTimeout: config.headersTimeoutMs,
      // how often Node looks for connections past headersTimeout (its default is 30 s)
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(config.headersTimeoutMs / 4))),
      // Receiving the request (headers and body) only: once it is in, responses and event streams
      // run as long as they need. A body dripped slowly by a signed-in client is cut here (408).
      requestTimeout: config.requestTimeoutMs,
    },
    app.handle,
  );
  // Beyond this many open connections, new ones are closed at once (file descriptors are finite).
  server.maxConnections = config.maxConnections;
  server.on('drop', () => metrics.connectionsDropped.inc());
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return;
    const status =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });
  try {
    await listenOnConfigured(server, config.port, config.host, 'PORT');
  } catch (err) {
    await endStreams();
    await shared.close();
    if (!opts.store) await store.close();
    throw err;
  }
  const url = urlOf(server);
  // Warm the key cache so the first request does not pay for discovery; failure is reported by /readyz.
  keys.refresh().catch((err: Error) => {
    logger.warn(
      { event: 'jwks_unavailable', issuer: config.issuer, err: err.message },
      'cannot load signing keys yet',
    );
  });
  const ownStore = !opts.store;
  return {
    url,
    server,
    app,
    keys,
    store,
    metrics,
    shared,
    // Graceful: stop accepting, let requests being answered finish (up to the grace period), then
    // end sessions and event streams, then drop what is left.
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = Date.now() + config.shutdownGraceSeconds * 1000;
      while (app.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await endStreams();
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), 1000).unref();
      await closed;
      clearTimeout(timer);
      await shared.close();
      if (ownStore) await store.close();
    },
  };
}
