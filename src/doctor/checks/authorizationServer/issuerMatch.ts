/** The issuer in the resource's metadata equals what the authorization server calls itself, byte for byte. */
import { check } from '../../check.js';
import type { DoctorContext } from '../../context.js';
import type { CheckResult } from '../../types.js';

export function checkIssuerMatch(ctx: DoctorContext, issuer: string): CheckResult {
  const c = check('issuer-match', 'authorization_servers[0] equals the issuer byte for byte');
  const wrong = ctx.issuerMismatches ?? [];
  if (wrong.length === 0) return c.pass(issuer);
  return c.fail(
    `401 without prompt: the metadata names ${JSON.stringify(issuer)} but the authorization server calls itself something else; clients compare them exactly (trailing slash, scheme, port)`,
    `set KC_ISSUER to ${JSON.stringify((ctx.asMetadata?.issuer as string) ?? '')} exactly`,
    wrong.join('; '),
  );
}
