/**
 * Step 1 of the bearer check: take the access token from the `Authorization` header, and only
 * from there (never from the query string or body, RFC 6750 §2.1 / MCP authorization spec).
 */
import { AuthError } from '../errors.js';

/**
 * Tokens longer than this are refused before any parsing (Keycloak tokens are 1–4 KB; the whole
 * header block is capped at 16 KiB by Node, answered 431).
 */
export const MAX_TOKEN_LENGTH = 12 * 1024;

export function extractBearer(header: string | string[] | undefined): string {
  if (header === undefined || header === '') {
    throw new AuthError('missing_token', 'no_credentials', 'No access token was provided');
  }
  if (Array.isArray(header)) {
    throw new AuthError(
      'invalid_request',
      'multiple_authorization_headers',
      'Send exactly one Authorization header',
    );
  }
  const match = /^([A-Za-z]+)(?: +(.*))?$/s.exec(header.trim());
  if (match?.[1]?.toLowerCase() !== 'bearer') {
    // RFC 6750 §3.1: an unsupported scheme is treated like no credentials (no error code).
    throw new AuthError('missing_token', 'wrong_scheme', 'Use the Bearer authentication scheme');
  }
  const token = (match[2] ?? '').trim();
  if (token === '') throw new AuthError('invalid_token', 'empty_token', 'The bearer token is empty');
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new AuthError('invalid_token', 'oversized_token', 'The bearer token is too large');
  }
  // Access tokens here are JWTs: three base64url parts, no padding (RFC 7515 compact form; the
  // signature may be empty so that `alg: none` is refused by name). Anything else, `token==`
  // included (a new cache key for the same token), is refused before parsing.
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) {
    throw new AuthError('invalid_token', 'malformed', 'The bearer token is malformed');
  }
  return token;
}
