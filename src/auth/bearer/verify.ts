/**
 * Step 2 of the bearer check: verify the JWT with `jose` — signature against the issuer's keys
 * (asymmetric algorithms only), then `iss`, `aud`, `exp`/`nbf` — and translate every failure into
 * a typed {@link AuthError} with a precise reason.
 */
import { errors, type JWTPayload, jwtVerify, type ProtectedHeaderParameters } from 'jose';
import { AuthError } from '../errors.js';
import { JwksUnavailableError, type KeyStore } from '../jwks/keyStore.js';
import { requireAccessTokenType } from './tokenType.js';

/** Asymmetric JWS algorithms only: `none` and HMAC (`HS*`) can never verify. */
export const ALLOWED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

export interface VerifyOptions {
  keys: Pick<KeyStore, 'getKey'>;
  issuer: string;
  audiences: readonly string[];
  /** `acceptedAudiences(audiences)`, when the caller computed it once already. */
  accepted?: readonly string[];
  clockSkewSeconds: number;
  /** Header `typ` must be `at+jwt` (RFC 9068); otherwise `JWT`, `at+jwt` or none. */
  requireAtJwt: boolean;
}

/**
 * The audiences a token may carry. An origin-only audience (`https://mcp.example.com`) also
 * matches its trailing-slash form (`https://mcp.example.com/`), which `new URL(x).href` produces
 * and several clients send as `resource`; any other variant is refused.
 */
export function acceptedAudiences(audiences: readonly string[]): string[] {
  const out = new Set(audiences);
  for (const a of audiences) {
    try {
      const u = new URL(a);
      if (u.pathname === '/' && !a.endsWith('/')) out.add(`${a}/`);
    } catch {
      // not a URL (e.g. a Keycloak client id): exact match only
    }
  }
  return [...out];
}

export async function verifyAccessToken(token: string, options: VerifyOptions): Promise<JWTPayload> {
  let payload: JWTPayload;
  let protectedHeader: ProtectedHeaderParameters;
  try {
    ({ payload, protectedHeader } = await jwtVerify(token, options.keys.getKey, {
      algorithms: ALLOWED_ALGORITHMS,
      issuer: options.issuer,
      audience: [...(options.accepted ?? acceptedAudiences(options.audiences))],
      clockTolerance: options.clockSkewSeconds,
      requiredClaims: ['iss', 'aud', 'exp', 'sub'],
    }));
  } catch (err) {
    throw toAuthError(err, options);
  }
  requireAccessTokenType(protectedHeader, payload, options.requireAtJwt);
  // A sender-constrained token (RFC 9449 DPoP, RFC 8705 mTLS: `cnf`) is only good with its proof,
  // which this server does not check: accepting it as a bearer token would undo the binding.
  if (payload.cnf !== undefined) {
    throw new AuthError(
      'invalid_token',
      'key_bound',
      'The token is bound to a key (cnf); this server accepts bearer tokens only',
    );
  }
  return payload;
}

function toAuthError(err: unknown, options: VerifyOptions): AuthError {
  if (err instanceof JwksUnavailableError) {
    return new AuthError('unavailable', 'jwks_unavailable', 'The authorization server keys are unavailable');
  }
  if (err instanceof errors.JWTExpired) {
    return new AuthError('invalid_token', 'expired', 'The access token expired');
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'iss':
        return new AuthError('invalid_token', 'issuer', `The token issuer is not ${options.issuer}`);
      case 'aud':
        return new AuthError(
          'invalid_token',
          'audience',
          `The token audience does not include this server (${options.audiences.join(' or ')})`,
        );
      case 'nbf':
        return new AuthError('invalid_token', 'not_yet_valid', 'The access token is not valid yet');
      default:
        if (err.reason === 'missing') {
          return new AuthError(
            'invalid_token',
            'missing_claim',
            `The access token has no "${err.claim}" claim`,
          );
        }
        return new AuthError(
          'invalid_token',
          'malformed',
          `The access token claim "${err.claim}" is invalid`,
        );
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return new AuthError('invalid_token', 'algorithm', 'The token signing algorithm is not accepted');
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return new AuthError(
      'invalid_token',
      'unknown_kid',
      'The token was not signed by a known key of the issuer',
    );
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new AuthError('invalid_token', 'signature', 'The token signature is invalid');
  }
  return new AuthError('invalid_token', 'malformed', 'The access token is malformed');
}
