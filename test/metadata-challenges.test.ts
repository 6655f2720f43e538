/**
 * Discovery and challenges: what a client (ChatGPT, Claude, the Inspector) sees before it has a
 * token — RFC 9728 metadata at both paths, and 401/403 challenges on every protected route.
 */
import assert from 'node:assert/strict';
import { type IncomingHttpHeaders, type OutgoingHttpHeaders, request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { INIT_BODY, JSON_HEADERS, parseChallenge, type Stack, startStack } from './helpers/stack.js';

let s: Stack;
before(async () => {
  s = await startStack();
});
after(() => s.close());

describe('Protected Resource Metadata (RFC 9728)', () => {
  test('root form describes the origin resource, byte-exact issuer, header-only bearer', async () => {
    const res = await fetch(`${s.base}/.well-known/oauth-protected-resource`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    const doc = await res.json();
    assert.equal(doc.resource, s.base);
    assert.deepEqual(doc.authorization_servers, [s.issuer.issuer]);
    assert.deepEqual(doc.scopes_supported, ['mcp:tools']);
    assert.deepEqual(doc.bearer_methods_supported, ['header']);
  });

  test('path form describes <origin>/mcp', async () => {
    const res = await fetch(`${s.base}/.well-known/oauth-protected-resource/mcp`);
    assert.equal(res.status, 200);
    const doc = await res.json();
    assert.equal(doc.resource, `${s.base}/mcp`);
    assert.equal(doc.authorization_servers[0], s.issuer.issuer);
  });

  test('the issuer in the metadata equals the issuer in the authorization server metadata', async () => {
    const prm = await (await fetch(`${s.base}/.well-known/oauth-protected-resource/mcp`)).json();
    const as = await (await fetch(`${prm.authorization_servers[0]}/.well-known/openid-configuration`)).json();
    assert.equal(prm.authorization_servers[0], as.issuer);
  });

  test('unauthenticated and CORS-preflightable from a browser (the Inspector)', async () => {
    const res = await fetch(`${s.base}/.well-known/oauth-protected-resource/mcp`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:6274', 'access-control-request-method': 'GET' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });

  test('other well-known paths are a fast JSON 404, never a 401', async () => {
    const res = await fetch(`${s.base}/.well-known/oauth-authorization-server`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('www-authenticate'), null);
  });
});

describe('401 challenge without a token', () => {
  const cases: [string, string, string][] = [
    ['POST', '/mcp', '/.well-known/oauth-protected-resource/mcp'],
    ['GET', '/mcp', '/.well-known/oauth-protected-resource/mcp'],
    ['DELETE', '/mcp', '/.well-known/oauth-protected-resource/mcp'],
    ['POST', '/', '/.well-known/oauth-protected-resource'],
    ['GET', '/', '/.well-known/oauth-protected-resource'],
    ['GET', '/sse', '/.well-known/oauth-protected-resource'],
    ['POST', '/messages?sessionId=x', '/.well-known/oauth-protected-resource'],
    ['GET', '/orders/ord-100000', '/.well-known/oauth-protected-resource'],
  ];
  for (const [method, path, prm] of cases) {
    test(`${method} ${path} → 401, resource_metadata names ${prm}, scope, no error`, async () => {
      const res = await fetch(`${s.base}${path}`, {
        method,
        headers: JSON_HEADERS,
        body: method === 'POST' ? JSON.stringify(INIT_BODY()) : undefined,
      });
      assert.equal(res.status, 401);
      const c = parseChallenge(res.headers.get('www-authenticate'));
      assert.equal(c.resource_metadata, `${s.base}${prm}`);
      assert.equal(c.scope, 'mcp:tools');
      assert.equal(c.error, undefined);
      // the metadata URL it names really serves metadata
      const meta = await fetch(c.resource_metadata as string);
      assert.equal(meta.status, 200);
    });
  }

  test('a non-Bearer scheme is treated like no token (RFC 6750 §3.1)', async () => {
    const res = await fetch(`${s.base}/mcp`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, authorization: 'Basic YWxpY2U6c2VjcmV0' },
      body: JSON.stringify(INIT_BODY()),
    });
    assert.equal(res.status, 401);
    assert.equal(parseChallenge(res.headers.get('www-authenticate')).error, undefined);
  });

  test('a token in the query string is ignored (401 without token)', async () => {
    const token = await s.token('alice');
    const res = await fetch(`${s.base}/mcp?access_token=${token}`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify(INIT_BODY()),
    });
    assert.equal(res.status, 401);
  });
});

describe('bad token → 401 invalid_token; missing scope → 403 insufficient_scope', () => {
  test('expired token', async () => {
    const token = await s.token('alice', { exp: Math.floor(Date.now() / 1000) - 3600 });
    const res = await fetch(`${s.base}/mcp`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, authorization: `Bearer ${token}` },
      body: JSON.stringify(INIT_BODY()),
    });
    assert.equal(res.status, 401);
    const c = parseChallenge(res.headers.get('www-authenticate'));
    assert.equal(c.error, 'invalid_token');
    assert.match(c.error_description ?? '', /expired/);
    assert.equal(c.resource_metadata, `${s.base}/.well-known/oauth-protected-resource/mcp`);
  });

  test('a token without mcp:tools gets 403 with the needed scope', async () => {
    const token = await s.token('alice', { scope: 'openid email' });
    for (const path of ['/mcp', '/sse']) {
      const res = await fetch(`${s.base}${path}`, {
        method: path === '/sse' ? 'GET' : 'POST',
        headers: { ...JSON_HEADERS, authorization: `Bearer ${token}` },
        body: path === '/sse' ? undefined : JSON.stringify(INIT_BODY()),
      });
      assert.equal(res.status, 403, path);
      const c = parseChallenge(res.headers.get('www-authenticate'));
      assert.equal(c.error, 'insufficient_scope');
      assert.equal(c.scope, 'mcp:tools');
    }
  });

  test('two Authorization headers → 400 invalid_request', async () => {
    const token = await s.token('alice');
    const { status, headers } = await new Promise<{ status: number; headers: IncomingHttpHeaders }>(
      (resolve, reject) => {
        const req = request(`${s.base}/mcp`, {
          method: 'POST',
          headers: {
            ...JSON_HEADERS,
            authorization: [`Bearer ${token}`, `Bearer ${token}`],
          } as unknown as OutgoingHttpHeaders,
        });
        req.on('response', (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, headers: res.headers });
        });
        req.on('error', reject);
        req.end(JSON.stringify(INIT_BODY()));
      },
    );
    assert.equal(status, 400);
    assert.equal(parseChallenge(String(headers['www-authenticate'])).error, 'invalid_request');
  });

  test('the 401 challenge is readable by browser clients (CORS exposes WWW-Authenticate)', async () => {
    const res = await fetch(`${s.base}/mcp`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, origin: 'http://localhost:6274' },
      body: JSON.stringify(INIT_BODY()),
    });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://localhost:6274');
    assert.match(res.headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/);
  });
});
