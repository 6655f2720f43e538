/**
 * The end-to-end flows real clients go through, written once and run against each authorization
 * server (the embedded one and Keycloak): the official MCP TypeScript client with its OAuth support
 * (PRM discovery, registration, PKCE, resource) and a real browser on the login and consent pages;
 * then search, fetch, refresh — on the 2025-11-25 and the 2026-07-28 wire. Also a ChatGPT-like
 * flow and the legacy SSE transport.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  Client,
  SSEClientTransport,
  StreamableHTTPClientTransport,
  UnauthorizedError,
} from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import type { BrowserContext } from 'playwright-core';
import { type LoginDriver, launchBrowser, signInAndConsent, type TestBrowser } from './browser.js';
import { BrowserOAuthProvider } from './oauthClient.js';
import { requirements } from './requirements.js';
import { resultsDir } from './results.js';
import { INIT_BODY, JSON_HEADERS, rpcBody, sampleStore } from './stack.js';

export const DEV_USERS = {
  alice: { email: 'alice@example.com', password: 'alice-dev-password' },
  bob: { email: 'bob@example.com', password: 'bob-dev-password' },
  carol: { email: 'carol@example.com', password: 'carol-dev-password' },
};

/** What the suite needs from a running stack (resource server + an authorization server). */
export interface E2EStack {
  /** `MCP_SERVER_URL`. */
  base: string;
  mcpUrl: string;
  /** The authorization server's issuer (`KC_ISSUER`). */
  issuer: string;
  /** The resource server's log lines. */
  logs(): Record<string, unknown>[];
  /** The login a user signs in with (e-mail for both servers here). */
  users: typeof DEV_USERS;
  driver: LoginDriver;
  /**
   * What a re-authorization without `scope` yields: `granted` (the token still has `mcp:tools`) or
   * `step-up` (it does not; the server answers 403 `insufficient_scope`, the client asks again).
   */
  noScopeReauthorization: 'granted' | 'step-up';
  /**
   * Whether the browser session survives a login that issued an offline (`offline_access`)
   * refresh token: a second authorization then needs no login form.
   */
  ssoSurvivesOfflineAccess: boolean;
  /** `sub` of carol's tokens (logged by the resource server). */
  carolSub(): Promise<string> | string;
  screenshots?: boolean;
}

export function e2eSuite(name: string, start: () => Promise<E2EStack & { close(): Promise<void> }>): void {
  const skip = requirements(`${name} end to end`, ['chromium', 'openssl']);
  if (skip) {
    describe(`${name}: end to end in Chromium`, { skip }, () => {});
    return;
  }
  const SHOTS = resultsDir();
  let s: E2EStack & { close(): Promise<void> };
  let browser: TestBrowser;
  const contexts: BrowserContext[] = [];
  before(async () => {
    s = await start();
    browser = await launchBrowser();
  });
  after(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    await browser?.close();
    await s?.close();
  });

  async function newPage() {
    const ctx = await browser.browser.newContext();
    contexts.push(ctx);
    return ctx.newPage();
  }
  const USERS = () => s.users;

  /** Connects the official client with OAuth: the first attempt sends the user through the browser. */
  async function connectWithOAuth(
    provider: BrowserOAuthProvider,
    mode: 'legacy' | { pin: string },
  ): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
    const make = () => {
      const client = new Client({ name: 'e2e', version: '1' }, { versionNegotiation: { mode } });
      const transport = new StreamableHTTPClientTransport(new URL(s.mcpUrl), { authProvider: provider });
      return { client, transport };
    };
    let c = make();
    try {
      await c.client.connect(c.transport);
      return c;
    } catch (err) {
      if (!(err instanceof UnauthorizedError)) throw err;
    }
    assert.ok(provider.callback, 'the client sent the user to the authorization server');
    await c.transport.finishAuth(provider.callback.searchParams);
    c = make();
    await c.client.connect(c.transport);
    return c;
  }

  const providerFor = async (user: { email: string; password: string }, redirect: string, shots?: boolean) =>
    new BrowserOAuthProvider(
      await newPage(),
      user,
      redirect,
      {},
      shots && s.screenshots
        ? { login: join(SHOTS, 'login.png'), consent: join(SHOTS, 'consent.png') }
        : undefined,
      s.driver,
    );

  describe(`${name}: official MCP client with OAuth, real login in Chromium`, () => {
    test('2025-11-25: discover, register, PKCE, login, consent, search, fetch, refresh', async () => {
      const provider = await providerFor(USERS().alice, browser.callbackUrl('/callback-alice'), true);
      const { client, transport } = await connectWithOAuth(provider, 'legacy');
      try {
        const authUrl = provider.authorizationUrls[0] as URL;
        assert.equal(`${authUrl.origin}${authUrl.pathname}`.startsWith(s.issuer), true, 'sent to the issuer');
        assert.equal(authUrl.searchParams.get('resource'), s.mcpUrl, 'resource = the PRM resource');
        assert.equal(authUrl.searchParams.get('code_challenge_method'), 'S256');
        assert.ok(
          authUrl.searchParams.get('scope')?.split(' ').includes('mcp:tools'),
          'scope from the 401 challenge',
        );
        assert.equal(provider.callback?.searchParams.get('iss'), s.issuer, 'RFC 9207 iss');
        assert.ok(transport.sessionId);
        const claims = decodeJwt(provider.tokens()?.access_token as string);
        assert.equal(claims.iss, s.issuer);
        const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
        assert.ok(aud.includes(s.mcpUrl), `aud ${JSON.stringify(claims.aud)} names the MCP server`);
        await assertOnlyOwnOrders(client, 'alice@example.com');

        // Access token gone: the client refreshes on the 401 and carries on, no browser needed.
        const refreshBefore = provider.tokens()?.refresh_token;
        assert.ok(refreshBefore, 'a refresh token was issued');
        provider.expireAccessToken();
        const c2 = new Client({ name: 'e2e', version: '1' }, { versionNegotiation: { mode: 'legacy' } });
        await c2.connect(new StreamableHTTPClientTransport(new URL(s.mcpUrl), { authProvider: provider }));
        assert.equal(provider.authorizationUrls.length, 1, 'no second login');
        assert.notEqual(provider.tokens()?.refresh_token, refreshBefore, 'refresh token rotated');
        await assertOnlyOwnOrders(c2, 'alice@example.com');
        await c2.close();
      } finally {
        await client.close();
      }
    });

    test('2026-07-28 wire: the same flow, stateless; staff sees every customer', async () => {
      const provider = await providerFor(USERS().carol, browser.callbackUrl('/callback-carol', 'localhost'));
      const { client, transport } = await connectWithOAuth(provider, { pin: '2026-07-28' });
      try {
        assert.equal(transport.sessionId, undefined);
        const hits = results(await client.callTool({ name: 'search', arguments: { query: 'chocolate' } }));
        const owners = new Set(hits.map((h) => sampleStore().get(h.id, { kind: 'all' })?.customerEmail));
        assert.ok(owners.size > 2, `carol saw ${owners.size} customers`);
        const sub = await s.carolSub();
        const logs = s.logs().filter((l) => l.event === 'request' && l.protocolVersion === '2026-07-28');
        assert.ok(logs.some((l) => l.tool === 'search' && l.sub === sub));
      } finally {
        await client.close();
      }
    });

    test('legacy HTTP+SSE transport with the bearer token from the flow', async () => {
      const provider = await providerFor(USERS().bob, browser.callbackUrl('/callback-bob'));
      const first = await connectWithOAuth(provider, 'legacy');
      await first.client.close();
      const token = provider.tokens()?.access_token as string;
      const client = new Client({ name: 'sse', version: '1' }, { versionNegotiation: { mode: 'legacy' } });
      await client.connect(
        new SSEClientTransport(new URL(`${s.base}/sse`), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
          eventSourceInit: {
            fetch: (url, init) =>
              fetch(url, {
                ...init,
                headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${token}` },
              }),
          },
        }),
      );
      try {
        await assertOnlyOwnOrders(client, 'bob@example.com');
      } finally {
        await client.close();
      }
    });
  });

  describe(`${name}: a ChatGPT-like client`, () => {
    test('registers with ChatGPT’s redirect and metadata, sends resource, no scope the second time, new session per call', async () => {
      // 1. discovery from the bare origin, as pasted into ChatGPT
      const challenge = await fetch(`${s.base}/`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify(INIT_BODY()),
      });
      assert.equal(challenge.status, 401);
      const prmUrl = /resource_metadata="([^"]+)"/.exec(
        challenge.headers.get('www-authenticate') ?? '',
      )?.[1] as string;
      const prm = await (await fetch(prmUrl)).json();
      assert.equal(prm.resource, s.base);
      const as = await (
        await fetch(`${prm.authorization_servers[0]}/.well-known/openid-configuration`)
      ).json();
      assert.equal(as.issuer, prm.authorization_servers[0]);

      // 2. registration as ChatGPT does it
      const redirectUri = 'https://chatgpt.com/connector_platform_oauth_redirect';
      const reg = await fetch(as.registration_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_name: 'ChatGPT',
          redirect_uris: [redirectUri, 'https://chatgpt.com/connector/oauth/cb_7b1d2e'],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
          scope: 'openid email profile mcp:tools offline_access',
        }),
      });
      assert.equal(reg.status, 201, await reg.clone().text());
      const clientId = (await reg.json()).client_id as string;
      const page = await newPage();

      const authorize = async (scope: string | undefined) => {
        const verifier = randomBytes(32).toString('base64url');
        const url = new URL(as.authorization_endpoint);
        url.search = new URLSearchParams({
          response_type: 'code',
          client_id: clientId,
          redirect_uri: redirectUri,
          state: randomBytes(8).toString('hex'),
          code_challenge: createHash('sha256').update(verifier).digest('base64url'),
          code_challenge_method: 'S256',
          resource: prm.resource,
          ...(scope && { scope }),
        }).toString();
        const { callback: back, sawLogin } = await signInAndConsent(
          page,
          url.href,
          redirectUri,
          USERS().alice,
          {
            driver: s.driver,
          },
        );
        assert.equal(back.searchParams.get('iss'), as.issuer);
        const res = await fetch(as.token_endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code: back.searchParams.get('code') as string,
            redirect_uri: redirectUri,
            client_id: clientId,
            code_verifier: verifier,
            resource: prm.resource,
          }),
        });
        assert.equal(res.status, 200, await res.clone().text());
        return { ...((await res.json()) as { access_token: string; refresh_token: string }), sawLogin };
      };
      const callSearch = (token: string, query: string) =>
        fetch(`${s.base}/`, {
          method: 'POST',
          headers: {
            ...JSON_HEADERS,
            authorization: `Bearer ${token}`,
            'mcp-protocol-version': '2025-06-18',
          },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 2,
            method: 'tools/call',
            params: { name: 'search', arguments: { query } },
          }),
        });

      const first = await authorize('openid email profile mcp:tools offline_access');
      assert.equal(first.sawLogin, true);
      const aud = decodeJwt(first.access_token).aud;
      assert.ok(
        (Array.isArray(aud) ? aud : [aud]).includes(s.base),
        `aud ${JSON.stringify(aud)} has the resource ChatGPT sent`,
      );

      // 3. reconnect without scope, in the same browser
      const second = await authorize(undefined);
      assert.equal(
        second.sawLogin,
        !s.ssoSurvivesOfflineAccess,
        s.ssoSurvivesOfflineAccess ? 'no second login: the browser session is reused' : 'Keycloak asks again',
      );
      /** A token that can call the tools, after the step-up where the server needs one. */
      const toolToken = async (token: string) => {
        if (s.noScopeReauthorization === 'granted') {
          assert.match(String(decodeJwt(token).scope), /mcp:tools/);
          return token;
        }
        // the token lacks mcp:tools: the server says exactly what is missing, the client asks again
        const refused = await callSearch(token, 'chocolate');
        assert.equal(refused.status, 403);
        assert.match(
          refused.headers.get('www-authenticate') ?? '',
          /error="insufficient_scope".*scope="mcp:tools"/,
        );
        return (await authorize('mcp:tools')).access_token;
      };
      let token = await toolToken(second.access_token);
      // 3b. the scopes ChatGPT is reported to ask for instead of the advertised one
      const oidcOnly = await toolToken((await authorize('openid email profile')).access_token);
      assert.equal(
        (await callSearch(oidcOnly, 'chocolate')).status,
        200,
        'openid email profile ends with tool access',
      );
      token = oidcOnly;

      // 4. a new MCP session on every call, at the bare origin
      for (const query of ['chocolate', 'vanilla']) {
        const init = await fetch(`${s.base}/`, {
          method: 'POST',
          headers: { ...JSON_HEADERS, authorization: `Bearer ${token}` },
          body: JSON.stringify(INIT_BODY('2025-06-18')),
        });
        assert.equal(init.status, 200);
        await init.arrayBuffer();
        const call = await callSearch(token, query);
        assert.equal(call.status, 200);
        const msg = (await rpcBody(call)) as { result: ToolResult };
        for (const h of JSON.parse(msg.result.content[0]?.text as string).results) {
          assert.equal(sampleStore().get(h.id, { kind: 'all' })?.customerEmail, 'alice@example.com');
        }
      }
    });
  });
}

type ToolResult = { content: { text: string }[]; isError?: boolean };
const results = (r: unknown) =>
  JSON.parse((r as ToolResult).content[0]?.text as string).results as { id: string; url: string }[];

async function assertOnlyOwnOrders(client: Client, email: string) {
  const hits = results(await client.callTool({ name: 'search', arguments: { query: '' } }));
  assert.ok(hits.length > 0);
  for (const h of hits) assert.equal(sampleStore().get(h.id, { kind: 'all' })?.customerEmail, email);
  const first = hits[0] as { id: string };
  const doc = JSON.parse(
    ((await client.callTool({ name: 'fetch', arguments: { id: first.id } })) as ToolResult).content[0]
      ?.text as string,
  );
  assert.equal(doc.metadata.customer_email, email);
}
