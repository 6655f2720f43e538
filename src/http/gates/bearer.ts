/**
 * The bearer token (src/auth/ does the checking): a valid one sets the principal; a missing or
 * bad one is 401/403 with the RFC 9728 challenge naming this resource's metadata, or 503 with
 * `Retry-After` while the authorization server's keys cannot be had. A browser opening an order
 * page gets a readable sign-in page with the same status.
 */
import type { Authenticator } from '../../auth/authenticate.js';
import { challengeFor } from '../../auth/challenge.js';
import { AuthError } from '../../auth/errors.js';
import { metadataUrlFor, type ResourcePath } from '../../auth/metadata.js';
import type { Config } from '../../config/config.js';
import type { Metrics } from '../../observability/metrics.js';
import { failSpan, inSpan } from '../../observability/tracing.js';
import { sendHtml } from '../../web/html.js';
import { sendJson } from '../../web/nodeIo.js';
import type { Gate } from '../exchange.js';

export interface BearerGateOptions {
  authenticate: Authenticator;
  config: Pick<Config, 'serverUrl' | 'requiredScope'>;
  metrics: Pick<Metrics, 'authFailures'>;
  /** Which metadata the challenge names: `/mcp` has its own, the rest share the origin's. */
  resource: ResourcePath;
  /** For browsers (`Accept: text/html`): the page to show instead of the JSON error. */
  signInPage?: () => string;
}

export function bearerGate(options: BearerGateOptions): Gate {
  const { authenticate, config, metrics, signInPage } = options;
  const metadataUrl = metadataUrlFor(config.serverUrl, options.resource);
  // The span says whether the token was accepted and why not; of the token's claims only the
  // issuer, the audience and the client id (never the token, the subject or the e-mail).
  return (x) =>
    inSpan('verify bearer token', { leaf: true }, async (span) => {
      try {
        x.principal = await authenticate(x.req.headersDistinct.authorization);
        x.log.principal = x.principal;
        if (span.isRecording()) {
          span.setAttributes({
            'sample_mcp.auth.outcome': 'accepted',
            'sample_mcp.auth.issuer': x.principal.issuer,
            'sample_mcp.auth.audience': x.principal.audience,
            ...(x.principal.clientId && { 'sample_mcp.auth.client_id': x.principal.clientId }),
          });
        }
        return true;
      } catch (err) {
        if (!(err instanceof AuthError)) throw err;
        x.log.authFailure = err.reason;
        span.setAttributes({
          'sample_mcp.auth.outcome': err.kind === 'unavailable' ? 'unavailable' : 'refused',
          'sample_mcp.auth.failure_reason': err.reason,
        });
        failSpan(span, err.reason);
        metrics.authFailures.inc({ reason: err.reason });
        const challenge = challengeFor(err, metadataUrl, config.requiredScope);
        const headers: Record<string, string> = challenge
          ? { 'www-authenticate': challenge }
          : { 'retry-after': '5' };
        if (signInPage && (x.req.headers.accept ?? '').includes('text/html')) {
          sendHtml(x.res, err.status, signInPage(), headers);
        } else {
          const error = err.kind === 'unavailable' ? 'temporarily_unavailable' : err.kind;
          sendJson(x.res, err.status, { error, error_description: err.description }, headers);
        }
        return false;
      }
    });
}
