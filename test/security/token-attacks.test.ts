/**
 * The token attack matrix: every way we know to get a request past the bearer check, each with the
 * exact status and challenge it must get. Zero are accepted. (RFC 6750, RFC 8725, RFC 9700.)
 */
import assert from 'node:assert/strict';
import { type IncomingHttpHeaders, type OutgoingHttpHeaders, request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { base64url, SignJWT } from 'jose';
import { INIT_BODY, JSON_HEADERS, parseChallenge, type Stack, startStack } from '../helpers/stack.js';

let s: Stack;
before(async () => {
  s = await startStack();
});
after(() => s.close());

const now = () => Math.floor(Date.now() / 1000);
const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

/** A valid claim set for alice; cases change one thing. */
const good = () => ({
  iss: s.issuer.issuer,
  aud: `${s.base}/mcp`,
  sub: 'user-alice',
  email: 'alice@example.com',
  scope: 'mcp:tools',
  iat: now(),
  exp: now() + 300,
  typ: 'Bearer',
});

interface Attack {
  name: string;
  /** Builds the request: headers to send and an optional path/body override. */
  build: () => Promise<{ headers?: OutgoingHttpHeaders; path?: string; body?: string; contentType?: string }>;
  status: number;
  /** `null`: a challenge without `error`; otherwise the `error` value. */
  error: string | null;
  reason?: string;
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

const attacks: Attack[] = [
  // where the token is (not)
  {
    name: 'no Authorization header',
    build: async () => ({}),
    status: 401,
    error: null,
    reason: 'no_credentials',
  },
  {
    name: 'empty Authorization header',
    build: async () => ({ headers: { authorization: '' } }),
    status: 401,
    error: null,
  },
  {
    name: 'scheme only: "Bearer"',
    build: async () => ({ headers: { authorization: 'Bearer' } }),
    status: 401,
    error: 'invalid_token',
    reason: 'empty_token',
  },
  {
    name: 'blank token: "Bearer    "',
    build: async () => ({ headers: { authorization: 'Bearer    ' } }),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'two Authorization headers',
    build: async () => {
      const t = await s.token('alice');
      return { headers: { authorization: [`Bearer ${t}`, `Bearer ${t}`] as unknown as string } };
    },
    status: 400,
    error: 'invalid_request',
    reason: 'multiple_authorization_headers',
  },
  {
    name: 'wrong scheme: Basic',
    build: async () => ({ headers: { authorization: 'Basic YWxpY2U6cGFzcw==' } }),
    status: 401,
    error: null,
    reason: 'wrong_scheme',
  },
  {
    name: 'wrong scheme: Token <jwt>',
    build: async () => ({ headers: { authorization: `Token ${await s.token('alice')}` } }),
    status: 401,
    error: null,
  },
  {
    name: 'two tokens in one header',
    build: async () => ({
      headers: { authorization: `Bearer ${await s.token('alice')} ${await s.token('bob')}` },
    }),
    status: 401,
    error: 'invalid_token',
    reason: 'malformed',
  },
  {
    name: 'token in the query string',
    build: async () => ({ path: `/mcp?access_token=${await s.token('alice')}` }),
    status: 401,
    error: null,
  },
  {
    name: 'token in a form body (RFC 6750 §2.2 is not supported)',
    build: async () => ({
      body: `access_token=${await s.token('alice')}`,
      contentType: 'application/x-www-form-urlencoded',
    }),
    status: 401,
    error: null,
  },
  {
    name: 'token in the JSON body',
    build: async () => ({ body: JSON.stringify({ ...INIT_BODY(), access_token: await s.token('alice') }) }),
    status: 401,
    error: null,
  },
  // algorithm and key attacks
  {
    name: 'alg none',
    build: async () =>
      bearer(`${base64url.encode(enc({ alg: 'none', typ: 'JWT' }))}.${base64url.encode(enc(good()))}.`),
    status: 401,
    error: 'invalid_token',
    reason: 'algorithm',
  },
  {
    name: 'HS256 signed with the public key as the secret',
    build: async () => {
      const jwks = await (await fetch(s.issuer.jwksUrl)).json();
      const secret = enc(JSON.stringify(jwks.keys[0]));
      return bearer(
        await new SignJWT(good()).setProtectedHeader({ alg: 'HS256', kid: jwks.keys[0].kid }).sign(secret),
      );
    },
    status: 401,
    error: 'invalid_token',
    reason: 'algorithm',
  },
  {
    name: 'unknown kid',
    build: async () => bearer(await s.token('alice', {}, { kid: 'no-such-key' })),
    status: 401,
    error: 'invalid_token',
    reason: 'unknown_kid',
  },
  {
    name: 'jku header pointing at the attacker’s JWKS',
    build: async () =>
      bearer(
        await s.issuer.signRaw(
          enc(good()),
          { kid: 'attacker', jku: 'http://127.0.0.1:9/jwks.json' },
          { foreignKey: true },
        ),
      ),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'x5u header pointing at the attacker’s certificate',
    build: async () =>
      bearer(
        await s.issuer.signRaw(
          enc(good()),
          { kid: 'attacker', x5u: 'http://127.0.0.1:9/cert.pem' },
          { foreignKey: true },
        ),
      ),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'embedded jwk header with the attacker’s key (and the real kid)',
    build: async () => {
      const { publicJwk } = await s.issuer.attackerKey();
      const { kid: _k, ...jwk } = publicJwk;
      return bearer(await s.issuer.signRaw(enc(good()), { kid: 'key-1', jwk }, { foreignKey: true }));
    },
    status: 401,
    error: 'invalid_token',
    reason: 'signature',
  },
  {
    name: 'signed by an unknown key with a known kid',
    build: async () => bearer(await s.token('alice', {}, { foreignKey: true })),
    status: 401,
    error: 'invalid_token',
    reason: 'signature',
  },
  {
    name: 'unknown critical header extension',
    build: async () =>
      bearer(
        await s.issuer.signRaw(
          enc(good()),
          { kid: 'key-1', crit: ['x-evil'], 'x-evil': true },
          { crit: { 'x-evil': true } },
        ),
      ),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'algorithm confusion: header says ES256, signature is RS256',
    build: async () => {
      const [, p, sig] = (await s.token('alice')).split('.');
      return bearer(`${base64url.encode(enc({ alg: 'ES256', kid: 'key-1', typ: 'JWT' }))}.${p}.${sig}`);
    },
    status: 401,
    error: 'invalid_token',
  },
  // integrity
  {
    name: 'tampered payload (alice becomes staff)',
    build: async () => {
      const [h, , sig] = (await s.token('alice')).split('.');
      return bearer(
        `${h}.${base64url.encode(enc({ ...good(), realm_access: { roles: ['staff'] } }))}.${sig}`,
      );
    },
    status: 401,
    error: 'invalid_token',
    reason: 'signature',
  },
  {
    name: 'truncated signature',
    build: async () => bearer((await s.token('alice')).slice(0, -12)),
    status: 401,
    error: 'invalid_token',
  },
  {
    name: 'signature of another token',
    build: async () => {
      const [h, p] = (await s.token('alice')).split('.');
      const sig = (await s.token('bob')).split('.')[2];
      return bearer(`${h}.${p}.${sig}`);
    },
    status: 401,
    error: 'invalid_token',
    reason: 'signature',
  },
  {
    name: 'payload is not JSON',
    build: async () => bearer(await s.issuer.signRaw(enc('hello, I am not JSON'), { kid: 'key-1' })),
    status: 401,
    error: 'invalid_token',
    reason: 'malformed',
  },
  {
    name: 'payload is a JSON array',
    build: async () => bearer(await s.issuer.signRaw(enc([good()]), { kid: 'key-1' })),
    status: 401,
    error: 'invalid_token',
    reason: 'malformed',
  },
  {
    name: 'a valid token with base64 padding appended (==)',
    build: async () => bearer(`${await s.token('alice')}==`),
    status: 401,
    error: 'invalid_token',
    reason: 'malformed',
  },
  {
    name: 'a DPoP-bound token (cnf.jkt) presented without its proof',
    build: async () =>
      bearer(await s.token('alice', { cnf: { jkt: 'Lp0n9KeN2QBVrQf0qKxRgKpJsCgf6Vj8Ck8WrLr5s1o' } })),
    status: 401,
    error: 'invalid_token',
    reason: 'key_bound',
  },
  {
    name: 'oversized token (13 KB)',
    build: async () => bearer('a'.repeat(13_000)),
    status: 401,
    error: 'invalid_token',
    reason: 'oversized_token',
  },
  // time
  {
    name: 'expired',
    build: async () => bearer(await s.token('alice', { exp: now() - 120 })),
    status: 401,
    error: 'invalid_token',
    reason: 'expired',
  },
  {
    name: 'nbf in the future',
    build: async () => bearer(await s.token('alice', { nbf: now() + 600 })),
    status: 401,
    error: 'invalid_token',
    reason: 'not_yet_valid',
  },
  {
    name: 'no exp',
    build: async () => bearer(await s.token('alice', {}, { expiresIn: null })),
    status: 401,
    error: 'invalid_token',
    reason: 'missing_claim',
  },
  // issuer
  {
    name: 'wrong issuer',
    build: async () => bearer(await s.token('alice', { iss: 'https://evil.example/realms/mcp' })),
    status: 401,
    error: 'invalid_token',
    reason: 'issuer',
  },
  {
    name: 'issuer with a trailing slash',
    build: async () => bearer(await s.token('alice', { iss: `${s.issuer.issuer}/` })),
    status: 401,
    error: 'invalid_token',
    reason: 'issuer',
  },
  {
    name: 'issuer in upper case',
    build: async () => bearer(await s.token('alice', { iss: s.issuer.issuer.toUpperCase() })),
    status: 401,
    error: 'invalid_token',
    reason: 'issuer',
  },
  {
    name: 'another realm’s token signed by the trusted key set',
    build: async () =>
      bearer(await s.token('alice', { iss: s.issuer.issuer.replace('/realms/mcp', '/realms/other') })),
    status: 401,
    error: 'invalid_token',
    reason: 'issuer',
  },
  {
    name: 'issuer with a Cyrillic look-alike letter',
    build: async () => bearer(await s.token('alice', { iss: s.issuer.issuer.replace('realms', 'reаlms') })),
    status: 401,
    error: 'invalid_token',
    reason: 'issuer',
  },
  // audience
  {
    name: 'wrong audience',
    build: async () => bearer(await s.token('alice', { aud: 'account' })),
    status: 401,
    error: 'invalid_token',
    reason: 'audience',
  },
  {
    name: 'audience array without ours',
    build: async () => bearer(await s.token('alice', { aud: ['account', 'https://other.example/mcp'] })),
    status: 401,
    error: 'invalid_token',
    reason: 'audience',
  },
  {
    name: 'no audience',
    build: async () => bearer(await s.token('alice', { aud: undefined })),
    status: 401,
    error: 'invalid_token',
    reason: 'audience',
  },
  {
    name: 'audience …/mcp/ (trailing slash on a path)',
    build: async () => bearer(await s.token('alice', { aud: `${s.base}/mcp/` })),
    status: 401,
    error: 'invalid_token',
    reason: 'audience',
  },
  {
    name: 'audience with a zero-width space',
    build: async () => bearer(await s.token('alice', { aud: `${s.base}/mcp\u200b` })),
    status: 401,
    error: 'invalid_token',
    reason: 'audience',
  },
  {
    name: 'audience as a prefix of ours',
    build: async () => bearer(await s.token('alice', { aud: s.base.slice(0, -1) })),
    status: 401,
    error: 'invalid_token',
    reason: 'audience',
  },
  // token type and subject
  {
    name: 'Keycloak ID token presented as access token',
    build: async () => bearer(await s.token('alice', { typ: 'ID' })),
    status: 401,
    error: 'invalid_token',
    reason: 'token_type',
  },
  {
    name: 'Keycloak refresh token presented as access token',
    build: async () => bearer(await s.token('alice', { typ: 'Refresh' })),
    status: 401,
    error: 'invalid_token',
    reason: 'token_type',
  },
  {
    name: 'header typ of another kind of JWT (dpop+jwt)',
    build: async () => bearer(await s.token('alice', {}, { header: { typ: 'dpop+jwt' } })),
    status: 401,
    error: 'invalid_token',
    reason: 'token_type',
  },
  // e-mail: only a verified one gives access to that customer's orders
  {
    name: "bob's e-mail with email_verified: false",
    build: async () => bearer(await s.token('alice', { email: 'bob@example.com', email_verified: false })),
    status: 401,
    error: 'invalid_token',
    reason: 'email_unverified',
  },
  {
    name: 'an e-mail without email_verified',
    build: async () => bearer(await s.token('bob', { email_verified: undefined })),
    status: 401,
    error: 'invalid_token',
    reason: 'email_unverified',
  },
  {
    name: 'email_verified as the string "true"',
    build: async () => bearer(await s.token('bob', { email_verified: 'true' })),
    status: 401,
    error: 'invalid_token',
    reason: 'email_unverified',
  },
  {
    name: 'no sub',
    build: async () => bearer(await s.token('alice', { sub: undefined })),
    status: 401,
    error: 'invalid_token',
    reason: 'missing_claim',
  },
  // scope
  {
    name: 'no mcp:tools scope',
    build: async () => bearer(await s.token('alice', { scope: 'openid email' })),
    status: 403,
    error: 'insufficient_scope',
    reason: 'scope',
  },
  {
    name: 'look-alike scope mcp:tools2',
    build: async () => bearer(await s.token('alice', { scope: 'mcp:tools2 mcp:tool' })),
    status: 403,
    error: 'insufficient_scope',
    reason: 'scope',
  },
];

function send(
  a: Awaited<ReturnType<Attack['build']>>,
): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request(`${s.base}${a.path ?? '/mcp'}`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, ...(a.contentType && { 'content-type': a.contentType }), ...a.headers },
    });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    });
    req.on('error', reject);
    req.end(a.body ?? JSON.stringify(INIT_BODY()));
  });
}

describe(`token attack matrix (${attacks.length} cases, zero accepted)`, () => {
  test('has at least 30 cases', () => assert.ok(attacks.length >= 30));
  for (const attack of attacks) {
    test(`${attack.name} → ${attack.status}${attack.error ? ` ${attack.error}` : ' (no error code)'}`, async () => {
      const res = await send(await attack.build());
      assert.equal(res.status, attack.status);
      const challenge = parseChallenge(String(res.headers['www-authenticate']));
      assert.equal(challenge.error, attack.error ?? undefined);
      assert.equal(challenge.resource_metadata, `${s.base}/.well-known/oauth-protected-resource/mcp`);
      assert.equal(challenge.scope, 'mcp:tools');
      if (attack.reason) {
        const line = s.logs.filter((l) => l.event === 'request').at(-1);
        assert.equal(line?.authFailure, attack.reason);
      }
    });
  }
  test('a header block over 16 KiB → 431 before any parsing', async () => {
    const res = await send({ headers: { authorization: `Bearer ${'a'.repeat(20_000)}` } });
    assert.equal(res.status, 431);
  });
  test('control: the scheme is case-insensitive and a valid token is accepted', async () => {
    const res = await send({ headers: { authorization: `bEaReR ${await s.token('alice')}` } });
    assert.equal(res.status, 200);
  });
});

describe('unicode tricks in identity claims', () => {
  test('an e-mail with a look-alike letter authenticates but sees none of alice’s orders', async () => {
    const token = await s.token('alice', { email: 'alіce@example.com' }); // Cyrillic і
    const res = await fetch(`${s.base}/mcp`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'search', arguments: { query: '' } },
      }),
    });
    const text = await res.text();
    assert.equal(res.status, 200);
    assert.match(text, /\\"results\\":\[\]/);
  });
});
