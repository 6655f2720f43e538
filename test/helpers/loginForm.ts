/**
 * The embedded authorization server's login form, driven without a browser: register a client,
 * start an authorization request, and post the form — from any loopback source address
 * (127.0.0.x), so tests can play several clients.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';

export const CHATGPT_REDIRECT = 'https://chatgpt.com/connector_platform_oauth_redirect';

export interface LoginForm {
  /** The form's path, `/interaction/<uid>/login`. */
  action: string;
  csrf: string;
  /** The interaction cookies the browser would send. */
  cookie: string;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A registered client's login form for `resource`, as a browser arriving from `/auth` sees it. */
export async function openLoginForm(issuer: string, resource: string): Promise<LoginForm> {
  const reg = await fetch(`${issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token_endpoint_auth_method: 'none', redirect_uris: [CHATGPT_REDIRECT] }),
  });
  const clientId = String(((await reg.json()) as { client_id: string }).client_id);
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
  const auth = new URL(`${issuer}/auth`);
  auth.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    state: 's1',
    redirect_uri: CHATGPT_REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource,
  }).toString();
  const res = await fetch(auth, { redirect: 'manual' });
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const page = await fetch(new URL(res.headers.get('location') as string, issuer), { headers: { cookie } });
  const html = await page.text();
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  return {
    action: /action="([^"]+)"/.exec(html)?.[1] as string,
    csrf: /name="csrf" value="([^"]+)"/.exec(html)?.[1] as string,
    cookie,
  };
}

/**
 * Posts the login form to the server listening at `issuer` (a loopback URL) from `localAddress`
 * (default 127.0.0.1).
 */
export function submitLogin(
  issuer: string,
  form: LoginForm,
  fields: { email: string; password: string; csrf?: string },
  opts: { localAddress?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  return loopbackRequest(issuer, {
    method: 'POST',
    path: form.action,
    localAddress: opts.localAddress,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.cookie, ...opts.headers },
    body: new URLSearchParams({ csrf: form.csrf, ...fields }).toString(),
  });
}

/** One request to a server on loopback (`base`'s port, on 127.0.0.1), sent from `localAddress`. */
export function loopbackRequest(
  base: string,
  opts: {
    method: string;
    path: string;
    localAddress?: string | undefined;
    headers?: Record<string, string>;
    body?: string;
  },
): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: url.port,
        path: opts.path,
        method: opts.method,
        localAddress: opts.localAddress ?? '127.0.0.1',
        agent: false,
        headers: {
          host: url.host,
          ...(opts.body !== undefined && { 'content-length': Buffer.byteLength(opts.body) }),
          ...opts.headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}
