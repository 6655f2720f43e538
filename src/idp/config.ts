/**
 * Configuration of the embedded authorization server, parsed once from the environment.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import {
  ConfigError,
  type Env,
  parseInteger,
  parseList,
  parseUrl,
  read,
  requireHttpsInProduction,
} from '../config/config.js';

export interface IdpConfig {
  production: boolean;
  /** Issuer identifier, also the public base URL of every endpoint (no trailing slash). */
  issuer: string;
  host: string;
  port: number;
  dataDir: string;
  /** Resources (RFC 8707) tokens can be issued for: the MCP server's origin and `/mcp`. */
  resources: string[];
  /** The resource used when a request names none. */
  defaultResource: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** Extra exact redirect URIs allowed in dynamic registration. */
  extraRedirectUris: string[];
  /** Hosts whose Client ID Metadata Documents are fetched besides ChatGPT's, Claude's and VS Code's. */
  cimdTrustedHosts: string[];
  /** Requests per minute per client address and for all addresses together (0 = no limit). */
  limits: {
    loginsPerIp: number;
    logins: number;
    registrationsPerIp: number;
    registrations: number;
    authorizationsPerIp: number;
    authorizations: number;
  };
  /** Password hashes computed at once, and logins that may wait for one. */
  hashing: { concurrency: number; maxQueued: number };
  /** A registered client nothing was issued to expires after this. */
  unusedClientTtlSeconds: number;
  /** How often expired clients, interactions, sessions and tokens are deleted. */
  sweepIntervalSeconds: number;
  /** Redis for the rate-limit counters (`REDIS_URL`), shared with the resource server's. */
  redisUrl: string | undefined;
  redisKeyPrefix: string;
}

/** Half the cores, at least one, at most libuv's default pool of four threads. */
const defaultHashConcurrency = () => Math.min(4, Math.max(1, Math.floor(availableParallelism() / 2)));

/** The embedded server's issuer as configured (`IDP_ISSUER`, default `http://localhost:$IDP_PORT`). */
export function idpIssuerFrom(env: Env): string {
  const port = parseInteger(env, 'IDP_PORT', 4000, 1, 65535);
  const issuerRaw = read(env, 'IDP_ISSUER') ?? `http://localhost:${port}`;
  const issuerUrl = parseUrl('IDP_ISSUER', issuerRaw, 'https://auth.example.com');
  if (issuerUrl.pathname !== '/') {
    throw new ConfigError(
      'IDP_ISSUER',
      `"${issuerRaw}" has a path`,
      `use the bare origin ${issuerUrl.origin}`,
    );
  }
  return issuerUrl.origin;
}

/** A comma-separated list of bare host names (no scheme, port or path). */
function parseHosts(env: Env, name: string): string[] {
  const hosts = (parseList(env, name) ?? []).map((h) => h.toLowerCase());
  for (const host of hosts) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host)) {
      throw new ConfigError(
        name,
        `"${host}" is not a host name`,
        'list bare host names, e.g. clients.example.com',
      );
    }
  }
  return hosts;
}

export function loadIdpConfig(
  env: Env,
  rs: { serverUrl: string; production: boolean; redisUrl?: string | undefined; redisKeyPrefix?: string },
): IdpConfig {
  const perMinute = (name: string, fallback: number) => parseInteger(env, name, fallback, 0, 1_000_000);
  const port = parseInteger(env, 'IDP_PORT', 4000, 1, 65535);
  const issuerRaw = idpIssuerFrom(env);
  const issuerUrl = new URL(issuerRaw);
  requireHttpsInProduction(rs.production, 'IDP_ISSUER', issuerUrl);
  const extra = parseList(env, 'IDP_EXTRA_REDIRECT_URIS') ?? [];
  for (const uri of extra) parseUrl('IDP_EXTRA_REDIRECT_URIS', uri, 'https://app.example.com/callback');
  return {
    production: rs.production,
    issuer: issuerUrl.origin,
    host: read(env, 'IDP_HOST') ?? '127.0.0.1',
    port,
    dataDir: resolve(read(env, 'IDP_DATA_DIR') ?? `${read(env, 'DATA_DIR') ?? 'data'}/idp`),
    resources: [rs.serverUrl, `${rs.serverUrl}/`, `${rs.serverUrl}/mcp`],
    defaultResource: `${rs.serverUrl}/mcp`,
    accessTokenTtlSeconds: parseInteger(env, 'IDP_ACCESS_TOKEN_TTL_SECONDS', 3600, 60, 86_400),
    refreshTokenTtlSeconds: parseInteger(
      env,
      'IDP_REFRESH_TOKEN_TTL_SECONDS',
      30 * 86_400,
      3600,
      365 * 86_400,
    ),
    extraRedirectUris: extra,
    cimdTrustedHosts: parseHosts(env, 'IDP_CIMD_TRUSTED_HOSTS'),
    limits: {
      loginsPerIp: perMinute('IDP_LOGINS_PER_IP_PER_MINUTE', 30),
      logins: perMinute('IDP_LOGINS_PER_MINUTE', 120),
      registrationsPerIp: perMinute('IDP_REGISTRATIONS_PER_IP_PER_MINUTE', 60),
      registrations: perMinute('IDP_REGISTRATIONS_PER_MINUTE', 600),
      authorizationsPerIp: perMinute('IDP_AUTHORIZATIONS_PER_IP_PER_MINUTE', 120),
      authorizations: perMinute('IDP_AUTHORIZATIONS_PER_MINUTE', 6000),
    },
    hashing: {
      concurrency: parseInteger(env, 'IDP_PASSWORD_HASH_CONCURRENCY', defaultHashConcurrency(), 1, 64),
      maxQueued: parseInteger(env, 'IDP_PASSWORD_HASH_QUEUE', 32, 0, 10_000),
    },
    unusedClientTtlSeconds: parseInteger(env, 'IDP_UNUSED_CLIENT_TTL_SECONDS', 3600, 1, 30 * 86_400),
    sweepIntervalSeconds: parseInteger(env, 'IDP_SWEEP_INTERVAL_SECONDS', 600, 1, 86_400),
    redisUrl: rs.redisUrl,
    redisKeyPrefix: rs.redisKeyPrefix ?? 'sample-mcp:',
  };
}
