/**
 * Dynamic client registration: advertised, and (unless `--no-register`) a trial registration
 * with ChatGPT's redirect URI succeeds; the client is kept for the login check.
 */
import { check, networkFail } from '../../check.js';
import type { DoctorContext } from '../../context.js';
import type { CheckResult } from '../../types.js';

const CHATGPT_REDIRECT = 'https://chatgpt.com/connector_platform_oauth_redirect';

export async function checkRegistration(
  ctx: DoctorContext,
  meta: Record<string, unknown>,
): Promise<CheckResult> {
  const reg = meta.registration_endpoint;
  if (typeof reg !== 'string') {
    return check('registration', 'dynamic client registration').fail(
      'no registration_endpoint: ChatGPT and Claude register themselves',
      'enable dynamic client registration (Keycloak: anonymous registration policies, see docs/keycloak.md), or pre-register the client',
    );
  }
  if (ctx.options.register === false) {
    return check('registration', 'dynamic client registration').skip(`${reg} (trial registration skipped)`);
  }
  const trial = check('registration', "trial registration with ChatGPT's redirect URI");
  try {
    const res = await ctx.http.request('registration', reg, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'sample-mcp doctor (ChatGPT-like trial registration)',
        redirect_uris: [CHATGPT_REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      }),
    });
    const body = res.json as Record<string, unknown> | undefined;
    if (res.status === 201 && body?.client_id) {
      ctx.registration = {
        client_id: body.client_id,
        redirect_uris: body.redirect_uris,
        token_endpoint_auth_method: body.token_endpoint_auth_method,
      };
      return trial.pass(`client_id=${String(body.client_id)}`);
    }
    return trial.fail(
      'ChatGPT cannot register itself',
      /Trusted Hosts/i.test(String(body?.error_description))
        ? "Keycloak: add chatgpt.com to the anonymous 'Trusted Hosts' registration policy (deploy/keycloak/mcp-realm.json)"
        : `allow ${CHATGPT_REDIRECT} in dynamic registration`,
      `HTTP ${res.status} ${String(body?.error ?? '')} ${String(body?.error_description ?? '').slice(0, 200)}`,
    );
  } catch (err) {
    return networkFail(
      'registration',
      'trial registration',
      err,
      'check the registration endpoint is reachable',
    );
  }
}
