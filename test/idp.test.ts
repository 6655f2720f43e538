/**
 * The embedded authorization server as ChatGPT, Claude, VS Code and the Inspector meet it:
 * discovery, registration, PKCE, resource indicators, RFC 9207, refresh rotation, persistence
 * across restarts, the login form's errors and CSRF defences, and production refusals.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { obtainToken } from '../src/idp/client.js';
import { loadIdpConfig } from '../src/idp/config.js';
import { startAuthorizationServer } from '../src/idp/server.js';
import { createLogger } from '../src/observability/logger.js';
import { type EmbeddedStack, startEmbeddedStack } from './helpers/embedded.js';
import { openLoginForm } from './helpers/loginForm.js';
import { JSON_HEADERS, SEARCH_CALL } from './helpers/stack.js';

let s: EmbeddedStack;
before(async () => {
  s = await startEmbeddedStack();
});
after(() => s.close());

const PASSWORDS = { alice: 'alice-dev-password', bob: 'bob-dev-password', carol: 'carol-dev-password' };
const CHATGPT = 'https://chatgpt.com/connector_platform_oauth_redirect';

async function register(body: Record<string, unknown>) {
  const res = await fetch(`${s.issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token_endpoint_auth_method: 'none', ...body }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function authorizeUrl(clientId: string, params: Record<string, string>): string {
  const u = new URL(`${s.issuer}/auth`);
  u.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    state: 's1',
    ...params,
  }).toString();
  return u.href;
}

/** A refresh-token grant at the embedded server's token endpoint. */
const refreshAt = (clientId: string, refreshToken: string) =>
  fetch(`${s.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: clientId,
      resource: s.mcpUrl,
    }),
  });

/** `tools/list` at the MCP server with this access token; resolves to the HTTP status. */
const toolsListStatus = async (accessToken: string) => {
  const res = await fetch(s.mcpUrl, {
    method: 'POST',
    headers: {
      ...JSON_HEADERS,
      authorization: `Bearer ${accessToken}`,
      'mcp-protocol-version': '2025-11-25',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  await res.arrayBuffer();
  return res.status;
};

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

describe('discovery', () => {
  test('RFC 8414 and OIDC metadata at the URLs 2025-11-25 clients try, issuer byte-exact with the PRM', async () => {
    const prm = await (await fetch(`${s.base}/.well-known/oauth-protected-resource/mcp`)).json();
    assert.equal(prm.authorization_servers[0], s.issuer);
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const res = await fetch(`${s.issuer}${path}`);
      assert.equal(res.status, 200, path);
      const meta = await res.json();
      assert.equal(meta.issuer, prm.authorization_servers[0], path);
      assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
      assert.equal(meta.authorization_response_iss_parameter_supported, true);
      assert.equal(meta.registration_endpoint, `${s.issuer}/reg`);
      assert.ok(meta.scopes_supported.includes('mcp:tools'));
      // Bearer tokens only, as the resource server accepts (it refuses key-bound `cnf` tokens).
      assert.equal(meta.dpop_signing_alg_values_supported, undefined);
      assert.ok(meta.token_endpoint_auth_methods_supported.includes('none'));
    }
  });

  test('a foreign Host (or X-Forwarded-Host) is refused: discovery never names an attacker’s host', async () => {
    const port = new URL(s.issuer).port;
    const get = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port, path: '/.well-known/openid-configuration', headers },
          (res) => {
            let body = '';
            res.on('data', (d) => {
              body += String(d);
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    const evil = await get({ host: 'evil.example' });
    assert.equal(evil.status, 400);
    assert.doesNotMatch(evil.body, /evil\.example\/(auth|token|reg)/);
    assert.equal((await get({ host: `localhost:${port}`, 'x-forwarded-host': 'evil.example' })).status, 400);
    const own = await get({ host: `localhost:${port}` });
    assert.equal(own.status, 200);
    assert.equal(JSON.parse(own.body).token_endpoint, `${s.issuer}/token`);
    assert.equal(
      (await get({ host: `127.0.0.1:${port}` })).status,
      200,
      'a loopback issuer answers on any loopback name',
    );
  });
});

describe('dynamic client registration', () => {
  const allowed: [string, string[]][] = [
    ['ChatGPT stable', [CHATGPT]],
    ['ChatGPT per connector', ['https://chatgpt.com/connector/oauth/cb_12345abc']],
    ['Claude', ['https://claude.ai/api/mcp/auth_callback', 'https://claude.com/api/mcp/auth_callback']],
    ['VS Code', ['https://vscode.dev/redirect', 'http://127.0.0.1:33418/', 'http://127.0.0.1/']],
    ['MCP Inspector', ['http://localhost:6274/oauth/callback']],
    ['Claude Code (loopback)', ['http://localhost/callback', 'http://127.0.0.1:54321/callback']],
  ];
  for (const [name, uris] of allowed) {
    test(`${name} → 201, public client, no secret`, async () => {
      const r = await register({ client_name: name, redirect_uris: uris });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.token_endpoint_auth_method, 'none');
      assert.equal(r.body.client_secret, undefined);
      assert.deepEqual(r.body.redirect_uris, uris);
    });
  }
  for (const uri of [
    'https://evil.example/cb',
    'https://chatgpt.com.evil.io/connector/oauth/x',
    'https://chatgpt.com/other',
  ]) {
    test(`${uri} → 400 invalid_redirect_uri with a clear message`, async () => {
      const r = await register({ redirect_uris: [uri] });
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_redirect_uri');
      assert.match(String(r.body.error_description), /not allowed here/);
    });
  }
  test('CORS preflight for browser-based registration (the Inspector)', async () => {
    const res = await fetch(`${s.issuer}/reg`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:6274', 'access-control-request-method': 'POST' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });
  test('loopback redirect on another port works for a loopback-only client', async () => {
    const { body } = await register({ redirect_uris: ['http://127.0.0.1/callback'] });
    const { challenge } = pkce();
    const res = await fetch(
      authorizeUrl(String(body.client_id), {
        redirect_uri: 'http://127.0.0.1:51234/callback',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        resource: s.mcpUrl,
      }),
      { redirect: 'manual' },
    );
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location') ?? '', /^\/interaction\//);
  });
});

describe('authorization request checks', () => {
  let clientId: string;
  before(async () => {
    clientId = String((await register({ redirect_uris: [CHATGPT] })).body.client_id);
  });
  async function redirectOf(params: Record<string, string>): Promise<URL> {
    const res = await fetch(authorizeUrl(clientId, { redirect_uri: CHATGPT, ...params }), {
      redirect: 'manual',
    });
    assert.equal(res.status, 303);
    return new URL(res.headers.get('location') as string, s.issuer);
  }
  test('no PKCE → invalid_request, with RFC 9207 iss', async () => {
    const loc = await redirectOf({ resource: s.mcpUrl });
    assert.equal(loc.origin + loc.pathname, CHATGPT);
    assert.equal(loc.searchParams.get('error'), 'invalid_request');
    assert.match(loc.searchParams.get('error_description') ?? '', /PKCE/);
    assert.equal(loc.searchParams.get('iss'), s.issuer);
  });
  test('PKCE plain → refused', async () => {
    const loc = await redirectOf({
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'plain',
      resource: s.mcpUrl,
    });
    assert.equal(loc.searchParams.get('error'), 'invalid_request');
  });
  test('unknown resource → invalid_target', async () => {
    const { challenge } = pkce();
    const loc = await redirectOf({
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: 'https://other.example/mcp',
    });
    assert.equal(loc.searchParams.get('error'), 'invalid_target');
    assert.equal(loc.searchParams.get('iss'), s.issuer);
  });
  test('unregistered redirect_uri → error page, no redirect', async () => {
    const { challenge } = pkce();
    const res = await fetch(
      authorizeUrl(clientId, {
        redirect_uri: 'https://evil.example/cb',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
      { redirect: 'manual' },
    );
    assert.equal(res.status, 400);
    assert.match(await res.text(), /redirect_uri/);
  });
});

describe('tokens', () => {
  test('a JWT access token whose aud is the requested resource, with email and roles; the MCP server accepts it', async () => {
    const t = await obtainToken({
      issuer: s.issuer,
      resource: s.mcpUrl,
      email: 'alice@example.com',
      password: PASSWORDS.alice,
      scope: 'openid email mcp:tools',
    });
    const claims = decodeJwt(t.access_token);
    assert.equal(decodeProtectedHeader(t.access_token).typ, 'at+jwt');
    assert.equal(claims.iss, s.issuer);
    assert.equal(claims.aud, s.mcpUrl);
    assert.equal(claims.email, 'alice@example.com');
    assert.equal(claims.email_verified, true);
    assert.deepEqual(claims.realm_access, { roles: ['customer'] });
    assert.match(String(claims.scope), /mcp:tools/);
    assert.doesNotMatch(String(claims.scope), /orders:read:all/);
    assert.ok(t.refresh_token, 'refresh token issued');
    assert.equal(await toolsListStatus(t.access_token), 200);
  });

  test('the origin resource also works (aud = MCP_SERVER_URL)', async () => {
    const t = await obtainToken({
      issuer: s.issuer,
      resource: s.base,
      email: 'bob@example.com',
      password: PASSWORDS.bob,
    });
    assert.equal(decodeJwt(t.access_token).aud, s.base);
  });

  test('staff: carol gets the staff role, and orders:read:all when she asks for it; alice does not', async () => {
    const carol = await obtainToken({
      issuer: s.issuer,
      resource: s.mcpUrl,
      email: 'carol@example.com',
      password: PASSWORDS.carol,
      scope: 'mcp:tools orders:read:all',
    });
    const c = decodeJwt(carol.access_token);
    assert.deepEqual(c.realm_access, { roles: ['staff'] });
    assert.match(String(c.scope), /orders:read:all/);
    const alice = await obtainToken({
      issuer: s.issuer,
      resource: s.mcpUrl,
      email: 'alice@example.com',
      password: PASSWORDS.alice,
      scope: 'mcp:tools orders:read:all',
    });
    assert.doesNotMatch(String(decodeJwt(alice.access_token).scope), /orders:read:all/);
  });

  test('no scope in the authorization request (ChatGPT on reconnect) still yields mcp:tools', async () => {
    const t = await obtainToken({
      issuer: s.issuer,
      resource: s.mcpUrl,
      email: 'bob@example.com',
      password: PASSWORDS.bob,
    });
    assert.equal(decodeJwt(t.access_token).scope, 'mcp:tools');
  });

  test('post_logout_redirect_uris are held to the redirect allow-list; the logout page cannot be framed', async () => {
    const register = (uris: string[]) =>
      fetch(`${s.issuer}/reg`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
          post_logout_redirect_uris: uris,
          token_endpoint_auth_method: 'none',
        }),
      });
    const evil = await register(['https://evil.example/phish']);
    assert.equal(evil.status, 400);
    assert.match(
      (await evil.json()).error_description,
      /post_logout_redirect_uri https:\/\/evil\.example\/phish is not allowed/,
    );
    const ok = await register(['https://claude.ai/api/mcp/auth_callback', 'http://127.0.0.1:8123/bye']);
    assert.equal(ok.status, 201, await ok.clone().text());
    await ok.arrayBuffer();
    const logout = await fetch(`${s.issuer}/session/end`);
    assert.match(logout.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    await logout.arrayBuffer();
  });

  test('ChatGPT asking for openid email profile only still gets mcp:tools, and the tools answer', async () => {
    const t = await obtainToken({
      issuer: s.issuer,
      resource: s.mcpUrl,
      email: 'bob@example.com',
      password: PASSWORDS.bob,
      scope: 'openid email profile',
    });
    assert.match(String(decodeJwt(t.access_token).scope), /(^| )mcp:tools( |$)/);
    const res = await fetch(s.mcpUrl, {
      method: 'POST',
      headers: { ...JSON_HEADERS, authorization: `Bearer ${t.access_token}` },
      body: JSON.stringify(SEARCH_CALL('chocolate')),
    });
    assert.equal(res.status, 200);
  });

  test('refresh rotates the refresh token; reusing the old one is invalid_grant', async () => {
    const t = await obtainToken({
      issuer: s.issuer,
      resource: s.mcpUrl,
      email: 'alice@example.com',
      password: PASSWORDS.alice,
    });
    const refresh = (rt: string) => refreshAt(t.clientId, rt);
    const r1 = await refresh(t.refresh_token as string);
    assert.equal(r1.status, 200);
    const b1 = await r1.json();
    assert.notEqual(b1.refresh_token, t.refresh_token);
    assert.equal(decodeJwt(b1.access_token).aud, s.mcpUrl);
    const reuse = await refresh(t.refresh_token as string);
    assert.equal(reuse.status, 400);
    assert.equal((await reuse.json()).error, 'invalid_grant');
  });

  test('a restart keeps signing keys, clients and refresh tokens', async () => {
    const t = await obtainToken({
      issuer: s.issuer,
      resource: s.mcpUrl,
      email: 'bob@example.com',
      password: PASSWORDS.bob,
    });
    const kidBefore = decodeProtectedHeader(t.access_token).kid;
    await s.restartAs();
    const res = await refreshAt(t.clientId, t.refresh_token as string);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(decodeProtectedHeader(body.access_token).kid, kidBefore);
    // the old access token still verifies at the MCP server
    assert.equal(await toolsListStatus(t.access_token), 200);
  });
});

describe('login form', () => {
  const loginPage = () => openLoginForm(s.issuer, s.mcpUrl);
  const post = (
    p: { action: string; cookie: string },
    form: Record<string, string>,
    headers: Record<string, string> = {},
  ) =>
    fetch(`${s.issuer}${p.action}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: p.cookie, ...headers },
      body: new URLSearchParams(form),
    });

  test('wrong password → 401 and a clear, announced message; e-mail kept', async () => {
    const p = await loginPage();
    const res = await post(p, { csrf: p.csrf, email: 'alice@example.com', password: 'nope' });
    assert.equal(res.status, 401);
    const html = await res.text();
    assert.match(html, /role="alert"[^>]*>The e-mail address or password is incorrect\./);
    assert.match(html, /value="alice@example.com"/);
  });
  test('empty fields → 400 naming the missing field', async () => {
    const p = await loginPage();
    assert.match(
      await (await post(p, { csrf: p.csrf, email: '', password: '' })).text(),
      /Enter your e-mail address/,
    );
  });
  test('missing or wrong CSRF token → refused', async () => {
    const p = await loginPage();
    const res = await post(p, { csrf: 'forged', email: 'alice@example.com', password: PASSWORDS.alice });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /session expired/);
  });
  test('cross-origin POST → 403', async () => {
    const p = await loginPage();
    const res = await post(
      p,
      { csrf: p.csrf, email: 'alice@example.com', password: PASSWORDS.alice },
      { origin: 'https://evil.example' },
    );
    assert.equal(res.status, 403);
  });
  test('without the interaction cookie (another browser) → refused', async () => {
    const p = await loginPage();
    const res = await post(
      { ...p, cookie: '' },
      { csrf: p.csrf, email: 'alice@example.com', password: PASSWORDS.alice },
    );
    assert.equal(res.status, 400);
    assert.match(await res.text(), /expired or was opened in another browser/);
  });
  test('five failures from one address make that address wait before its next try (429, Retry-After)', async () => {
    const p = await loginPage();
    for (let i = 0; i < 5; i++)
      await post(p, { csrf: p.csrf, email: 'bob@example.com', password: `wrong-${i}` });
    const res = await post(p, { csrf: p.csrf, email: 'bob@example.com', password: PASSWORDS.bob });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.match(await res.text(), /Too many failed attempts\. Wait 1 second and try again/);
  });
});

describe('production mode', () => {
  test('refuses dev default passwords', async () => {
    const env = {
      NODE_ENV: 'production',
      KC_ISSUER: 'https://auth.example.com',
      MCP_SERVER_URL: 'https://mcp.example.com',
      IDP_ISSUER: 'https://auth.example.com',
      DATA_DIR: s.dataDir,
    };
    const config = loadConfig(env);
    const idp = loadIdpConfig(env, config);
    await assert.rejects(
      startAuthorizationServer(idp, { env, logger: createLogger('silent') }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /dev default password/);
        return true;
      },
    );
  });
  test('refuses a plain-http public issuer', () => {
    const env = {
      NODE_ENV: 'production',
      KC_ISSUER: 'https://auth.example.com',
      MCP_SERVER_URL: 'https://mcp.example.com',
      IDP_ISSUER: 'http://auth.example.com',
    };
    assert.throws(() => loadIdpConfig(env, loadConfig(env)), /IDP_ISSUER: .* plain http/);
  });
});
