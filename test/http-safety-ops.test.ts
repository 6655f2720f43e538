/**
 * Browser safety (Origin/Host, CORS), request limits, and the operations endpoints.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { INIT_BODY, JSON_HEADERS, type Stack, startStack } from './helpers/stack.js';

let s: Stack;
before(async () => {
  s = await startStack({ MCP_ALLOWED_ORIGINS: 'https://inspector.example.com', MCP_MAX_BODY_BYTES: '65536' });
});
after(() => s.close());

async function postInit(headers: Record<string, string>, body: string = JSON.stringify(INIT_BODY())) {
  const token = await s.token('alice');
  return fetch(`${s.base}/mcp`, {
    method: 'POST',
    headers: { ...JSON_HEADERS, authorization: `Bearer ${token}`, ...headers },
    body,
  });
}

/** A request with an arbitrary Host header (fetch does not allow setting it). */
function withHost(host: string, path = '/mcp'): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${s.base}${path}`);
    const get = path !== '/mcp';
    const req = request({
      host: url.hostname,
      port: url.port,
      path,
      method: get ? 'GET' : 'POST',
      headers: get ? { host } : { ...JSON_HEADERS, host },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(get ? undefined : JSON.stringify(INIT_BODY()));
  });
}

describe('Origin and Host (DNS rebinding)', () => {
  test('a foreign Origin → 403 before authentication', async () => {
    const res = await postInit({ origin: 'https://evil.example' });
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /Origin/);
  });
  test('no Origin (server-to-server clients such as ChatGPT) → allowed', async () => {
    assert.equal((await postInit({})).status, 200);
  });
  test('allow-listed and loopback origins → allowed, with CORS headers', async () => {
    for (const origin of ['https://inspector.example.com', 'http://localhost:6274', s.base]) {
      const res = await postInit({ origin });
      assert.equal(res.status, 200, origin);
      assert.equal(res.headers.get('access-control-allow-origin'), origin);
      assert.match(res.headers.get('access-control-expose-headers') ?? '', /Mcp-Session-Id/);
      assert.match(res.headers.get('access-control-expose-headers') ?? '', /MCP-Protocol-Version/);
    }
  });
  test('preflight: allowed origin → 204 with the MCP headers; foreign → 403', async () => {
    const ok = await fetch(`${s.base}/mcp`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:6274',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
    });
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'http://localhost:6274');
    for (const h of ['Authorization', 'Mcp-Session-Id', 'MCP-Protocol-Version', 'Last-Event-ID']) {
      assert.match(ok.headers.get('access-control-allow-headers') ?? '', new RegExp(h));
    }
    const bad = await fetch(`${s.base}/mcp`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(bad.status, 403);
  });
  test('a Host that is not MCP_SERVER_URL’s (nor loopback) → 403', async () => {
    assert.equal(await withHost('evil.example'), 403);
    assert.equal(await withHost('attacker.example:3000'), 403);
    assert.equal(await withHost('localhost:1234'), 401); // passes the Host gate, then needs a token
  });
  test('/readyz and /metrics: a rebinding host name → 403; loopback and IP-address probes pass', async () => {
    for (const path of ['/readyz', '/metrics']) {
      assert.equal(await withHost('evil.example', path), 403, path);
      assert.equal(await withHost('localhost:3000', path), 200, path);
      assert.equal(await withHost('10.1.2.3:3000', path), 200, `${path}: a Kubernetes probe`);
      assert.equal(await withHost('[fd00::7]:3000', path), 200, path);
    }
  });
});

describe('request limits and malformed requests', () => {
  test('body over the limit → 413', async () => {
    const big = JSON.stringify({ ...INIT_BODY(), pad: 'x'.repeat(70_000) });
    assert.equal((await postInit({}, big)).status, 413);
  });
  test('malformed JSON → 400 with JSON-RPC parse error -32700', async () => {
    const res = await postInit({}, '{"jsonrpc":"2.0",');
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: number } }).error.code, -32700);
  });
  test('wrong Content-Type → 415', async () => {
    assert.equal((await postInit({ 'content-type': 'text/plain' })).status, 415);
  });
  test('unsupported method → 405 with Allow', async () => {
    const res = await fetch(`${s.base}/mcp`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${await s.token('alice')}` },
    });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST, GET, DELETE');
  });
  test('a JSON-RPC batch or a non-object body is refused cleanly', async () => {
    for (const body of ['[]', '42', '"x"', 'null', '{"jsonrpc":"2.0","id":1}']) {
      const res = await postInit({ 'mcp-protocol-version': '2025-11-25' }, body);
      assert.ok(res.status >= 400 && res.status < 500, `${body} → ${res.status}`);
    }
    assert.equal((await postInit({})).status, 200, 'server still healthy');
  });
});

describe('operations', () => {
  test('/healthz is alive', async () => {
    const res = await fetch(`${s.base}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });
  test('/readyz reports the JWKS and the store', async () => {
    const res = await fetch(`${s.base}/readyz`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.status, 'ready');
    assert.equal(body.checks.jwks.state, 'ready');
    assert.equal(body.checks.jwks.url, s.issuer.jwksUrl);
    assert.equal(body.checks.store.state, 'ready');
  });
  test('/metrics exposes request, auth-failure and tool counters', async () => {
    await fetch(`${s.base}/mcp`, { method: 'POST', headers: JSON_HEADERS, body: '{}' });
    const text = await (await fetch(`${s.base}/metrics`)).text();
    assert.match(text, /mcp_http_requests_total\{route="mcp",method="POST",status="401"\} \d+/);
    assert.match(text, /mcp_auth_failures_total\{reason="no_credentials"\} \d+/);
    assert.match(text, /# TYPE mcp_tool_calls_total counter/);
  });
  test('one JSON log line per request with method, path, status, duration', async () => {
    await fetch(`${s.base}/.well-known/oauth-protected-resource`);
    const line = s.logs
      .filter((l) => l.event === 'request' && l.path === '/.well-known/oauth-protected-resource')
      .at(-1);
    assert.equal(line?.method, 'GET');
    assert.equal(line?.status, 200);
    assert.equal(typeof line?.durationMs, 'number');
  });
});
