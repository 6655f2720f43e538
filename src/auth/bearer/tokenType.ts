/**
 * Part of step 2 of the bearer check: the token must be an access token. Keycloak marks ID and
 * refresh tokens in the payload (`typ: ID`, `Refresh`); RFC 9068 marks JWT access tokens in the
 * header (`typ: at+jwt`). Keycloak's access tokens carry header `typ: JWT` unless its client
 * option "Use at+jwt type for access tokens" is on, so `at+jwt` is required only when asked for
 * (`MCP_REQUIRE_AT_JWT`); a header naming any other kind of JWT (`dpop+jwt`, `logout+jwt` …) is
 * refused either way.
 */
import type { JWTPayload, ProtectedHeaderParameters } from 'jose';
import { AuthError } from '../errors.js';

/** `application/at+jwt` and `at+jwt` are the same media type (RFC 7515 §4.1.9). */
const mediaType = (typ: string) => typ.toLowerCase().replace(/^application\//, '');

export function requireAccessTokenType(
  header: ProtectedHeaderParameters,
  payload: JWTPayload,
  requireAtJwt: boolean,
): void {
  if (typeof payload.typ === 'string' && !['bearer', 'at+jwt'].includes(payload.typ.toLowerCase())) {
    throw new AuthError('invalid_token', 'token_type', `A ${payload.typ} token is not an access token`);
  }
  const typ = header.typ === undefined ? undefined : mediaType(String(header.typ));
  if (requireAtJwt ? typ !== 'at+jwt' : typ !== undefined && typ !== 'jwt' && typ !== 'at+jwt') {
    throw new AuthError(
      'invalid_token',
      'token_type',
      requireAtJwt
        ? 'The token is not a JWT access token (header typ must be at+jwt)'
        : `A token with header typ ${String(header.typ).slice(0, 40)} is not an access token`,
    );
  }
}
