/**
 * The embedded authorization server on its own listener (default `http://localhost:4000`):
 * oidc-provider's endpoints, our login/consent pages, CORS for dynamic registration, and one log
 * line per request (path only: query strings carry codes and state).
 *
 * @example
 * ```ts
 * const idp = loadIdpConfig(process.env, { serverUrl: 'http://localhost:3000', production: false });
 * const as = await startAuthorizationServer(idp, { env: process.env, logger });
 * console.log(as.issuer); // http://localhost:4000
 * await as.close();
 * ```
 */
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { context } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import type Provider from 'oidc-provider';
import { connectRedis } from '../cluster/redis.js';
import { ConfigError } from '../config/config.js';
import { listenOnConfigured } from '../config/listen.js';
import type { Logger } from '../observability/logger.js';
import { clientAddressKey } from '../web/clientAddress.js';
import { sendHtml } from '../web/html.js';
import { startHttpSpan } from '../web/httpSpan.js';
import { urlOf } from '../web/listen.js';
import { isLoopbackHostname } from '../web/loopback.js';
import { clientLifetimes, openIdpDatabase, sweepExpired } from './adapter.js';
import { createCimdPolicy } from './cimd.js';
import type { IdpConfig } from './config.js';
import { createInteractionHandler } from './interactions.js';
import { loadOrCreateKeys } from './keys.js';
import { createIdpLimits, type IdpLimits } from './limits.js';
import { errorPage } from './pages.js';
import { createProvider } from './provider.js';
import { MAX_REGISTRATION_BODY_BYTES } from './registrationLimits.js';
import { DEV_ACCOUNTS, devUsers, type UserDirectory } from './users.js';

export interface AuthorizationServer {
  issuer: string;
  /** Where it listens. */
  url: string;
  provider: Provider;
  users: UserDirectory;
  server: Server;
  close(): Promise<void>;
}

const REGISTRATION_CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': 'Content-Type, Authorization',
  'access-control-max-age': '600',
};

/**
 * Accepts a `Host` that is the issuer's (`auth.example.com`, with its port if it has one); for a
 * loopback issuer (`http://localhost:4000`) any loopback name with the same port.
 */
function issuerHostCheck(issuer: string): (host: string | undefined) => boolean {
  const expected = new URL(issuer);
  const loopback = isLoopbackHostname(expected.hostname);
  return (host) => {
    if (!host) return false;
    let got: URL;
    try {
      got = new URL(`${expected.protocol}//${host}`);
    } catch {
      return false;
    }
    if (got.host === expected.host) return true;
    return loopback && isLoopbackHostname(got.hostname) && got.port === expected.port;
  };
}

/** Paths without a variable part: their own `http.route`. */
const STATIC_ROUTES = new Set([
  '/auth',
  '/token',
  '/reg',
  '/jwks',
  '/me',
  '/session/end',
  '/session/end/confirm',
  '/session/end/success',
  '/token/introspection',
  '/token/revocation',
  '/.well-known/openid-configuration',
  '/.well-known/oauth-authorization-server',
]);

/**
 * The `http.route` of an authorization-server path, with the variable segments (interaction ids,
 * client ids: values that identify a login or a client) as placeholders; `undefined` for any
 * other path, so no path a client makes up becomes a span name. The raw path is not recorded.
 */
export function idpRoute(path: string): string | undefined {
  if (STATIC_ROUTES.has(path)) return path;
  const interaction = /^\/interaction\/[^/]+(\/login|\/confirm)?$/.exec(path);
  if (interaction) return `/interaction/{uid}${interaction[1] ?? ''}`;
  if (/^\/auth\/[^/]+$/.test(path)) return '/auth/{uid}';
  if (/^\/reg\/[^/]+$/.test(path)) return '/reg/{client_id}';
  return undefined;
}

export async function startAuthorizationServer(
  config: IdpConfig,
  opts: {
    env: Record<string, string | undefined>;
    logger: Logger;
    /** An HTTP server span per request (OpenTelemetry configured for this process). */
    tracing?: boolean;
  },
): Promise<AuthorizationServer> {
  const { logger } = opts;
  const users = devUsers(opts.env, config.hashing);
  if (config.production && users.usesDevDefaults) {
    const which = DEV_ACCOUNTS.filter((a) => !opts.env[a.passwordEnv]?.trim()).map((a) => a.passwordEnv);
    throw new ConfigError(
      which[0] ?? 'IDP_ALICE_PASSWORD',
      'a dev default password is in use in production (NODE_ENV=production)',
      `set ${which.join(', ')} to real passwords, or use your own authorization server (KC_ISSUER)`,
    );
  }
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const keys = await loadOrCreateKeys(config.dataDir);
  const db = openIdpDatabase(join(config.dataDir, 'idp.sqlite'), clientLifetimes(config));
  const cimd = createCimdPolicy({
    trustedHosts: config.cimdTrustedHosts,
    onRefused: (url, reason) =>
      logger.warn(
        { event: 'cimd_refused', clientId: url.slice(0, 300), reason },
        'client metadata document refused',
      ),
  });
  let redis: Redis | undefined;
  try {
    redis = config.redisUrl ? await connectRedis(config.redisUrl) : undefined;
  } catch (err) {
    db.close();
    throw err;
  }
  const limits = createIdpLimits(config, redis);
  const provider = createProvider({ config, users, keys, db, cimd });
  const callback = provider.callback();
  const interactions = createInteractionHandler({ provider, users, keys, config, logger, cimd });

  provider.on('server_error', (_ctx, err) =>
    logger.error({ event: 'idp_server_error', err: err.message }, 'authorization server error'),
  );

  const hostAllowed = issuerHostCheck(config.issuer);
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    // oidc-provider builds its endpoint URLs from Host (and X-Forwarded-Host behind a proxy):
    // only the issuer's own host may appear there, or discovery could name an attacker's host.
    const forwarded = req.headers['x-forwarded-host'];
    if (!hostAllowed(req.headers.host) || (forwarded !== undefined && !hostAllowed(String(forwarded)))) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: 'invalid_request',
          error_description: `Host is not ${new URL(config.issuer).host}`,
        }),
      );
      return;
    }
    const url = new URL(req.url ?? '/', config.issuer);
    res.on('close', () => {
      logger.info(
        {
          event: 'idp_request',
          method: req.method,
          path: url.pathname.slice(0, 200),
          status: res.statusCode,
          durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100,
        },
        'idp request',
      );
    });
    try {
      if (await overBudget(limits, req, res, url.pathname)) return;
      if (url.pathname.startsWith('/interaction/')) {
        await interactions(req, res, url);
        return;
      }
      if (url.pathname === '/reg') {
        if (req.method === 'OPTIONS') {
          res.writeHead(204, REGISTRATION_CORS).end();
          return;
        }
        for (const [k, v] of Object.entries(REGISTRATION_CORS)) res.setHeader(k, v);
        const length = Number(req.headers['content-length'] ?? 0);
        if (req.method === 'POST' && length > MAX_REGISTRATION_BODY_BYTES) {
          res.writeHead(400, {
            'content-type': 'application/json',
            'cache-control': 'no-store',
            connection: 'close',
          });
          res.end(
            JSON.stringify({
              error: 'invalid_client_metadata',
              error_description: `the registration is ${length} bytes; at most ${MAX_REGISTRATION_BODY_BYTES}`,
            }),
          );
          return;
        }
      }
      callback(req, res);
    } catch (err) {
      logger.error(
        { event: 'idp_unhandled', err: (err as Error).message },
        'authorization server request failed',
      );
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal error');
    }
  };
  const server = createServer(
    opts.tracing
      ? (req, res) => {
          const path = new URL(req.url ?? '/', config.issuer).pathname;
          const http = startHttpSpan(req, res, { route: idpRoute(path), tracerName: 'sample-mcp/idp' });
          return context.with(http.context, handle, undefined, req, res);
        }
      : handle,
  );
  // Expired rows go periodically, not only at start-up: a long-running server must not keep
  // every abandoned interaction, session and unused client.
  const sweeper = setInterval(() => {
    try {
      const deleted = sweepExpired(db);
      if (deleted) logger.info({ event: 'idp_sweep', deleted }, 'expired authorization-server rows deleted');
    } catch (err) {
      logger.warn({ event: 'idp_sweep_failed', err: (err as Error).message }, 'sweep failed');
    }
  }, config.sweepIntervalSeconds * 1000).unref();
  try {
    await listenOnConfigured(server, config.port, config.host, 'IDP_PORT');
  } catch (err) {
    clearInterval(sweeper);
    db.close();
    redis?.disconnect();
    throw err;
  }
  return {
    issuer: config.issuer,
    url: urlOf(server),
    provider,
    users,
    server,
    async close() {
      clearInterval(sweeper);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      db.close();
      await redis?.quit().catch(() => redis?.disconnect());
    },
  };
}

/** How long a request over its budget waits for its 429. */
const REFUSAL_DELAY_MS = 1000;

/** Which budget a request is charged to, if any. */
function budgetOf(limits: IdpLimits, req: IncomingMessage, path: string) {
  if (path === '/auth') return { limiter: limits.authorization, what: 'sign-in requests', html: true };
  if (req.method !== 'POST') return undefined;
  if (path === '/reg') return { limiter: limits.registration, what: 'registrations', html: false };
  if (/^\/interaction\/[^/]+\/login$/.test(path))
    return { limiter: limits.login, what: 'sign-in attempts', html: true };
  return undefined;
}

/**
 * Login posts, new authorization requests and registrations are counted per client address and
 * in all, before any other work (no database read, no password hash); over budget, 429 with
 * `Retry-After`: an HTML page for the browser, OAuth JSON at `/reg`. Resumed authorizations
 * (`/auth/<uid>`, after a login) are not counted again.
 */
async function overBudget(
  limits: IdpLimits,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<boolean> {
  const budget = budgetOf(limits, req, path);
  if (!budget) return false;
  const rate = await budget.limiter.consume(clientAddressKey(req.socket.remoteAddress));
  if (rate.ok) return false;
  // The refusal waits a moment: a client that keeps N requests going is slowed to N a second
  // instead of taking the CPU with as many cheap refusals as the server can write.
  await new Promise((resolve) => setTimeout(resolve, REFUSAL_DELAY_MS).unref());
  if (res.destroyed) return true;
  const retryAfter = { 'retry-after': String(rate.retryAfterSeconds) };
  const wait = `Wait ${rate.retryAfterSeconds === 1 ? '1 second' : `${rate.retryAfterSeconds} seconds`} and try again`;
  if (budget.html) {
    sendHtml(
      res,
      429,
      errorPage('Too many requests', `Too many ${budget.what} from your network. ${wait}.`),
      { ...retryAfter, 'referrer-policy': 'no-referrer' },
    );
  } else {
    res.writeHead(429, { 'content-type': 'application/json', 'cache-control': 'no-store', ...retryAfter });
    res.end(
      JSON.stringify({
        error: 'temporarily_unavailable',
        error_description: `Too many ${budget.what} from your network. ${wait}`,
      }),
    );
  }
  return true;
}
