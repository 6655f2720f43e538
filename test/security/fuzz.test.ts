/**
 * Property-based fuzzing of the HTTP surface (fast-check): arbitrary JSON-RPC bodies, protocol
 * headers, session ids and paths, with and without a valid token — 10,000 requests in all. The
 * process never crashes, never answers 5xx, and every answer is well-formed (a JSON-RPC message,
 * an OAuth error, or an event stream); afterwards it still serves a normal tool call.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { INIT_BODY, JSON_HEADERS, rpcBody, SEARCH_CALL, type Stack, startStack } from '../helpers/stack.js';

let s: Stack;
let token: string;
before(async () => {
  s = await startStack({ MCP_RATE_LIMIT_PER_MINUTE: '0', MCP_MAX_SESSIONS: '500' });
  token = await s.token('alice', {}, { expiresIn: 3600 });
});
after(() => s.close());

const ALLOWED = new Set([200, 202, 204, 400, 401, 403, 404, 405, 406, 413, 415]);

/** Sends one request and checks the answer is allowed and well-formed. */
async function probe(path: string, init: RequestInit): Promise<void> {
  const res = await fetch(`${s.base}${path}`, { ...init, signal: AbortSignal.timeout(5000) });
  const type = res.headers.get('content-type') ?? '';
  assert.ok(ALLOWED.has(res.status), `${init.method} ${path} → ${res.status}`);
  if (type.includes('text/event-stream')) {
    await res.body?.cancel(); // a stream: headers are the answer
    return;
  }
  const text = await res.text();
  if (res.status === 202 || res.status === 204) return;
  if (text === '') {
    assert.ok([405, 202].includes(res.status) || res.status < 300, `empty ${res.status}`);
    return;
  }
  assert.match(type, /json|html/, `${res.status} ${type}`);
  if (type.includes('json')) {
    const body = JSON.parse(text) as Record<string, unknown>;
    assert.ok(body !== null && typeof body === 'object', `not a JSON object: ${text.slice(0, 100)}`);
    if (res.status >= 400) {
      // an error: a JSON-RPC error with a numeric code, or an OAuth-style {error, error_description}
      const rpcError =
        body.jsonrpc === '2.0' && typeof (body.error as { code?: unknown } | undefined)?.code === 'number';
      assert.ok(
        rpcError || typeof body.error === 'string',
        `malformed error ${res.status}: ${text.slice(0, 200)}`,
      );
    } else if (path === '/mcp' || path === '/') {
      assert.equal(body.jsonrpc, '2.0', `not JSON-RPC: ${text.slice(0, 200)}`);
      assert.ok('result' in body || 'error' in body);
    }
  }
}

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const rpcMethod = fc.oneof(
  fc.constantFrom(
    'initialize',
    'tools/list',
    'tools/call',
    'ping',
    'server/discover',
    'notifications/initialized',
    'resources/list',
    'x',
  ),
  fc.string({ maxLength: 40 }),
);
const rpcBodyArb = fc.oneof(
  fc
    .record(
      {
        jsonrpc: fc.oneof(fc.constant('2.0'), fc.string({ maxLength: 5 })),
        id: fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.constant(null)),
        method: rpcMethod,
        params: fc.oneof(
          jsonValue,
          fc.record({
            name: fc.constantFrom('search', 'fetch', 'nope', ''),
            arguments: fc.oneof(
              fc.record({ query: fc.string({ maxLength: 300 }) }),
              fc.record({ id: fc.string({ maxLength: 50 }) }),
              jsonValue,
            ),
            _meta: fc.oneof(
              fc.constant(undefined),
              fc.record({
                'io.modelcontextprotocol/protocolVersion': fc.constantFrom('2026-07-28', '2025-11-25', 'x'),
                'io.modelcontextprotocol/clientCapabilities': jsonValue,
              }),
            ),
            protocolVersion: fc.constantFrom('2025-11-25', '2025-06-18', '2024-11-05', '1999-01-01'),
            capabilities: jsonValue,
            clientInfo: jsonValue,
          }),
        ),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
  jsonValue.map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
);
const headerValue = fc.oneof(fc.constant(undefined), fc.stringMatching(/^[\x21-\x7e]{0,60}$/));
const headersArb = fc.record({
  'mcp-protocol-version': fc.oneof(
    fc.constantFrom(undefined, '2025-11-25', '2025-06-18', '2026-07-28', '1999-01-01'),
    headerValue,
  ),
  'mcp-session-id': fc.oneof(fc.constant(undefined), fc.uuid(), headerValue),
  'mcp-method': headerValue,
  'mcp-name': headerValue,
  accept: fc.constantFrom(
    'application/json, text/event-stream',
    'application/json',
    'text/event-stream',
    '*/*',
    'text/html',
  ),
  'content-type': fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
  ),
  auth: fc.constantFrom('valid', 'valid', 'valid', 'none', 'garbage'),
});

function toHeaders(h: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && k !== 'auth') out[k] = v;
  if (h.auth === 'valid') out.authorization = `Bearer ${token}`;
  if (h.auth === 'garbage') out.authorization = 'Bearer x.y.z';
  return out;
}

describe('fuzzing (10,000 requests)', () => {
  test('JSON-RPC bodies with protocol headers: 7,000 POSTs to /mcp and /', async () => {
    await fc.assert(
      fc.asyncProperty(rpcBodyArb, headersArb, fc.constantFrom('/mcp', '/'), async (body, headers, path) => {
        await probe(path, { method: 'POST', headers: toHeaders(headers), body });
      }),
      { numRuns: 7000 },
    );
  });

  test('paths, methods and session ids: 3,000 requests', async () => {
    const pathArb = fc.oneof(
      fc.constantFrom(
        '/mcp',
        '/',
        '/messages',
        '/healthz',
        '/readyz',
        '/.well-known/oauth-protected-resource',
        '/.well-known/oauth-protected-resource/mcp',
      ),
      fc.string({ maxLength: 30 }).map((x) => `/orders/${encodeURIComponent(x)}`),
      fc.string({ maxLength: 30 }).map((x) => `/messages?sessionId=${encodeURIComponent(x)}`),
      fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
    );
    await fc.assert(
      fc.asyncProperty(
        pathArb,
        fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'OPTIONS', 'PATCH'),
        headersArb,
        fc.option(rpcBodyArb),
        async (path, method, headers, body) => {
          const h = toHeaders(headers);
          if (method === 'GET' && h.accept?.includes('text/event-stream')) h.accept = 'application/json';
          await probe(path, {
            method,
            headers: h,
            body: ['GET', 'OPTIONS'].includes(method) ? undefined : (body ?? undefined),
          });
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('afterwards: alive, ready, and a normal tool call works', async () => {
    assert.equal((await fetch(`${s.base}/healthz`)).status, 200);
    const init = await fetch(`${s.base}/mcp`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, authorization: `Bearer ${token}` },
      body: JSON.stringify(INIT_BODY()),
    });
    assert.equal(init.status, 200);
    await init.arrayBuffer();
    const call = await fetch(`${s.base}/mcp`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify(SEARCH_CALL('chocolate', 9)),
    });
    assert.equal(call.status, 200);
    assert.ok(((await rpcBody(call)) as { result: unknown }).result);
    assert.equal(s.logs.filter((l) => l.event === 'unhandled').length, 0, 'no unhandled errors logged');
  });
});
