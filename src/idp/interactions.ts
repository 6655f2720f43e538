/**
 * Login and consent for the embedded authorization server: real HTML forms in front of
 * `oidc-provider`'s interaction API. CSRF protection is layered: the interaction is bound to the
 * browser by oidc-provider's signed interaction cookie, each form carries an HMAC token bound to
 * the interaction, and a cross-origin `Origin` on a POST is refused.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { MCP_SCOPE, STAFF_ROLE, STAFF_SCOPE } from '../auth/scopes.js';
import type { Logger } from '../observability/logger.js';
import { clientAddressKey } from '../web/clientAddress.js';
import { sendHtml } from '../web/html.js';
import { BodyTooLargeError, readBody } from '../web/nodeIo.js';
import type { CimdPolicy } from './cimd.js';
import type { IdpConfig } from './config.js';
import type { IdpKeys } from './keys.js';
import { createLoginBackoff } from './loginBackoff.js';
import { consentPage, errorPage, loginPage, type ScopeView } from './pages.js';
import { QueueFullError, type UserDirectory } from './users.js';

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Confirm who you are',
  email: 'See your e-mail address',
  profile: 'See your name',
  offline_access: 'Stay connected while you are away',
  [MCP_SCOPE]: 'Search and read your cupcake orders (the search and fetch tools)',
  [STAFF_SCOPE]: "Read every customer's orders (staff)",
};

export interface InteractionDeps {
  provider: Provider;
  users: UserDirectory;
  keys: IdpKeys;
  config: IdpConfig;
  logger: Logger;
  /** Tells whether a client id is a metadata document URL, and its host. */
  cimd: Pick<CimdPolicy, 'documentHost'>;
}

export function createInteractionHandler(deps: InteractionDeps) {
  /** Failed logins per (e-mail, address): backoff for that pair only, never a lock of the e-mail. */
  const backoff = createLoginBackoff();

  const csrfFor = (uid: string) =>
    createHmac('sha256', deps.keys.csrfSecret).update(`csrf:${uid}`).digest('base64url');
  const csrfValid = (uid: string, token: string | null) => {
    const expected = Buffer.from(csrfFor(uid));
    const got = Buffer.from(token ?? '');
    return got.length === expected.length && timingSafeEqual(got, expected);
  };

  function send(
    res: ServerResponse,
    status: number,
    html: string,
    headers: Record<string, string> = {},
  ): void {
    sendHtml(res, status, html, { 'referrer-policy': 'no-referrer', ...headers });
  }

  async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
    if (type !== 'application/x-www-form-urlencoded')
      throw new FormError('The form was not submitted correctly.');
    try {
      return new URLSearchParams((await readBody(req, 16 * 1024)).toString('utf8'));
    } catch (err) {
      if (err instanceof BodyTooLargeError) throw new FormError('The form is too large.');
      throw err;
    }
  }

  async function clientLabel(clientId: string): Promise<{ name: string; host: string }> {
    const client = await deps.provider.Client.find(clientId);
    const redirect = client?.redirectUris?.[0];
    let host = 'an unknown address';
    try {
      if (redirect) host = new URL(redirect).host;
    } catch {}
    const named = client?.clientName ? String(client.clientName).slice(0, 80) : 'An application';
    // A metadata-document client names itself: say who published the document.
    const documentHost = deps.cimd.documentHost(clientId);
    const name = documentHost ? `${named} (client metadata from ${documentHost})` : named;
    return { name, host };
  }

  async function showLogin(
    res: ServerResponse,
    uid: string,
    clientId: string,
    email: string,
    error: string | undefined,
    status = 200,
    retryAfterSeconds?: number,
  ) {
    const { name } = await clientLabel(clientId);
    send(
      res,
      status,
      loginPage({
        action: `/interaction/${uid}/login`,
        csrf: csrfFor(uid),
        clientName: name,
        email,
        error,
        devHint: !deps.config.production,
      }),
      retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) },
    );
  }

  function requestedScopes(details: Record<string, unknown>, staff: boolean): string[] {
    const oidc = (details.missingOIDCScope as string[] | undefined) ?? [];
    const resource = Object.values(
      (details.missingResourceScopes as Record<string, string[]> | undefined) ?? {},
    ).flat();
    return [...new Set([...oidc, ...resource])].filter((s) => s !== STAFF_SCOPE || staff);
  }

  async function showConsent(
    res: ServerResponse,
    uid: string,
    interaction: Awaited<ReturnType<Provider['interactionDetails']>>,
  ) {
    const account = deps.users.find(String(interaction.session?.accountId));
    const staff = account?.roles.includes(STAFF_ROLE) ?? false;
    const { name, host } = await clientLabel(String(interaction.params.client_id));
    const scopes: ScopeView[] = requestedScopes(interaction.prompt.details, staff).map((s) => ({
      name: s,
      description: SCOPE_TEXT[s] ?? s,
    }));
    const resource = interaction.params.resource;
    send(
      res,
      200,
      consentPage({
        action: `/interaction/${uid}/confirm`,
        csrf: csrfFor(uid),
        clientName: name,
        clientHost: host,
        userEmail: account?.email ?? '',
        scopes,
        resource: Array.isArray(resource) ? resource.join(', ') : (resource as string | undefined),
      }),
    );
  }

  async function login(req: IncomingMessage, res: ServerResponse, uid: string, clientId: string) {
    const form = await readForm(req);
    if (!csrfValid(uid, form.get('csrf')))
      throw new FormError('Your session expired. Please start again from the app.');
    const email = (form.get('email') ?? '').trim().toLowerCase().slice(0, 254);
    const password = form.get('password') ?? '';
    if (!email || !password) {
      return showLogin(
        res,
        uid,
        clientId,
        email,
        !email ? 'Enter your e-mail address.' : 'Enter your password.',
        400,
      );
    }
    const address = clientAddressKey(req.socket.remoteAddress);
    const waitMs = backoff.waitMs(email, address);
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      const wait = `Too many failed attempts. Wait ${inSeconds(seconds)} and try again.`;
      return showLogin(res, uid, clientId, email, wait, 429, seconds);
    }
    let account: Awaited<ReturnType<UserDirectory['verify']>>;
    try {
      account = await deps.users.verify(email, password);
    } catch (err) {
      if (!(err instanceof QueueFullError)) throw err;
      deps.logger.warn({ event: 'login_refused', reason: 'busy' }, 'login refused: too many waiting');
      const busy = 'Sign-in is busy right now. Try again in a few seconds.';
      return showLogin(res, uid, clientId, email, busy, 503, 2);
    }
    if (!account) {
      backoff.failed(email, address);
      deps.logger.info({ event: 'login_failed', reason: 'bad_credentials' }, 'login failed');
      return showLogin(res, uid, clientId, email, 'The e-mail address or password is incorrect.', 401);
    }
    backoff.succeeded(email, address);
    deps.logger.info({ event: 'login', sub: account.id }, 'user signed in');
    await deps.provider.interactionFinished(
      req,
      res,
      { login: { accountId: account.id } },
      { mergeWithLastSubmission: false },
    );
  }

  async function confirm(
    req: IncomingMessage,
    res: ServerResponse,
    uid: string,
    interaction: Awaited<ReturnType<Provider['interactionDetails']>>,
  ) {
    const form = await readForm(req);
    if (!csrfValid(uid, form.get('csrf')))
      throw new FormError('Your session expired. Please start again from the app.');
    if (form.get('decision') !== 'allow') {
      await deps.provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'The user denied access' },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    const accountId = String(interaction.session?.accountId);
    const account = deps.users.find(accountId);
    const staff = account?.roles.includes(STAFF_ROLE) ?? false;
    const clientId = String(interaction.params.client_id);
    const grant = interaction.grantId
      ? ((await deps.provider.Grant.find(interaction.grantId)) ??
        new deps.provider.Grant({ accountId, clientId }))
      : new deps.provider.Grant({ accountId, clientId });
    const details = interaction.prompt.details as Record<string, unknown>;
    const oidc = details.missingOIDCScope as string[] | undefined;
    if (oidc?.length) grant.addOIDCScope(oidc.join(' '));
    const claims = details.missingOIDCClaims as string[] | undefined;
    if (claims?.length) grant.addOIDCClaims(claims);
    const resources = (details.missingResourceScopes as Record<string, string[]> | undefined) ?? {};
    for (const [indicator, scopes] of Object.entries(resources)) {
      const allowed = scopes.filter((s) => s !== STAFF_SCOPE || staff);
      const refused = scopes.filter((s) => !allowed.includes(s));
      if (allowed.length) grant.addResourceScope(indicator, allowed.join(' '));
      if (refused.length) grant.rejectResourceScope(indicator, refused.join(' '));
    }
    const grantId = await grant.save();
    deps.logger.info({ event: 'consent', sub: accountId, clientId }, 'user granted access');
    await deps.provider.interactionFinished(
      req,
      res,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    );
  }

  return async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const m = /^\/interaction\/([A-Za-z0-9_-]{1,128})(\/login|\/confirm)?$/.exec(url.pathname);
    if (!m) return send(res, 404, errorPage('Not found', 'There is nothing here.'));
    const uid = m[1] as string;
    const action = m[2];
    try {
      if (req.method === 'POST') {
        const origin = req.headers.origin;
        if (origin && origin !== 'null' && origin !== deps.config.issuer) {
          return send(
            res,
            403,
            errorPage('Request refused', 'This form can only be submitted from this site.'),
          );
        }
      }
      let interaction: Awaited<ReturnType<Provider['interactionDetails']>>;
      try {
        interaction = await deps.provider.interactionDetails(req, res);
      } catch {
        return send(
          res,
          400,
          errorPage(
            'Sign-in expired',
            'This sign-in link has expired or was opened in another browser. Start again from the app.',
          ),
        );
      }
      if (interaction.uid !== uid) {
        return send(
          res,
          400,
          errorPage(
            'Sign-in expired',
            'This sign-in link does not match your session. Start again from the app.',
          ),
        );
      }
      const clientId = String(interaction.params.client_id);
      if (req.method === 'GET' && !action) {
        if (interaction.prompt.name === 'login') return showLogin(res, uid, clientId, '', undefined);
        if (interaction.prompt.name === 'consent') return showConsent(res, uid, interaction);
        return send(
          res,
          400,
          errorPage('Unsupported step', `Unsupported prompt ${interaction.prompt.name}.`),
        );
      }
      if (req.method === 'POST' && action === '/login' && interaction.prompt.name === 'login') {
        return await login(req, res, uid, clientId);
      }
      if (req.method === 'POST' && action === '/confirm' && interaction.prompt.name === 'consent') {
        return await confirm(req, res, uid, interaction);
      }
      return send(res, 405, errorPage('Not allowed', 'That action is not available at this step.'));
    } catch (err) {
      if (err instanceof FormError) return send(res, 400, errorPage('Please try again', err.message));
      deps.logger.error({ event: 'interaction_error', err: (err as Error).message }, 'interaction failed');
      if (!res.headersSent)
        send(res, 500, errorPage('Something went wrong', 'Please start again from the app.'));
    }
  };
}

class FormError extends Error {}

const inSeconds = (n: number) => (n === 1 ? '1 second' : `${n} seconds`);
