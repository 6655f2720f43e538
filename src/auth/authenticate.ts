/**
 * The bearer check as one pipeline, each step in its own module and failing with a typed
 * {@link AuthError}: extract → verify (signature, issuer, audience, expiry) → principal → scope.
 *
 * @example
 * ```ts
 * const authenticate = createAuthenticator({ keys, ...config });
 * const principal = await authenticate(req.headersDistinct.authorization); // or throws AuthError
 * ```
 */
import { extractBearer } from './bearer/extract.js';
import { requireScope } from './bearer/scope.js';
import { acceptedAudiences, verifyAccessToken } from './bearer/verify.js';
import type { KeyStore } from './jwks/keyStore.js';
import { type ClaimsConfig, type Principal, principalFromClaims } from './principal.js';

export interface AuthenticatorOptions extends ClaimsConfig {
  keys: Pick<KeyStore, 'getKey'>;
  issuer: string;
  audiences: readonly string[];
  clockSkewSeconds: number;
  requiredScope: string;
}

export type Authenticator = (authorization: string | string[] | undefined) => Promise<Principal>;

export function createAuthenticator(o: AuthenticatorOptions): Authenticator {
  const verifyOptions = { ...o, accepted: acceptedAudiences(o.audiences) };
  return async (authorization) => {
    const header =
      Array.isArray(authorization) && authorization.length === 1 ? authorization[0] : authorization;
    const token = extractBearer(header);
    const claims = await verifyAccessToken(token, verifyOptions);
    const principal = principalFromClaims(claims, o);
    requireScope(principal.scopes, o.requiredScope);
    return principal;
  };
}
