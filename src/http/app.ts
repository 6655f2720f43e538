/**
 * The resource server's HTTP surface, read top to bottom: the route table (path, the gates in the
 * order they run, the handler), then dispatch with the request log line, metrics and the in-flight
 * count. Every part is built in src/resourceServer.ts and handed in.
 *
 * A protected route runs: Host → Origin (+ CORS) → preflight → method → bearer token → rate limit
 * → (POST) JSON body. A gate that refuses a request answers it itself.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context } from '@opentelemetry/api';
import type { Authenticator } from '../auth/authenticate.js';
import { PRM_PATH, type ResourcePath } from '../auth/metadata.js';
import type { Config } from '../config/config.js';
import type { McpEndpoint } from '../mcp/endpoint.js';
import type { LegacySseEndpoint } from '../mcp/legacySse.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { OrderStore } from '../orders/types.js';
import { startHttpSpan } from '../web/httpSpan.js';
import { sendJson, sendRpcError } from '../web/nodeIo.js';
import { type Exchange, type Gate, type Handler, noteProtocolVersion } from './exchange.js';
import { bearerGate } from './gates/bearer.js';
import { hostGate } from './gates/host.js';
import { jsonBodyGate } from './gates/jsonBody.js';
import { methodGate, preflightGate } from './gates/method.js';
import { originGate } from './gates/origin.js';
import { batchChargeGate, type RateLimiter, rateLimitGate } from './gates/rateLimit.js';
import { logRequest } from './requestLog.js';
import { landingRoute, wantsLandingPage } from './routes/landing.js';
import { sseMessagesRoute, sseStreamRoute } from './routes/legacySse.js';
import { mcpRoute } from './routes/mcp.js';
import { metadataRoute } from './routes/metadata.js';
import { notFoundRoute } from './routes/notFound.js';
import { healthzRoute, metricsRoute, type ReadinessDeps, readyzRoute } from './routes/ops.js';
import { ordersRoute, signInPage } from './routes/orders.js';

export interface AppDeps extends ReadinessDeps {
  config: Config;
  store: OrderStore;
  authenticate: Authenticator;
  limiter: RateLimiter;
  endpoint: Pick<McpEndpoint, 'handle'>;
  sse: Pick<LegacySseEndpoint, 'open' | 'post'>;
  logger: Logger;
  metrics: Metrics;
  /** Make an HTTP server span per request (OpenTelemetry configured). */
  tracing?: boolean;
}

/** How long the rest of a refused request's body may take to arrive before the connection is cut. */
const UNREAD_BODY_GRACE_MS = 2000;

interface Route {
  /** The metrics label and the log line's `route`. */
  name: string;
  match: (pathname: string, req: IncomingMessage) => boolean;
  gates: Gate[];
  handler: Handler;
  /** Probes: counted in metrics, not logged. */
  quiet?: boolean;
  /** `http.route` when the path has a variable part (otherwise the matched path is the route). */
  template?: string;
  /** Health and metrics probes: no span (they would fill the trace store). */
  probe?: boolean;
}

export interface App {
  handle: (req: IncomingMessage, res: ServerResponse) => void;
  /** Requests being answered right now, not counting long-lived event streams. */
  readonly inFlight: number;
}

export function createApp(deps: AppDeps): App {
  const { config, logger, metrics } = deps;
  const is = (path: string) => (pathname: string) => pathname === path;
  const json = jsonBodyGate(config.maxBodyBytes);
  const probeHost = hostGate(config, { probes: true });
  const batchCharge = batchChargeGate(deps.limiter, metrics);

  /** The gates of a route that needs a signed-in user with the required scope, in the order they run. */
  const signedIn = (
    methods: string[],
    resource: ResourcePath,
    options: { body?: Gate; signInPage?: () => string } = {},
  ): Gate[] => [
    hostGate(config),
    originGate(config),
    preflightGate(methods),
    methodGate(methods),
    bearerGate({
      authenticate: deps.authenticate,
      config,
      metrics,
      resource,
      signInPage: options.signInPage,
    }),
    rateLimitGate(deps.limiter, metrics),
    noteProtocolVersion,
    ...(options.body ? [options.body, batchCharge] : []),
  ];
  const mcp = (path: string, resource: ResourcePath): Route => ({
    name: 'mcp',
    match: is(path),
    gates: signedIn(['POST', 'GET', 'DELETE'], resource, { body: json }),
    handler: mcpRoute(deps.endpoint, `${config.serverUrl}${resource}`),
  });

  const routes: Route[] = [
    { name: 'prm', match: is(PRM_PATH), gates: [], handler: metadataRoute(config, '') },
    { name: 'prm_mcp', match: is(`${PRM_PATH}/mcp`), gates: [], handler: metadataRoute(config, '/mcp') },
    {
      name: 'landing',
      match: (path, req) => path === '/' && wantsLandingPage(req),
      gates: [],
      handler: landingRoute(deps),
    },
    mcp('/mcp', '/mcp'),
    mcp('/', ''),
    { name: 'sse', match: is('/sse'), gates: signedIn(['GET'], ''), handler: sseStreamRoute(deps.sse) },
    {
      name: 'messages',
      match: is('/messages'),
      gates: signedIn(['POST'], '', { body: json }),
      handler: sseMessagesRoute(deps.sse, config.serverUrl),
    },
    {
      name: 'order',
      match: (path) => path.startsWith('/orders/'),
      gates: signedIn(['GET'], '', { signInPage: () => signInPage(config.serverUrl) }),
      handler: ordersRoute(deps.store),
      template: '/orders/{id}',
    },
    { name: 'healthz', match: is('/healthz'), gates: [], handler: healthzRoute, quiet: true, probe: true },
    { name: 'readyz', match: is('/readyz'), gates: [probeHost], handler: readyzRoute(deps), probe: true },
    {
      name: 'metrics',
      match: is('/metrics'),
      gates: [probeHost],
      handler: metricsRoute(metrics),
      quiet: true,
      probe: true,
    },
  ];
  const notFound: Route = {
    name: 'unknown',
    match: () => true,
    gates: [],
    handler: notFoundRoute(config.serverUrl),
  };

  let inFlight = 0;

  async function run(route: Route, x: Exchange): Promise<void> {
    for (const gate of route.gates) {
      const passed = gate(x);
      // Most gates answer synchronously: no microtask for them.
      if (!(typeof passed === 'boolean' ? passed : await passed)) return;
    }
    await route.handler(x);
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
    const route = routes.find((r) => r.match(url.pathname, req)) ?? notFound;
    const log: Exchange['log'] = { route: route.name };
    // The in-flight count: +1 now, -1 when the request ends or turns into a long-lived stream.
    inFlight += 1;
    const x: Exchange = {
      req,
      res,
      url,
      log,
      streaming: () => {
        if (log.stream) return;
        log.stream = true;
        inFlight -= 1;
      },
    };
    // Answered before the whole body was read (refused, e.g. 401): Node then reads and discards
    // the rest to keep the connection. A client that takes longer than UNREAD_BODY_GRACE_MS to
    // send it (a slow or hostile one may never finish) is disconnected.
    res.on('finish', () => {
      if (req.complete) return;
      const timer = setTimeout(() => req.socket.destroy(), UNREAD_BODY_GRACE_MS).unref();
      req.once('end', () => clearTimeout(timer));
      req.socket.once('close', () => clearTimeout(timer));
    });
    // The span (when tracing) is the active one for the gates, the handler and the request log line.
    const http =
      deps.tracing && !route.probe
        ? startHttpSpan(req, res, {
            route: route === notFound ? undefined : (route.template ?? url.pathname),
            path: url.pathname,
          })
        : undefined;
    const closed = () => {
      if (!log.stream) inFlight -= 1;
      logRequest(x, { started, quiet: route.quiet }, { logger, metrics });
    };
    res.on('close', http ? context.bind(http.context, closed) : closed);
    const served = http ? context.with(http.context, run, undefined, route, x) : run(route, x);
    served.catch((err: unknown) => {
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
    get inFlight() {
      return inFlight;
    },
  };
}
