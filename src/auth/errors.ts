/**
 * Typed failures of the bearer check. Each one decides the HTTP status, the
 * `WWW-Authenticate` challenge and the reason written to logs and metrics.
 */

/** Which challenge to send. */
export type AuthErrorKind =
  /** No credentials at all (or a non-Bearer scheme): 401, challenge without `error`. */
  | 'missing_token'
  /** Malformed request, e.g. two Authorization headers: 400 `invalid_request`. */
  | 'invalid_request'
  /** Token present but not acceptable: 401 `invalid_token`. */
  | 'invalid_token'
  /** Valid token without the needed scope: 403 `insufficient_scope`. */
  | 'insufficient_scope'
  /** Keys could not be obtained from the authorization server and none are cached: 503. */
  | 'unavailable';

/** Why, for logs and the `auth_failures_total{reason}` metric. Never contains token material. */
export type AuthFailureReason =
  | 'no_credentials'
  | 'wrong_scheme'
  | 'multiple_authorization_headers'
  | 'empty_token'
  | 'oversized_token'
  | 'malformed'
  | 'algorithm'
  | 'unknown_kid'
  | 'signature'
  | 'expired'
  | 'not_yet_valid'
  | 'issuer'
  | 'audience'
  | 'missing_claim'
  | 'token_type'
  | 'email_unverified'
  | 'key_bound'
  | 'scope'
  | 'jwks_unavailable';

const STATUS: Record<AuthErrorKind, number> = {
  missing_token: 401,
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  unavailable: 503,
};

export class AuthError extends Error {
  constructor(
    readonly kind: AuthErrorKind,
    readonly reason: AuthFailureReason,
    /** Safe to show to the client (goes into `error_description`). */
    readonly description: string,
  ) {
    super(description);
    this.name = 'AuthError';
  }

  get status(): number {
    return STATUS[this.kind];
  }
}
