/**
 * Step 3 of the bearer check: who the validated token speaks for, and what they may see.
 */
import type { JWTPayload } from 'jose';

export interface Principal {
  issuer: string;
  subject: string;
  /** `iss|sub`: the identity sessions are bound to. */
  key: string;
  email: string | undefined;
  clientId: string | undefined;
  audience: string[];
  scopes: string[];
  roles: string[];
  staff: boolean;
  expiresAt: number;
}

export interface ClaimsConfig {
  emailClaim: string;
  rolesClaim: string;
  staffRole: string;
  staffScope: string;
}

/** Reads a dot path (`realm_access.roles`) from the claims. */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  let cur: unknown = claims;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** `scope` (RFC 8693/9068, space separated) or `scp` (array, some providers). */
export function scopesOf(claims: JWTPayload): string[] {
  if (typeof claims.scope === 'string') return claims.scope.split(' ').filter(Boolean);
  if (Array.isArray(claims.scp)) return claims.scp.filter((s): s is string => typeof s === 'string');
  if (typeof claims.scp === 'string') return claims.scp.split(' ').filter(Boolean);
  return [];
}

export function principalFromClaims(claims: JWTPayload, c: ClaimsConfig): Principal {
  const scopes = scopesOf(claims);
  const rolesRaw = claimAt(claims, c.rolesClaim);
  const roles = Array.isArray(rolesRaw) ? rolesRaw.filter((r): r is string => typeof r === 'string') : [];
  const emailRaw = claimAt(claims, c.emailClaim);
  const email =
    typeof emailRaw === 'string' && emailRaw.includes('@') ? emailRaw.trim().toLowerCase() : undefined;
  const clientId =
    typeof claims.azp === 'string'
      ? claims.azp
      : typeof claims.client_id === 'string'
        ? claims.client_id
        : undefined;
  const issuer = claims.iss as string;
  const subject = claims.sub as string;
  return {
    issuer,
    subject,
    key: `${issuer}|${subject}`,
    email,
    clientId,
    audience: Array.isArray(claims.aud) ? claims.aud : claims.aud ? [claims.aud] : [],
    scopes,
    roles,
    staff: roles.includes(c.staffRole) || scopes.includes(c.staffScope),
    expiresAt: claims.exp as number,
  };
}
