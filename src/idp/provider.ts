/**
 * The embedded authorization server's `oidc-provider` configuration: every OAuth endpoint comes
 * from that OpenID-certified library; this file only chooses its behaviour.
 *
 * - Dynamic Client Registration (RFC 7591), open for the redirect URIs of real MCP clients
 *   ({@link redirectUriAllowed}), refusing others with `invalid_redirect_uri`.
 * - Authorization code + PKCE (S256) for every client; refresh tokens, rotated on every use.
 * - RFC 8707 resource indicators: the access token is a JWT whose `aud` is the requested resource
 *   (the MCP server's origin or `/mcp`); any other resource is `invalid_target`.
 * - RFC 9207 `iss` on authorization responses (built in), RFC 8414 + OIDC discovery (built in).
 * - Access tokens carry `email` and `realm_access.roles` (the same shape as Keycloak's), so the
 *   resource server reads both authorization servers' tokens the same way.
 */
import type Database from 'better-sqlite3';
import Provider, { type Configuration, errors, type KoaContextWithOIDC } from 'oidc-provider';
import { MCP_SCOPE, STAFF_SCOPE } from '../auth/scopes.js';
import { clientLifetimes, sqliteAdapter } from './adapter.js';
import type { CimdPolicy } from './cimd.js';
import type { IdpConfig } from './config.js';
import type { IdpKeys } from './keys.js';
import { errorPage } from './pages.js';
import { isLoopbackRedirect, redirectUriAllowed } from './redirects.js';
import { checkMetadataSize, LIMITED_PROPERTIES } from './registrationLimits.js';
import type { UserDirectory } from './users.js';

/** Scope used when an authorization request names none (ChatGPT on reconnect): like Keycloak's default client scopes. */
export const DEFAULT_SCOPE = MCP_SCOPE;

export interface ProviderDeps {
  config: IdpConfig;
  users: UserDirectory;
  keys: IdpKeys;
  db: Database.Database;
  /** The fetch policy for Client ID Metadata Documents and every other outgoing request. */
  cimd: CimdPolicy;
}

export function createProvider({ config, users, keys, db, cimd }: ProviderDeps): Provider {
  const configuration: Configuration = {
    adapter: sqliteAdapter(db, clientLifetimes(config)),
    jwks: keys.jwks as Configuration['jwks'],
    cookies: {
      keys: keys.cookieKeys,
      long: { signed: true, sameSite: 'lax' },
      short: { signed: true, sameSite: 'lax' },
    },
    scopes: ['openid', 'offline_access', 'email', 'profile', MCP_SCOPE, STAFF_SCOPE],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
    },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: 'RS256',
    },
    // private_key_jwt: ChatGPT's metadata document declares it (and a jwks_uri); CIMD clients
    // cannot use a shared secret, and have no registration response to learn another method from.
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    fetch: (url, options) => cimd.fetch(url instanceof Request ? url.url : url, options ?? {}),
    responseTypes: ['code'],
    pkce: { required: () => true },
    extraClientMetadata: {
      properties: ['redirect_uris', 'post_logout_redirect_uris', ...LIMITED_PROPERTIES],
      validator(_ctx, key, value, metadata) {
        checkMetadataSize(key, value, metadata);
        // Where the browser goes after logout is a redirect too: the same allow-list, or an
        // open redirect through /session/end.
        if (key === 'post_logout_redirect_uris') {
          for (const uri of (value ?? []) as string[]) {
            if (!redirectUriAllowed(uri, config.extraRedirectUris)) {
              const err = new errors.InvalidClientMetadata(
                `post_logout_redirect_uri ${uri} is not allowed here: use a redirect URI of a known client, a loopback one, or add it to IDP_EXTRA_REDIRECT_URIS`,
              );
              throw err;
            }
          }
          return;
        }
        if (key !== 'redirect_uris') return;
        const uris = (value ?? []) as string[];
        for (const uri of uris) {
          if (!redirectUriAllowed(uri, config.extraRedirectUris)) {
            const err = new errors.InvalidRedirectUri();
            err.error_description = `redirect_uri ${uri} is not allowed here: use ChatGPT's, Claude's, VS Code's or a loopback (http://127.0.0.1:<port>/…) redirect URI, or add it to IDP_EXTRA_REDIRECT_URIS`;
            throw err;
          }
        }
        // A client with a loopback redirect is a native app: any port, as RFC 8252 §7.3 asks
        // (VS Code's metadata document lists loopback next to https://vscode.dev/redirect).
        if (uris.some(isLoopbackRedirect)) metadata.application_type = 'native';
        if (
          metadata.token_endpoint_auth_method === undefined ||
          metadata.token_endpoint_auth_method === 'none'
        ) {
          metadata.token_endpoint_auth_method = 'none';
          delete metadata.client_secret;
          delete metadata.client_secret_expires_at;
        }
      },
    },
    features: {
      devInteractions: { enabled: false },
      // No DPoP: the resource server accepts bearer tokens only and refuses key-bound (`cnf`)
      // ones, so the authorization server must not issue them.
      dPoP: { enabled: false },
      registration: { enabled: true, initialAccessToken: false, issueRegistrationAccessToken: false },
      clientIdMetadataDocument: {
        enabled: true,
        ack: 'draft-02',
        allowFetch: (ctx, url) => cimd.allowFetch(ctx, url),
        // Honour Cache-Control, within 1 minute .. 1 day.
        cacheDuration: { min: 60, max: 86_400 },
      },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf?.[0] ?? config.defaultResource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => {
          if (!config.resources.includes(resource)) {
            throw new errors.InvalidTarget(
              `unknown resource ${resource}; this server issues tokens for ${config.resources.join(', ')}`,
            );
          }
          return {
            scope: `${MCP_SCOPE} ${STAFF_SCOPE}`,
            audience: resource,
            accessTokenFormat: 'jwt',
            accessTokenTTL: config.accessTokenTtlSeconds,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    async findAccount(_ctx, sub) {
      const account = users.find(sub);
      if (!account) return undefined;
      return {
        accountId: account.id,
        async claims() {
          return {
            sub: account.id,
            email: account.email,
            email_verified: true,
            name: `${account.givenName} ${account.familyName}`,
            given_name: account.givenName,
            family_name: account.familyName,
          };
        },
      };
    },
    async extraTokenClaims(_ctx, token) {
      const account =
        'accountId' in token && token.accountId ? users.find(token.accountId as string) : undefined;
      if (!account) return undefined;
      // The dev accounts' addresses are fixed by configuration: verified by construction.
      return { email: account.email, email_verified: true, realm_access: { roles: account.roles } };
    },
    // Refresh tokens for every client allowed the grant (not only with offline_access), rotated
    // on each use, living on after the browser session ends: a connector keeps working for weeks.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
    expiresWithSession: async () => false,
    ttl: {
      AccessToken: config.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 3600,
      Session: 14 * 86_400,
      Grant: 365 * 86_400,
      RefreshToken: config.refreshTokenTtlSeconds,
    },
    // The token endpoint and discovery are fetched by browser clients (MCP Inspector); PKCE, not
    // the origin, protects them, and no cookies are involved.
    clientBasedCORS: () => true,
    interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = errorPage(
        'Something went wrong',
        `${String(out.error)}: ${String(out.error_description ?? 'the request could not be completed')}`,
      );
    },
  };

  const provider = new Provider(config.issuer, configuration);
  // Behind a TLS-terminating proxy the issuer is https while we listen on http.
  provider.proxy = config.issuer.startsWith('https:');

  // Every authorization request gets the default scope, the way Keycloak applies a client's
  // default scopes: ChatGPT sends none on reconnect, and may ask for `openid email profile` only.
  // The logout pages must not be framed (clickjacking a logout, or a confirm click).
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    if (ctx.path.startsWith('/session/end')) ctx.set('content-security-policy', "frame-ancestors 'none'");
  });
  provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    if (ctx.path === '/auth' && ctx.method === 'GET') {
      const scopes = (typeof ctx.query.scope === 'string' ? ctx.query.scope : '').split(' ').filter(Boolean);
      if (!scopes.includes(DEFAULT_SCOPE))
        ctx.query = { ...ctx.query, scope: [...scopes, DEFAULT_SCOPE].join(' ') };
    }
    await next();
  });
  return provider;
}
