/**
 * The authorization server, as the resource's metadata names it: a table of checks run in order.
 * Discovery comes first; without metadata the others cannot run.
 */
import { check } from '../../check.js';
import type { DoctorContext } from '../../context.js';
import type { CheckResult } from '../../types.js';
import { checkClientPaths } from './clientPaths.js';
import { checkDiscovery } from './discovery.js';
import { checkIssuerMatch } from './issuerMatch.js';
import { checkPkce } from './pkce.js';
import { checkRegistration } from './registration.js';
import { checkRfc9207 } from './rfc9207.js';

type MetadataCheck = (
  ctx: DoctorContext,
  issuer: string,
  meta: Record<string, unknown>,
) => CheckResult | Promise<CheckResult>;

const AFTER_DISCOVERY: MetadataCheck[] = [
  (ctx, issuer) => checkIssuerMatch(ctx, issuer),
  (_ctx, _issuer, meta) => checkPkce(meta),
  (_ctx, _issuer, meta) => checkRfc9207(meta),
  (ctx, _issuer, meta) => checkRegistration(ctx, meta),
];

export async function checkAuthorizationServer(ctx: DoctorContext): Promise<CheckResult[]> {
  const issuer = ctx.issuer;
  if (!issuer) return [check('as-discovery', 'authorization server discovery').skip('no issuer to check')];
  const discovery = await checkDiscovery(ctx, issuer);
  const meta = ctx.asMetadata;
  if (discovery.status !== 'pass' || !meta) return [discovery];
  const out = [discovery];
  for (const step of AFTER_DISCOVERY) out.push(await step(ctx, issuer, meta));
  out.push(...checkClientPaths(issuer, meta));
  return out;
}
