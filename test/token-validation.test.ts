/**
 * Token validation as a resource server must do it (OAuth 2.1 §5.2, MCP authorization):
 * signature by the issuer's keys, asymmetric algorithms only, `iss`, `aud`, `exp`/`nbf`, scope.
 * Each refused token must get 401 `invalid_token` with the precise reason in the log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { base64url, SignJWT } from 'jose';
import { INIT_BODY, JSON_HEADERS, parseChallenge, type Stack, startStack } from './helpers/stack.js';

let s: Stack;
before(async () => {
  s = await startStack();
});
after(() => s.close());

async function call(token: string, on: Stack = s) {
  const res = await fetch(`${on.base}/mcp`, {
    method: 'POST',
    headers: { ...JSON_HEADERS, authorization: `Bearer ${token}` },
    body: JSON.stringify(INIT_BODY()),
  });
  await res.arrayBuffer();
  return res;
}

function lastAuthFailure(): unknown {
  return s.logs.filter((l) => l.event === 'request').at(-1)?.authFailure;
}

async function expectRefused(token: string, reason: string) {
  const res = await call(token);
  assert.equal(res.status, 401);
  assert.equal(parseChallenge(res.headers.get('www-authenticate')).error, 'invalid_token');
  assert.equal(lastAuthFailure(), reason);
}

const now = () => Math.floor(Date.now() / 1000);

describe('accepted tokens', () => {
  test('audience = MCP_SERVER_URL/mcp (the default MCP_ALT_AUDIENCE)', async () => {
    assert.equal((await call(await s.token('alice', { aud: `${s.base}/mcp` }))).status, 200);
  });
  test('audience = MCP_SERVER_URL (MCP_AUDIENCE)', async () => {
    assert.equal((await call(await s.token('alice', { aud: s.base }))).status, 200);
  });
  test('audience = MCP_SERVER_URL with the trailing slash new URL() adds', async () => {
    assert.equal((await call(await s.token('alice', { aud: `${s.base}/` }))).status, 200);
  });
  test('audience array containing ours (Keycloak style)', async () => {
    assert.equal((await call(await s.token('alice', { aud: ['account', `${s.base}/mcp`] }))).status, 200);
  });
  test('exp just past, within the 30 s clock skew', async () => {
    assert.equal((await call(await s.token('alice', { exp: now() - 10 }))).status, 200);
  });
  test('scp array instead of a scope string', async () => {
    assert.equal((await call(await s.token('alice', { scope: undefined, scp: ['mcp:tools'] }))).status, 200);
  });
});

describe('refused tokens', () => {
  test('wrong issuer', async () =>
    expectRefused(await s.token('alice', { iss: 'https://evil.example/realms/mcp' }), 'issuer'));
  test('issuer with a trailing slash variant', async () =>
    expectRefused(await s.token('alice', { iss: `${s.issuer.issuer}/` }), 'issuer'));
  test('wrong audience', async () => expectRefused(await s.token('alice', { aud: 'account' }), 'audience'));
  test('audience array without ours', async () =>
    expectRefused(await s.token('alice', { aud: ['account', 'https://other.example/mcp'] }), 'audience'));
  test('audience /mcp/ (trailing slash on a path is another resource)', async () =>
    expectRefused(await s.token('alice', { aud: `${s.base}/mcp/` }), 'audience'));
  test('expired beyond the skew', async () =>
    expectRefused(await s.token('alice', { exp: now() - 120 }), 'expired'));
  test('nbf in the future', async () =>
    expectRefused(await s.token('alice', { nbf: now() + 600 }), 'not_yet_valid'));
  test('no exp', async () => expectRefused(await s.token('alice', {}, { expiresIn: null }), 'missing_claim'));
  test('no sub', async () => expectRefused(await s.token('alice', { sub: undefined }), 'missing_claim'));
  test('signed by a key that is not the issuer’s (same kid)', async () =>
    expectRefused(await s.token('alice', {}, { foreignKey: true }), 'signature'));
  test('unknown kid', async () => expectRefused(await s.token('alice', {}, { kid: 'nope' }), 'unknown_kid'));
  test('tampered payload', async () => {
    const [h, , sig] = (await s.token('alice')).split('.');
    const payload = base64url.encode(
      JSON.stringify({
        iss: s.issuer.issuer,
        aud: `${s.base}/mcp`,
        sub: 'user-carol',
        exp: now() + 300,
        scope: 'mcp:tools',
        realm_access: { roles: ['staff'] },
      }),
    );
    await expectRefused(`${h}.${payload}.${sig}`, 'signature');
  });
  test('truncated signature', async () => {
    const t = await s.token('alice');
    await expectRefused(t.slice(0, -10), 'signature');
  });
  test('alg none', async () => {
    const h = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const p = base64url.encode(
      JSON.stringify({
        iss: s.issuer.issuer,
        aud: `${s.base}/mcp`,
        sub: 'x',
        exp: now() + 300,
        scope: 'mcp:tools',
      }),
    );
    await expectRefused(`${h}.${p}.`, 'algorithm');
  });
  test('HS256 signed with the public key as secret', async () => {
    const jwks = await (await fetch(s.issuer.jwksUrl)).json();
    const secret = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
    const t = await new SignJWT({ iss: s.issuer.issuer, aud: `${s.base}/mcp`, sub: 'x', scope: 'mcp:tools' })
      .setProtectedHeader({ alg: 'HS256', kid: jwks.keys[0].kid })
      .setExpirationTime('5m')
      .sign(secret);
    await expectRefused(t, 'algorithm');
  });
  test('a Keycloak ID token (typ ID) presented as access token', async () =>
    expectRefused(await s.token('alice', { typ: 'ID' }), 'token_type'));
  test('garbage', async () => expectRefused('not-a-jwt', 'malformed'));
  test('oversized token', async () => expectRefused('a'.repeat(13_000), 'oversized_token'));
  test('a header block over 16 KiB is answered 431', async () => {
    assert.equal((await call('a'.repeat(20_000))).status, 431);
  });
});

describe('e-mail verification and token type', () => {
  test('by default: header typ JWT (Keycloak) and at+jwt (RFC 9068) pass; dpop+jwt does not; an unverified e-mail does not', async () => {
    for (const typ of ['JWT', 'at+jwt', 'application/at+jwt'])
      assert.equal((await call(await s.token('alice', {}, { header: { typ } }))).status, 200, typ);
    await expectRefused(await s.token('alice', {}, { header: { typ: 'dpop+jwt' } }), 'token_type');
    await expectRefused(await s.token('bob', { email_verified: false }), 'email_unverified');
  });

  test('MCP_REQUIRE_AT_JWT=true refuses header typ JWT; MCP_REQUIRE_EMAIL_VERIFIED=false lets an unverified e-mail through', async () => {
    const strict = await startStack({ MCP_REQUIRE_AT_JWT: 'true', MCP_REQUIRE_EMAIL_VERIFIED: 'false' });
    try {
      const jwt = await call(await strict.token('alice', {}, { header: { typ: 'JWT' } }), strict);
      assert.equal(jwt.status, 401);
      assert.match(jwt.headers.get('www-authenticate') ?? '', /header typ must be at\+jwt/);
      const atJwt = { header: { typ: 'at+jwt' } };
      assert.equal((await call(await strict.token('alice', {}, atJwt), strict)).status, 200);
      const unverified = await strict.token('bob', { email_verified: false }, atJwt);
      assert.equal((await call(unverified, strict)).status, 200);
    } finally {
      await strict.close();
    }
  });
});

describe('identity and logs', () => {
  test('the request log has iss, aud, sub, client id and scopes — and never the token', async () => {
    const token = await s.token('alice');
    assert.equal((await call(token)).status, 200);
    const line = s.logs.filter((l) => l.event === 'request').at(-1);
    assert.equal(line?.iss, s.issuer.issuer);
    assert.deepEqual(line?.aud, [`${s.base}/mcp`]);
    assert.equal(line?.sub, 'user-alice');
    assert.equal(line?.clientId, 'test-client');
    assert.deepEqual(line?.scopes, ['openid', 'email', 'mcp:tools']);
    assert.equal(line?.path, '/mcp');
    assert.equal(line?.rpcMethod, 'initialize');
    assert.equal(s.rawLogs().includes(token), false);
    assert.equal(s.rawLogs().includes(token.split('.')[2] as string), false);
  });

  test('auth failures are counted by reason in /metrics', async () => {
    await call(await s.token('alice', { aud: 'account' }));
    const text = await (await fetch(`${s.base}/metrics`)).text();
    assert.match(text, /mcp_auth_failures_total\{reason="audience"\} [1-9]/);
  });
});

describe('keys: rotation, floods, authorization server outage', () => {
  let k: Stack;
  const certs = '/realms/mcp/protocol/openid-connect/certs';
  before(async () => {
    k = await startStack({ MCP_JWKS_COOLDOWN_SECONDS: '1' });
    await k.rs.keys.refresh();
  });
  after(() => k.close());
  const callK = async (token: string) => {
    const res = await fetch(`${k.base}/mcp`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, authorization: `Bearer ${token}` },
      body: JSON.stringify(INIT_BODY()),
    });
    await res.arrayBuffer();
    return res.status;
  };
  const fetches = () => k.issuer.hits.get(certs) ?? 0;

  test('a rotated key is fetched once on first sight and then works', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // past the cooldown of the start-up fetch
    const before = fetches();
    const kid = await k.issuer.rotate();
    assert.equal(await callK(await k.token('alice', {}, { kid })), 200);
    assert.equal(fetches() - before, 1);
    assert.equal(await callK(await k.token('bob', {}, { kid })), 200);
    assert.equal(fetches() - before, 1, 'no refetch for a known kid');
  });

  test('a flood of random kids causes at most one JWKS fetch per cooldown', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const before = fetches();
    for (let i = 0; i < 30; i++)
      assert.equal(await callK(await k.token('alice', {}, { kid: `random-${i}` })), 401);
    assert.ok(fetches() - before <= 1, `${fetches() - before} JWKS fetches`);
  });

  test('a token verified before is refused once the issuer drops its key (no stale verification cache)', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    const oldKid = await k.issuer.rotate();
    const token = await k.token('carol', {}, { kid: oldKid });
    assert.equal(await callK(token), 200);
    assert.equal(await callK(token), 200, 'served again (from the verified-token cache)');
    await new Promise((r) => setTimeout(r, 1100));
    const newKid = await k.issuer.rotate({ dropOld: true });
    // A token with the new kid makes the server refetch the key set, which no longer has oldKid.
    assert.equal(await callK(await k.token('alice', {}, { kid: newKid })), 200);
    assert.equal(await callK(token), 401);
  });

  test('authorization server down: cached keys still verify, /readyz says degraded', async () => {
    await k.issuer.stop();
    try {
      await new Promise((r) => setTimeout(r, 1100));
      // an unknown kid forces a refresh, which fails
      assert.equal(await callK(await k.token('alice', {}, { kid: 'unknown-while-down' })), 401);
      assert.equal(await callK(await k.token('alice')), 200);
      const ready = await fetch(`${k.base}/readyz`);
      assert.equal(ready.status, 200);
      const body = await ready.json();
      assert.equal(body.status, 'degraded');
      assert.match(body.checks.jwks.error, /request failed/);
    } finally {
      await k.issuer.start();
    }
  });
});
