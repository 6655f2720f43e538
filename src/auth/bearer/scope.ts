/**
 * Step 4 of the bearer check: the token must carry the scope the endpoint needs.
 */
import { AuthError } from '../errors.js';

export function requireScope(granted: readonly string[], needed: string): void {
  if (!granted.includes(needed)) {
    throw new AuthError('insufficient_scope', 'scope', `The access token lacks the "${needed}" scope`);
  }
}
