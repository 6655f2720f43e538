/** RFC 9207: the authorization response carries `iss`, so a client can tell which server answered. */
import { check } from '../../check.js';
import type { CheckResult } from '../../types.js';

export function checkRfc9207(meta: Record<string, unknown>): CheckResult {
  const c = check('rfc9207', 'RFC 9207 iss in authorization responses');
  if (meta.authorization_response_iss_parameter_supported === true) return c.pass();
  return c.fail(
    'without it ChatGPT uses per-connector redirect URIs and cannot check the response issuer',
    'enable authorization_response_iss_parameter_supported (Keycloak and the embedded server do)',
  );
}
