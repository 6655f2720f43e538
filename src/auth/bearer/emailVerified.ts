/**
 * Step 3a of the bearer check: customers see the orders of the token's e-mail address, so that
 * address must be one the authorization server verified (`email_verified: true`, OIDC Core §5.1).
 * Otherwise anyone who can set their e-mail to a customer's — in Keycloak's account console, say —
 * would see that customer's orders. A token without an e-mail claim passes (it sees no customer's
 * orders). `MCP_REQUIRE_EMAIL_VERIFIED=false` turns this off for authorization servers that do not
 * issue the claim.
 */
import type { JWTPayload } from 'jose';
import { AuthError } from '../errors.js';
import { claimAt } from '../principal.js';

export function requireVerifiedEmail(claims: JWTPayload, emailClaim: string): void {
  if (claimAt(claims, emailClaim) === undefined) return;
  if (claims.email_verified !== true) {
    throw new AuthError(
      'invalid_token',
      'email_unverified',
      'The e-mail address in the token is not verified (email_verified is not true)',
    );
  }
}
