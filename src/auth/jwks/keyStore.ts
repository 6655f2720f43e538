/**
 * The authorization server's signing keys, for `jose.jwtVerify`.
 *
 * - Finds `jwks_uri` from the issuer's metadata (OIDC discovery, then RFC 8414), unless an
 *   explicit JWKS URL is configured (private networks: keys fetched internally, issuer stays public).
 * - Caches the key set; refreshes it in the background after `maxAgeMs`. When a refresh fails the
 *   cached keys stay in use (`status().state === 'degraded'`), so an authorization-server outage
 *   does not log every user out.
 * - An unknown `kid` triggers at most one refetch per `cooldownMs`, so a flood of forged `kid`s
 *   cannot become a flood of requests to the authorization server.
 */
import {
  createLocalJWKSet,
  errors,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type LocalJWKSet,
} from 'jose';
import { fetchJson } from './fetchJson.js';

export interface KeyStoreOptions {
  issuer: string;
  jwksUrl?: string | undefined;
  /** Age after which the cached set is refreshed (in the background while cached keys still work). */
  maxAgeMs?: number;
  /** Minimum time between two fetches caused by unknown `kid`s. */
  cooldownMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

export interface KeyStoreStatus {
  /** `ready`: fresh keys; `degraded`: using cached keys, last refresh failed; `unavailable`: no keys. */
  state: 'ready' | 'degraded' | 'unavailable';
  jwksUrl: string | undefined;
  keyIds: string[];
  fetchedAt: string | undefined;
  lastError: string | undefined;
}

/** Where an RFC 8414 client and an OIDC client look for the issuer's metadata, OIDC first. */
export function metadataUrls(issuer: string): string[] {
  const u = new URL(issuer);
  const path = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  return [
    `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`,
    `${u.origin}/.well-known/oauth-authorization-server${path}`,
  ];
}

export class KeyStore {
  private readonly opts: Required<Omit<KeyStoreOptions, 'jwksUrl'>> & { jwksUrl?: string | undefined };
  private jwksUrl: string | undefined;
  private local: LocalJWKSet | undefined;
  private fetchedAt = 0;
  private lastAttempt = 0;
  private lastError: string | undefined;
  private inflight: Promise<void> | undefined;
  private keySet = '';
  private keyGeneration = 0;

  constructor(options: KeyStoreOptions) {
    this.opts = { maxAgeMs: 10 * 60_000, cooldownMs: 30_000, timeoutMs: 5000, now: Date.now, ...options };
    this.jwksUrl = options.jwksUrl;
  }

  /** Key resolver for `jwtVerify`. Throws `errors.JWKSNoMatchingKey` for an unknown `kid` after a refetch. */
  readonly getKey = async (header: JWSHeaderParameters, token: Parameters<LocalJWKSet>[1]) => {
    const now = this.opts.now();
    if (!this.local) {
      await this.refresh();
    } else if (now - this.fetchedAt > this.opts.maxAgeMs && now - this.lastAttempt > this.opts.cooldownMs) {
      void this.refresh().catch(() => {}); // stale: refresh in the background, keep serving cached keys
    }
    const local = this.local;
    if (!local) throw new JwksUnavailableError(this.lastError ?? 'no keys');
    try {
      return await local(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || now - this.lastAttempt < this.opts.cooldownMs)
        throw err;
      await this.refresh().catch(() => {});
      if (!this.local) throw err;
      return this.local(header, token);
    }
  };

  /** Changes whenever a fetch brings a different key set (cached verifications are then void). */
  get generation(): number {
    return this.keyGeneration;
  }

  /** Fetches keys now (coalescing concurrent callers). Rejects when nothing could be fetched. */
  refresh(): Promise<void> {
    this.inflight ??= this.doRefresh().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  status(): KeyStoreStatus {
    const keyIds = this.local
      ? this.local
          .jwks()
          .keys.map((k) => k.kid)
          .filter((k): k is string => typeof k === 'string')
      : [];
    return {
      state: !this.local ? 'unavailable' : this.lastError ? 'degraded' : 'ready',
      jwksUrl: this.jwksUrl,
      keyIds,
      fetchedAt: this.fetchedAt ? new Date(this.fetchedAt).toISOString() : undefined,
      lastError: this.lastError,
    };
  }

  private async doRefresh(): Promise<void> {
    this.lastAttempt = this.opts.now();
    try {
      const url = this.jwksUrl ?? (await this.discoverJwksUrl());
      const doc = await fetchJson(url, { timeoutMs: this.opts.timeoutMs });
      const local = createLocalJWKSet(doc as JSONWebKeySet); // validates the set's shape
      const keySet = JSON.stringify(local.jwks().keys);
      if (keySet !== this.keySet) {
        this.keySet = keySet;
        this.keyGeneration += 1;
      }
      this.jwksUrl = url;
      this.local = local;
      this.fetchedAt = this.opts.now();
      this.lastError = undefined;
    } catch (err) {
      this.lastError = (err as Error).message;
      throw err;
    }
  }

  private async discoverJwksUrl(): Promise<string> {
    const problems: string[] = [];
    for (const url of metadataUrls(this.opts.issuer)) {
      try {
        const meta = (await fetchJson(url, { timeoutMs: this.opts.timeoutMs })) as Record<string, unknown>;
        if (meta.issuer !== this.opts.issuer) {
          problems.push(
            `${url} says issuer ${JSON.stringify(meta.issuer)}, not KC_ISSUER ${JSON.stringify(this.opts.issuer)} (they must match byte for byte)`,
          );
          continue;
        }
        if (typeof meta.jwks_uri !== 'string') {
          problems.push(`${url} has no jwks_uri`);
          continue;
        }
        return meta.jwks_uri;
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
    throw new Error(`cannot discover jwks_uri: ${problems.join('; ')}`);
  }
}

/** No key set could be fetched and none is cached. */
export class JwksUnavailableError extends Error {
  constructor(detail: string) {
    super(`signing keys unavailable: ${detail}`);
    this.name = 'JwksUnavailableError';
  }
}
