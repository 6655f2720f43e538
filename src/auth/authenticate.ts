/**
 * The bearer check as one pipeline, each step in its own module and failing with a typed
 * {@link AuthError}: extract → verify (signature, issuer, audience, expiry, token type) → verified
 * e-mail → principal → scope.
 * A token that passed verification is remembered until it expires (at most a minute, and only
 * while the key set is unchanged), so repeat requests skip the signature check; the scope is
 * checked on every request.
 *
 * @example
 * ```ts
 * const config = loadConfig(process.env);
 * const keys = new KeyStore({ issuer: config.issuer, jwksUrl: config.jwksUrl });
 * const authenticate = createAuthenticator({ ...config, keys });
 * const principal = await authenticate(req.headersDistinct.authorization); // or throws AuthError
 * console.log(principal.key); // 'https://auth.example.com/realms/mcp|<sub>': sessions are bound to it
 * ```
 */

import { VerifiedTokenCache } from './bearer/cache.js';
import { requireVerifiedEmail } from './bearer/emailVerified.js';
import { extractBearer } from './bearer/extract.js';
import { requireScope } from './bearer/scope.js';
import { acceptedAudiences, verifyAccessToken } from './bearer/verify.js';
import type { KeyStore } from './jwks/keyStore.js';
import { type ClaimsConfig, type Principal, principalFromClaims } from './principal.js';

export interface AuthenticatorOptions extends ClaimsConfig {
  keys: Pick<KeyStore, 'getKey' | 'generation'>;
  issuer: string;
  audiences: readonly string[];
  clockSkewSeconds: number;
  requiredScope: string;
  requireAtJwt: boolean;
  /** E-mail-based access needs `email_verified: true`. */
  requireEmailVerified: boolean;
}

export type Authenticator = (authorization: string | string[] | undefined) => Promise<Principal>;

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const verifyOptions = { ...options, accepted: acceptedAudiences(options.audiences) };
  const cache = new VerifiedTokenCache({ maxEntries: 10_000, maxTtlMs: 60_000 });
  return async (authorization) => {
    const header =
      Array.isArray(authorization) && authorization.length === 1 ? authorization[0] : authorization;
    const token = extractBearer(header);
    let principal = cache.get(token, options.keys.generation);
    if (!principal) {
      const generation = options.keys.generation;
      const claims = await verifyAccessToken(token, verifyOptions);
      if (options.requireEmailVerified) requireVerifiedEmail(claims, options.emailClaim);
      principal = principalFromClaims(claims, options);
      cache.set(token, principal, generation);
    }
    requireScope(principal.scopes, options.requiredScope);
    return principal;
  };
}
