/**
 * Gets an access token for a dev user from the embedded authorization server the way a real
 * client does — discovery, dynamic registration, authorization code with PKCE and `resource`,
 * the login and consent forms, the token endpoint — only with HTTP instead of a browser.
 * Nothing is signed locally. Used by `npm run token` and by tests.
 *
 * @example
 * ```ts
 * const tokens = await obtainToken({
 *   issuer: 'http://localhost:4000',
 *   resource: 'http://localhost:3000/mcp',
 *   email: 'alice@example.com',
 *   password: 'alice-dev-password',
 * });
 * console.log(tokens.access_token);
 * ```
 */
import { createHash, randomBytes } from 'node:crypto';

export interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  token_type: string;
  expires_in: number;
  scope?: string;
  id_token?: string;
}

export interface ObtainTokenOptions {
  issuer: string;
  resource: string;
  email: string;
  password: string;
  /** Space-separated; omitted from the request when `undefined` (the server's default applies). */
  scope?: string;
  /** Reuse a registered client (or a metadata document URL) instead of registering one. */
  clientId?: string;
  redirectUri?: string;
  /**
   * Parameters that authenticate the client at the token endpoint, e.g. a `private_key_jwt`
   * assertion (`client_assertion_type`, `client_assertion`); none for a public client.
   */
  clientAuthentication?: (tokenEndpoint: string, clientId: string) => Promise<Record<string, string>>;
}

export class TokenFlowError extends Error {}

const b64url = (buf: Buffer) => buf.toString('base64url');

/** A minimal cookie jar for one host (enough for the interaction and session cookies). */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  store(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

async function discover(issuer: string): Promise<Record<string, string>> {
  const res = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
  if (!res.ok) throw new TokenFlowError(`authorization server metadata: HTTP ${res.status} at ${issuer}`);
  const meta = (await res.json()) as Record<string, string>;
  if (meta.issuer !== issuer) throw new TokenFlowError(`metadata issuer ${meta.issuer} is not ${issuer}`);
  return meta;
}

export async function registerClient(
  registrationEndpoint: string,
  redirectUri: string,
  name = 'Sample MCP token helper',
): Promise<string> {
  const res = await fetch(registrationEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: name,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }),
  });
  const body = (await res.json()) as { client_id?: string; error_description?: string };
  if (res.status !== 201 || !body.client_id) {
    throw new TokenFlowError(`registration failed: HTTP ${res.status} ${body.error_description ?? ''}`);
  }
  return body.client_id;
}

function formField(html: string, name: string): string | undefined {
  return new RegExp(`name="${name}" value="([^"]*)"`)
    .exec(html)?.[1]
    ?.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)));
}

function formError(html: string): string | undefined {
  return /role="alert"[^>]*>([^<]*)</.exec(html)?.[1];
}

export async function obtainToken(
  options: ObtainTokenOptions,
): Promise<TokenResponse & { clientId: string }> {
  const meta = await discover(options.issuer);
  const redirectUri = options.redirectUri ?? 'http://127.0.0.1:9/callback';
  const clientId =
    options.clientId ?? (await registerClient(meta.registration_endpoint as string, redirectUri));
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  const auth = new URL(meta.authorization_endpoint as string);
  auth.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    state,
    resource: options.resource,
    ...(options.scope !== undefined && { scope: options.scope }),
  }).toString();

  const jar = new CookieJar();
  let next: string | undefined = auth.href;
  let init: RequestInit | undefined;
  for (let hop = 0; hop < 20 && next; hop++) {
    if (next.startsWith(redirectUri)) break;
    const res: Response = await fetch(next, {
      ...init,
      redirect: 'manual',
      headers: { ...(init?.headers as Record<string, string>), cookie: jar.header() },
    });
    jar.store(res);
    init = undefined;
    const location = res.headers.get('location');
    if (location) {
      next = new URL(location, next).href;
      continue;
    }
    const html = await res.text();
    const csrf = formField(html, 'csrf');
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    if (!csrf || !action)
      throw new TokenFlowError(
        `unexpected page (HTTP ${res.status}): ${formError(html) ?? html.slice(0, 200)}`,
      );
    const isLogin = action.endsWith('/login');
    if (isLogin && hop > 0 && res.status !== 200)
      throw new TokenFlowError(`login failed: ${formError(html) ?? res.status}`);
    const body = isLogin
      ? new URLSearchParams({ csrf, email: options.email, password: options.password })
      : new URLSearchParams({ csrf, decision: 'allow' });
    next = new URL(action, next).href;
    init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: options.issuer },
      body: body.toString(),
    };
  }
  if (!next?.startsWith(redirectUri))
    throw new TokenFlowError('the authorization flow did not return to the client');
  const callback = new URL(next);
  if (callback.searchParams.get('state') !== state) throw new TokenFlowError('state mismatch');
  if (callback.searchParams.get('iss') !== options.issuer)
    throw new TokenFlowError('RFC 9207 iss missing or wrong');
  const error = callback.searchParams.get('error');
  if (error) throw new TokenFlowError(`${error}: ${callback.searchParams.get('error_description') ?? ''}`);
  const code = callback.searchParams.get('code');
  if (!code) throw new TokenFlowError('no authorization code');

  const tokenEndpoint = meta.token_endpoint as string;
  const tokenRes = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      client_id: clientId,
      code_verifier: verifier,
      resource: options.resource,
      ...(await options.clientAuthentication?.(tokenEndpoint, clientId)),
    }).toString(),
  });
  const tokens = (await tokenRes.json()) as TokenResponse & { error?: string; error_description?: string };
  if (!tokenRes.ok)
    throw new TokenFlowError(`token endpoint: ${tokens.error}: ${tokens.error_description ?? ''}`);
  return { ...tokens, clientId };
}
