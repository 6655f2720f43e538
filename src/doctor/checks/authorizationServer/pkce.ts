/** PKCE with S256 is advertised: clients refuse authorization servers that do not. */
import { check } from '../../check.js';
import type { CheckResult } from '../../types.js';

export function checkPkce(meta: Record<string, unknown>): CheckResult {
  const c = check('pkce', 'PKCE S256 supported');
  const methods = meta.code_challenge_methods_supported;
  if (Array.isArray(methods) && methods.includes('S256')) {
    return c.pass(`code_challenge_methods_supported=${JSON.stringify(methods)}`);
  }
  return c.fail(
    'clients refuse authorization servers that do not advertise S256',
    'enable PKCE S256 (Keycloak: a pkce-enforcer client policy; see docs/keycloak.md)',
  );
}
