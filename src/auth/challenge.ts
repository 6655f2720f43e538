/**
 * Builds RFC 6750 / RFC 9728 `WWW-Authenticate: Bearer …` challenges.
 */
import type { AuthError } from './errors.js';

export interface ChallengeParams {
  resourceMetadata: string;
  scope?: string;
  error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  errorDescription?: string;
}

/** Quoted-string per RFC 9110: backslash-escape `"` and `\`, drop control characters. */
function quote(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  return `"${value.replace(/[\u0000-\u001f\u007f]/g, ' ').replace(/["\\]/g, '\\$&')}"`;
}

export function bearerChallenge(p: ChallengeParams): string {
  const parts: string[] = [];
  if (p.error) parts.push(`error=${quote(p.error)}`);
  if (p.errorDescription) parts.push(`error_description=${quote(p.errorDescription)}`);
  parts.push(`resource_metadata=${quote(p.resourceMetadata)}`);
  if (p.scope) parts.push(`scope=${quote(p.scope)}`);
  return `Bearer ${parts.join(', ')}`;
}

/** The challenge that goes with an {@link AuthError} (none for `unavailable`). */
export function challengeFor(err: AuthError, resourceMetadata: string, scope: string): string | undefined {
  switch (err.kind) {
    case 'missing_token':
      return bearerChallenge({ resourceMetadata, scope });
    case 'invalid_request':
    case 'invalid_token':
    case 'insufficient_scope':
      return bearerChallenge({ resourceMetadata, scope, error: err.kind, errorDescription: err.description });
    case 'unavailable':
      return undefined;
  }
}
