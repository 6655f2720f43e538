/**
 * The resource server in front of a real Keycloak 26.7.3 (realm `mcp` from deploy/keycloak):
 * discovery, registration policies, PKCE, audience, per-user data, refusals — and the same
 * end-to-end flows as for the embedded authorization server, with Keycloak's own login form.
 *
 * Needs Java, the cached Keycloak and Chromium (`npm test` provisions them: scripts/provision.ts).
 * Without them the file says so and skips locally; in CI (`CI=true`) that is a failure.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { loadConfig } from '../src/config/config.js';
import { runDoctor } from '../src/doctor/run.js';
import { type ResourceServer, startResourceServer } from '../src/resourceServer.js';
import { keycloakDriver } from './helpers/browser.js';
import { DEV_USERS, e2eSuite } from './helpers/e2eSuite.js';
import { passwordToken, type RunningKeycloak, startKeycloak } from './helpers/keycloak.js';
import { captureLogs } from './helpers/logs.js';
import { requirements } from './helpers/requirements.js';
import { freePort, JSON_HEADERS, parseChallenge, rpcBody, sampleStore } from './helpers/stack.js';

const unavailable = requirements('Keycloak integration', ['java', 'keycloak', 'chromium', 'openssl']);

interface KcStack {
  kc: RunningKeycloak;
  rs: ResourceServer;
  base: string;
  logs: () => Record<string, unknown>[];
}

let stack: Promise<KcStack> | undefined;
/** One Keycloak and one resource server for every test in this file. */
function kcStack(): Promise<KcStack> {
  stack ??= (async () => {
    const port = await freePort();
    const base = `http://localhost:${port}`;
    const kc = await startKeycloak({ audience: base, alt: `${base}/mcp` });
    const { logger, lines: logs } = captureLogs();
    const config = loadConfig({ KC_ISSUER: kc.issuer, MCP_SERVER_URL: base, PORT: String(port) });
    const rs = await startResourceServer(config, { logger, store: sampleStore() });
    return { kc, rs, base, logs };
  })();
  return stack;
}

if (unavailable) {
  test('Keycloak integration', { skip: unavailable }, () => {});
} else {
  let s: KcStack;
  before(async () => {
    s = await kcStack();
  });
  after(async () => {
    if (!stack) return;
    const st = await stack;
    await st.rs.close();
    st.kc.stop();
  });

  const mcpCall = (token: string, body: unknown) =>
    fetch(`${s.base}/mcp`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify(body),
    });
  const search = async (token: string, query: string) => {
    const res = await mcpCall(token, {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'search', arguments: { query } },
    });
    assert.equal(res.status, 200);
    const msg = (await rpcBody(res)) as { result: { content: { text: string }[] } };
    return JSON.parse(msg.result.content[0]?.text as string).results as { id: string }[];
  };
  const owner = (id: string) => sampleStore().get(id, { kind: 'all' })?.customerEmail;

  describe('Keycloak: discovery', () => {
    test('the URLs a 2025-11-25 client tries, in order; the issuer matches the metadata byte for byte', async () => {
      const prm = await (await fetch(`${s.base}/.well-known/oauth-protected-resource/mcp`)).json();
      assert.equal(prm.authorization_servers[0], s.kc.issuer);
      // 1. RFC 8414 path-inserted form (Keycloak 26.4+)
      const r8414 = await fetch(`${s.kc.url}/.well-known/oauth-authorization-server/realms/mcp`);
      assert.equal(r8414.status, 200);
      assert.equal((await r8414.json()).issuer, prm.authorization_servers[0]);
      // 2. OIDC path-inserted form: Keycloak does not serve it; clients move on to 3.
      const oidcInserted = await fetch(`${s.kc.url}/.well-known/openid-configuration/realms/mcp`);
      assert.equal(oidcInserted.status, 404);
      await oidcInserted.arrayBuffer();
      // 3. OIDC path-appended form
      const res = await fetch(`${s.kc.issuer}/.well-known/openid-configuration`);
      assert.equal(res.status, 200);
      const meta = await res.json();
      assert.equal(meta.issuer, prm.authorization_servers[0]);
      assert.ok(meta.code_challenge_methods_supported.includes('S256'));
      assert.equal(meta.authorization_response_iss_parameter_supported, true);
      assert.equal(meta.registration_endpoint, `${s.kc.issuer}/clients-registrations/openid-connect`);
      assert.ok(meta.scopes_supported.includes('mcp:tools'));
    });

    test('the resource server fetched Keycloak’s keys (readyz)', async () => {
      const ready = await (await fetch(`${s.base}/readyz`)).json();
      assert.equal(ready.status, 'ready');
      assert.equal(ready.checks.jwks.url, `${s.kc.issuer}/protocol/openid-connect/certs`);
    });
  });

  describe('Keycloak: dynamic client registration policies', () => {
    const register = (body: Record<string, unknown>) =>
      fetch(`${s.kc.issuer}/clients-registrations/openid-connect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token_endpoint_auth_method: 'none', ...body }),
      });

    test('ChatGPT’s registration (both redirect URIs, its scope list) → 201', async () => {
      const res = await register({
        client_name: 'ChatGPT',
        redirect_uris: [
          'https://chatgpt.com/connector_platform_oauth_redirect',
          'https://chatgpt.com/connector/oauth/cb_1',
        ],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        scope: 'openid email profile mcp:tools offline_access',
      });
      assert.equal(res.status, 201, await res.clone().text());
      const body = await res.json();
      assert.equal(body.token_endpoint_auth_method, 'none');
    });
    test('the realm does not advertise CIMD (26.7 refuses ChatGPT’s and Claude’s documents): all three clients register', async () => {
      const meta = await (await fetch(`${s.kc.issuer}/.well-known/openid-configuration`)).json();
      assert.notEqual(meta.client_id_metadata_document_supported, true);
      const report = await runDoctor({ url: `${s.base}/mcp`, register: false });
      for (const id of ['path-chatgpt', 'path-claude', 'path-vscode']) {
        const c = report.checks.find((x) => x.id === id);
        assert.equal(c?.status, 'pass', JSON.stringify(c));
        assert.match(c?.detail ?? '', /^dynamic client registration/);
      }
    });
    test('VS Code-style registration: loopback and vscode.dev redirects → 201', async () => {
      const res = await register({
        client_name: 'Visual Studio Code',
        redirect_uris: ['http://127.0.0.1:33418/', 'https://vscode.dev/redirect'],
        application_type: 'native',
      });
      assert.equal(res.status, 201, await res.clone().text());
      await res.arrayBuffer();
    });
    test('Claude’s and loopback redirect URIs → 201', async () => {
      for (const uris of [
        ['https://claude.ai/api/mcp/auth_callback'],
        ['http://localhost:6274/oauth/callback'],
      ]) {
        const res = await register({ redirect_uris: uris });
        assert.equal(res.status, 201, `${uris}: ${await res.clone().text()}`);
        await res.arrayBuffer();
      }
    });
    test('https://evil.example/cb → refused by the Trusted Hosts policy', async () => {
      const res = await register({ redirect_uris: ['https://evil.example/cb'] });
      assert.equal(res.status, 403);
      assert.match((await res.json()).error_description, /Trusted Hosts/);
    });
    test('a registered client must use PKCE S256', async () => {
      const reg = await (await register({ redirect_uris: ['http://127.0.0.1:5555/callback'] })).json();
      const url = new URL(`${s.kc.issuer}/protocol/openid-connect/auth`);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: reg.client_id,
        redirect_uri: 'http://127.0.0.1:5555/callback',
        scope: 'openid mcp:tools',
        state: 'x',
      }).toString();
      const res = await fetch(url, { redirect: 'manual' });
      const location = new URL(res.headers.get('location') ?? '', s.kc.url);
      assert.equal(location.searchParams.get('error'), 'invalid_request');
      assert.match(location.searchParams.get('error_description') ?? '', /code_challenge/i);
      const verifier = randomBytes(32).toString('base64url');
      url.searchParams.set('code_challenge', createHash('sha256').update(verifier).digest('base64url'));
      url.searchParams.set('code_challenge_method', 'S256');
      const ok = await fetch(url, { redirect: 'manual' });
      assert.equal(ok.status, 200, 'with PKCE the login page is shown');
      await ok.arrayBuffer();
    });
  });

  describe('Keycloak tokens at the MCP server', () => {
    test('iss and both audiences; alice sees only her orders, carol sees all', async () => {
      const alice = await passwordToken(s.kc.issuer, DEV_USERS.alice);
      const claims = decodeJwt(alice.access_token);
      assert.equal(claims.iss, s.kc.issuer);
      assert.deepEqual([...(claims.aud as string[])].sort(), [s.base, `${s.base}/mcp`].sort());
      assert.equal(claims.email, 'alice@example.com');
      assert.equal(claims.email_verified, true, 'the realm puts email_verified in access tokens');
      // Keycloak's default header typ (the client option "Use at+jwt type" is off): why
      // MCP_REQUIRE_AT_JWT defaults to false.
      assert.equal(decodeProtectedHeader(alice.access_token).typ, 'JWT');
      const mine = await search(alice.access_token, 'chocolate');
      assert.ok(mine.length > 0);
      for (const h of mine) assert.equal(owner(h.id), 'alice@example.com');
      const carol = await passwordToken(s.kc.issuer, DEV_USERS.carol);
      assert.ok((decodeJwt(carol.access_token).realm_access as { roles: string[] }).roles.includes('staff'));
      const all = await search(carol.access_token, 'chocolate');
      assert.ok(new Set(all.map((h) => owner(h.id))).size > 2);
      const line = s
        .logs()
        .filter((l) => l.event === 'request' && l.tool === 'search')
        .at(-1);
      assert.equal(line?.iss, s.kc.issuer);
      assert.equal(line?.clientId, 'mcp-automation');
    });

    test('a token of a client without the MCP audience → 401 audience', async () => {
      const t = await passwordToken(s.kc.issuer, DEV_USERS.alice, {
        id: 'other-app',
        secret: process.env.KC_AUTOMATION_CLIENT_SECRET ?? 'automation-dev-secret',
      });
      assert.equal(decodeJwt(t.access_token).aud, undefined);
      const res = await mcpCall(t.access_token, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
      assert.equal(res.status, 401);
      assert.match(parseChallenge(res.headers.get('www-authenticate')).error_description ?? '', /audience/);
    });

    test('a token from another realm (same Keycloak, same audience) → 401 issuer', async () => {
      const t = await passwordToken(s.kc.realmUrl('other'), DEV_USERS.alice);
      const claims = decodeJwt(t.access_token);
      assert.equal(claims.iss, s.kc.realmUrl('other'));
      assert.ok((Array.isArray(claims.aud) ? claims.aud : [claims.aud]).includes(s.base));
      const res = await mcpCall(t.access_token, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
      assert.equal(res.status, 401);
      assert.match(parseChallenge(res.headers.get('www-authenticate')).error_description ?? '', /issuer/);
    });

    test('refresh tokens rotate: the old one is refused after use', async () => {
      const t = await passwordToken(s.kc.issuer, DEV_USERS.bob);
      const refresh = (rt: string) =>
        fetch(`${s.kc.issuer}/protocol/openid-connect/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: rt,
            client_id: 'mcp-automation',
            client_secret: process.env.KC_AUTOMATION_CLIENT_SECRET ?? 'automation-dev-secret',
          }),
        });
      const r1 = await refresh(t.refresh_token);
      assert.equal(r1.status, 200);
      assert.notEqual((await r1.json()).refresh_token, t.refresh_token);
      const reuse = await refresh(t.refresh_token);
      assert.equal(reuse.status, 400);
      assert.equal((await reuse.json()).error, 'invalid_grant');
    });
  });

  e2eSuite('Keycloak', async () => {
    const st = await kcStack();
    return {
      base: st.base,
      mcpUrl: `${st.base}/mcp`,
      issuer: st.kc.issuer,
      logs: st.logs,
      users: DEV_USERS,
      driver: keycloakDriver,
      // Keycloak 26.7 turns the scopes of a registration request into optional client scopes, so a
      // later authorization without `scope` gets a token without mcp:tools (see docs/keycloak.md).
      noScopeReauthorization: 'step-up',
      // After issuing an offline token for a login, Keycloak 26.7 shows the login form again on the
      // next authorization in that browser (observed; see docs/keycloak.md).
      ssoSurvivesOfflineAccess: false,
      carolSub: async () =>
        String(decodeJwt((await passwordToken(st.kc.issuer, DEV_USERS.carol)).access_token).sub),
      // stopped by this file's own `after`
      close: async () => {},
    };
  });
}
