/**
 * Configuration: read once from the environment (and an optional `.env`), validated, and
 * frozen into a typed {@link Config}. Anything wrong stops start-up with a {@link ConfigError}
 * whose one-line message names the variable and the fix.
 *
 * @example
 * ```ts
 * const config = loadConfig(process.env); // throws ConfigError naming the variable and the fix
 * console.log(config.audiences); // ['https://mcp.example.com', 'https://mcp.example.com/mcp']
 * ```
 */
import { resolve } from 'node:path';
import { MCP_SCOPE, STAFF_ROLE, STAFF_SCOPE } from '../auth/scopes.js';
import { isLoopbackHostname } from '../web/loopback.js';
import { loadTelemetryConfig, type TelemetryConfig } from './telemetry.js';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
    fix: string,
  ) {
    super(`${variable}: ${problem}. Fix: ${fix}`);
    this.name = 'ConfigError';
  }
}

export interface Config {
  /** `production` turns dev conveniences into start-up errors. */
  readonly production: boolean;
  /** Public origin users paste into ChatGPT, without trailing slash, e.g. `https://mcp.example.com`. */
  readonly serverUrl: string;
  /** Authorization server issuer, byte-exact as in its metadata. */
  readonly issuer: string;
  /** JWKS URL to fetch keys from; `undefined` means: discover it from the issuer's metadata. */
  readonly jwksUrl: string | undefined;
  /** Accepted token audiences, primary first (`MCP_AUDIENCE`, then `MCP_ALT_AUDIENCE`). */
  readonly audiences: readonly string[];
  readonly host: string;
  readonly port: number;
  /** SQLite file with the orders (`ORDERS_STORE=sqlite`). */
  readonly ordersDb: string;
  /** Which order store: the embedded SQLite file, or PostgreSQL at `databaseUrl`. */
  readonly ordersStore: 'sqlite' | 'postgres';
  /** `postgres://…` (contains a password: never logged). */
  readonly databaseUrl: string | undefined;
  readonly databasePoolMax: number;
  readonly databaseStatementTimeoutMs: number;
  /** Browser origins allowed to call the MCP endpoints (exact `scheme://host[:port]` strings). */
  readonly allowedOrigins: readonly string[];
  /** Also allow any loopback origin (`http://localhost:*`, `http://127.0.0.1:*`, `http://[::1]:*`). */
  readonly allowLoopbackOrigins: boolean;
  /** Host names (no port) accepted in the `Host` header of MCP requests. */
  readonly allowedHosts: readonly string[];
  readonly maxBodyBytes: number;
  readonly clockSkewSeconds: number;
  /** Minimum seconds between two JWKS fetches caused by an unknown `kid`. */
  readonly jwksCooldownSeconds: number;
  /** Seconds after which cached keys are refreshed in the background. */
  readonly jwksMaxAgeSeconds: number;
  readonly requiredScope: string;
  readonly staffScope: string;
  readonly staffRole: string;
  /** Dot path of the claim holding the user's e-mail. */
  readonly emailClaim: string;
  /** A token with an e-mail must say `email_verified: true`. */
  readonly requireEmailVerified: boolean;
  /** The token's header `typ` must be `at+jwt` (RFC 9068). */
  readonly requireAtJwt: boolean;
  /** Dot path of the claim holding the user's roles (array of strings). */
  readonly rolesClaim: string;
  /** Open a session (`Mcp-Session-Id`) on 2025-era `initialize`; `false` serves everything stateless. */
  readonly sessions: boolean;
  /** Answer 2025-era session POSTs with JSON bodies (`true`) or SSE streams (`false`). */
  readonly jsonResponses: boolean;
  readonly sessionIdleSeconds: number;
  /** A session id is refused after this long, however active (the client then starts a new one). */
  readonly sessionMaxAgeSeconds: number;
  /** Sessions held in memory per replica (least recently used first out). */
  readonly maxSessions: number;
  /** Sessions one user (`iss|sub`) may hold; opening another ends that user's least recently used. */
  readonly maxSessionsPerUser: number;
  /** Legacy SSE streams one user may hold open in this process; a new one closes their oldest. */
  readonly maxSseStreamsPerUser: number;
  /**
   * Key that signs session ids so every replica can validate them (required with Redis);
   * `undefined`: a random key per process (sessions then live on one replica).
   */
  readonly sessionSecret: string | undefined;
  /** Redis for state shared between replicas (`REDIS_URL`); `undefined` keeps it in memory. */
  readonly redisUrl: string | undefined;
  /** Prefix of every Redis key and channel, so several deployments can share one Redis. */
  readonly redisKeyPrefix: string;
  /** Requests per user per minute on the MCP routes (0 = no limit). */
  readonly rateLimitPerMinute: number;
  /** On SIGTERM, how long in-flight requests may take before streams and connections are closed. */
  readonly shutdownGraceSeconds: number;
  /** A client must send its request headers within this time (slowloris protection). */
  readonly headersTimeoutMs: number;
  /** A client must send its whole request (headers and body) within this time; responses, streams included, are not limited. */
  readonly requestTimeoutMs: number;
  /** Open connections at most; beyond, new ones are closed at once. */
  readonly maxConnections: number;
  /** A legacy SSE stream is closed after this long (the client opens a new one). */
  readonly sseMaxLifetimeSeconds: number;
  readonly logLevel: string;
  /** OpenTelemetry export from the standard `OTEL_*` variables (off unless an OTLP endpoint is set). */
  readonly telemetry: TelemetryConfig;
}

export type Env = Record<string, string | undefined>;

export function read(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

export function parseUrl(name: string, value: string, example: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, `"${value}" is not an absolute URL`, `set it to e.g. ${example}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(name, `"${value}" must use http or https`, `set it to e.g. ${example}`);
  }
  if (url.hash || url.search || url.username || url.password) {
    throw new ConfigError(
      name,
      `"${value}" must not contain a query, fragment or credentials`,
      `set it to e.g. ${example}`,
    );
  }
  return url;
}

export function parseInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(
      name,
      `"${raw}" is not a whole number between ${min} and ${max}`,
      `unset it or fix it`,
    );
  }
  return n;
}

export function parseBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = read(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `"${raw}" is not a boolean`, 'use true or false');
}

export function parseList(env: Env, name: string): string[] | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function requireHttpsInProduction(production: boolean, name: string, url: URL): void {
  if (production && url.protocol !== 'https:' && !isLoopbackHostname(url.hostname)) {
    throw new ConfigError(
      name,
      `"${url.href}" is plain http in production (NODE_ENV=production)`,
      'use the https URL your proxy serves',
    );
  }
}

/**
 * Parses and validates the configuration.
 *
 * @param env - usually `process.env` (after `.env` was loaded)
 * @throws ConfigError naming the variable and the fix
 */
export function loadConfig(env: Env): Config {
  const production = env.NODE_ENV === 'production';
  const port = parseInteger(env, 'PORT', 3000, 1, 65535);
  const host = read(env, 'HOST') ?? '127.0.0.1';

  const serverUrlRaw = read(env, 'MCP_SERVER_URL') ?? `http://localhost:${port}`;
  const server = parseUrl('MCP_SERVER_URL', serverUrlRaw, 'https://mcp.example.com');
  if (server.pathname !== '/') {
    throw new ConfigError(
      'MCP_SERVER_URL',
      `"${serverUrlRaw}" has a path; it must be the bare origin users paste (the MCP endpoint is <origin>/mcp)`,
      `set it to ${server.origin}`,
    );
  }
  requireHttpsInProduction(production, 'MCP_SERVER_URL', server);
  const serverUrl = server.origin;

  const issuerRaw = read(env, 'KC_ISSUER');
  if (issuerRaw === undefined) {
    throw new ConfigError(
      'KC_ISSUER',
      'is not set',
      'set it to the issuer of your authorization server, byte-exact as in its metadata, e.g. https://auth.example.com/realms/mcp',
    );
  }
  const issuerUrl = parseUrl('KC_ISSUER', issuerRaw, 'https://auth.example.com/realms/mcp');
  requireHttpsInProduction(production, 'KC_ISSUER', issuerUrl);
  // Kept verbatim: the issuer is compared byte for byte, so no normalisation.
  const issuer = issuerRaw;

  const jwksRaw = read(env, 'KC_JWKS_URL');
  const jwksUrl =
    jwksRaw === undefined
      ? undefined
      : parseUrl('KC_JWKS_URL', jwksRaw, 'http://keycloak:8080/realms/mcp/protocol/openid-connect/certs')
          .href;

  const audience = read(env, 'MCP_AUDIENCE') ?? serverUrl;
  const altAudience = read(env, 'MCP_ALT_AUDIENCE') ?? `${serverUrl}/mcp`;
  for (const [name, value] of [
    ['MCP_AUDIENCE', audience],
    ['MCP_ALT_AUDIENCE', altAudience],
  ] as const) {
    if (/\s/.test(value)) {
      throw new ConfigError(
        name,
        `"${value}" contains whitespace`,
        `set one audience string, e.g. ${serverUrl}`,
      );
    }
  }
  const audiences = [...new Set([audience, altAudience])];

  const dataDir = resolve(read(env, 'DATA_DIR') ?? 'data');
  const ordersDb = resolve(read(env, 'ORDERS_DB') ?? `${dataDir}/orders.sqlite`);

  const originsRaw = parseList(env, 'MCP_ALLOWED_ORIGINS');
  const allowedOrigins = [serverUrl];
  for (const o of originsRaw ?? []) {
    const u = parseUrl('MCP_ALLOWED_ORIGINS', o, 'http://localhost:6274');
    if (u.pathname !== '/') {
      throw new ConfigError('MCP_ALLOWED_ORIGINS', `"${o}" is not an origin`, `use ${u.origin}`);
    }
    allowedOrigins.push(u.origin);
  }
  const allowLoopbackOrigins = parseBoolean(env, 'MCP_ALLOW_LOOPBACK_ORIGINS', !production);

  const allowedHosts = [server.hostname, ...(parseList(env, 'MCP_ALLOWED_HOSTS') ?? [])].map((h) =>
    h.toLowerCase(),
  );

  const ordersStore = read(env, 'ORDERS_STORE') ?? 'sqlite';
  if (ordersStore !== 'sqlite' && ordersStore !== 'postgres') {
    throw new ConfigError(
      'ORDERS_STORE',
      `"${ordersStore}" is not a store`,
      'use sqlite (default) or postgres',
    );
  }
  const databaseUrl = read(env, 'DATABASE_URL');
  if (ordersStore === 'postgres') {
    if (!databaseUrl) {
      throw new ConfigError(
        'DATABASE_URL',
        'is not set (ORDERS_STORE=postgres)',
        'set it to postgres://user:password@host:5432/database',
      );
    }
    if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
      throw new ConfigError(
        'DATABASE_URL',
        'is not a postgres:// URL',
        'set it to postgres://user:password@host:5432/database',
      );
    }
  }

  const responseMode = read(env, 'MCP_RESPONSE_MODE') ?? 'json';
  if (responseMode !== 'json' && responseMode !== 'sse') {
    throw new ConfigError(
      'MCP_RESPONSE_MODE',
      `"${responseMode}" is not json or sse`,
      'use json (default) or sse',
    );
  }

  const redisUrl = read(env, 'REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\/[^/]/.test(redisUrl)) {
    throw new ConfigError(
      'REDIS_URL',
      'is not a redis:// or rediss:// URL',
      'set it to redis://host:6379/0 (or rediss:// for TLS), or unset it to keep state in memory',
    );
  }
  const sessionSecret = read(env, 'MCP_SESSION_SECRET');
  if (redisUrl !== undefined && sessionSecret === undefined) {
    throw new ConfigError(
      'MCP_SESSION_SECRET',
      'is not set, but REDIS_URL is: replicas must share the key that signs session ids',
      'set the same 32+ random characters on every replica, e.g. the output of: openssl rand -base64 48',
    );
  }
  if (sessionSecret !== undefined && sessionSecret.length < 32) {
    throw new ConfigError(
      'MCP_SESSION_SECRET',
      `is ${sessionSecret.length} characters; session ids signed with it could be forged`,
      'use at least 32 random characters, e.g. the output of: openssl rand -base64 48',
    );
  }

  const headersTimeoutMs = parseInteger(env, 'MCP_HEADERS_TIMEOUT_MS', 30_000, 500, 600_000);
  const requestTimeoutMs = parseInteger(env, 'MCP_REQUEST_TIMEOUT_MS', 60_000, 1000, 3_600_000);
  if (requestTimeoutMs < headersTimeoutMs) {
    throw new ConfigError(
      'MCP_REQUEST_TIMEOUT_MS',
      `${requestTimeoutMs} is less than MCP_HEADERS_TIMEOUT_MS (${headersTimeoutMs}): the headers are part of the request`,
      `set it to at least ${headersTimeoutMs}`,
    );
  }

  const logLevel = read(env, 'LOG_LEVEL') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `"${logLevel}" is not a level`, 'use one of error, warn, info, debug');
  }

  return Object.freeze({
    production,
    serverUrl,
    issuer,
    jwksUrl,
    audiences: Object.freeze(audiences),
    host,
    port,
    ordersDb,
    ordersStore,
    databaseUrl,
    databasePoolMax: parseInteger(env, 'DATABASE_POOL_MAX', 10, 1, 1000),
    databaseStatementTimeoutMs: parseInteger(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 5000, 100, 600_000),
    allowedOrigins: Object.freeze([...new Set(allowedOrigins)]),
    allowLoopbackOrigins,
    allowedHosts: Object.freeze([...new Set(allowedHosts)]),
    maxBodyBytes: parseInteger(env, 'MCP_MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    clockSkewSeconds: parseInteger(env, 'MCP_CLOCK_SKEW_SECONDS', 30, 0, 300),
    jwksCooldownSeconds: parseInteger(env, 'MCP_JWKS_COOLDOWN_SECONDS', 30, 1, 3600),
    jwksMaxAgeSeconds: parseInteger(env, 'MCP_JWKS_MAX_AGE_SECONDS', 600, 10, 86_400),
    requiredScope: read(env, 'MCP_REQUIRED_SCOPE') ?? MCP_SCOPE,
    staffScope: read(env, 'MCP_STAFF_SCOPE') ?? STAFF_SCOPE,
    staffRole: read(env, 'MCP_STAFF_ROLE') ?? STAFF_ROLE,
    emailClaim: read(env, 'MCP_EMAIL_CLAIM') ?? 'email',
    requireEmailVerified: parseBoolean(env, 'MCP_REQUIRE_EMAIL_VERIFIED', true),
    requireAtJwt: parseBoolean(env, 'MCP_REQUIRE_AT_JWT', false),
    rolesClaim: read(env, 'MCP_ROLES_CLAIM') ?? 'realm_access.roles',
    sessions: parseBoolean(env, 'MCP_SESSIONS', true),
    jsonResponses: (read(env, 'MCP_RESPONSE_MODE') ?? 'json') === 'json',
    sessionIdleSeconds: parseInteger(env, 'MCP_SESSION_IDLE_SECONDS', 1800, 10, 7 * 24 * 3600),
    sessionMaxAgeSeconds: parseInteger(env, 'MCP_SESSION_MAX_AGE_SECONDS', 86_400, 60, 30 * 24 * 3600),
    maxSessions: parseInteger(env, 'MCP_MAX_SESSIONS', 10_000, 1, 1_000_000),
    maxSessionsPerUser: parseInteger(env, 'MCP_MAX_SESSIONS_PER_USER', 100, 1, 1_000_000),
    maxSseStreamsPerUser: parseInteger(env, 'MCP_MAX_SSE_STREAMS_PER_USER', 10, 1, 10_000),
    sessionSecret,
    redisUrl,
    redisKeyPrefix: read(env, 'REDIS_KEY_PREFIX') ?? 'sample-mcp:',
    rateLimitPerMinute: parseInteger(env, 'MCP_RATE_LIMIT_PER_MINUTE', 600, 0, 1_000_000),
    shutdownGraceSeconds: parseInteger(env, 'MCP_SHUTDOWN_GRACE_SECONDS', 10, 0, 600),
    headersTimeoutMs,
    requestTimeoutMs,
    maxConnections: parseInteger(env, 'MCP_MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    sseMaxLifetimeSeconds: parseInteger(env, 'MCP_SSE_MAX_LIFETIME_SECONDS', 3600, 1, 7 * 86_400),
    logLevel,
    telemetry: loadTelemetryConfig(env),
  });
}
