/**
 * The authorization server's metadata at every URL clients try for the issuer (RFC 8414 path
 * insertion, OIDC path insertion, OIDC path appending); the first answer is kept for the next checks.
 */
import { check, networkFail } from '../../check.js';
import type { DoctorContext } from '../../context.js';
import type { CheckResult } from '../../types.js';

/** The discovery URLs clients try for `issuer`, in the order they try them. */
export function discoveryUrls(issuer: string): string[] {
  const u = new URL(issuer);
  const p = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
  return p
    ? [
        `${u.origin}/.well-known/oauth-authorization-server${p}`,
        `${u.origin}/.well-known/openid-configuration${p}`,
        `${u.origin}${p}/.well-known/openid-configuration`,
      ]
    : [`${u.origin}/.well-known/oauth-authorization-server`, `${u.origin}/.well-known/openid-configuration`];
}

/** Fills `ctx.asMetadata` and `ctx.issuerMismatches`. */
export async function checkDiscovery(ctx: DoctorContext, issuer: string): Promise<CheckResult> {
  const urls = discoveryUrls(issuer);
  const seen: string[] = [];
  const failed: string[] = [];
  ctx.issuerMismatches = [];
  for (const url of urls) {
    try {
      const res = await ctx.http.request('as-metadata', url, { headers: { accept: 'application/json' } });
      const meta = res.json as Record<string, unknown> | undefined;
      if (res.status === 200 && meta) {
        seen.push(url);
        if (meta.issuer !== issuer) ctx.issuerMismatches.push(`${url} says ${JSON.stringify(meta.issuer)}`);
        ctx.asMetadata ??= meta;
      } else {
        failed.push(`${url} → HTTP ${res.status}`);
      }
    } catch (err) {
      return networkFail(
        'as-discovery',
        `authorization server at ${issuer}`,
        err,
        'check KC_ISSUER is the public URL of the authorization server',
      );
    }
  }
  if (!ctx.asMetadata) {
    return check('as-discovery', 'authorization server metadata').fail(
      '401 without prompt: no discovery URL answers for the issuer in the metadata',
      'set KC_ISSUER to the issuer your authorization server publishes (Keycloak: https://<host>/realms/<realm>)',
      [...seen, ...failed].join('; '),
    );
  }
  return check('as-discovery', 'authorization server metadata at the URLs clients try').pass(
    `${seen.length}/${urls.length} answer${failed.length ? ` (${failed.join('; ')}; clients move on)` : ''}`,
  );
}
