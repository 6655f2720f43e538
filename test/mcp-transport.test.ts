/**
 * The MCP endpoint as real clients use it: the official TypeScript client on the 2025-06-18,
 * 2025-11-25 (sessions) and 2026-07-28 (stateless) wires, clients that re-initialize on every
 * call, sessions bound to their user, GET streams, DELETE, and the legacy HTTP+SSE transport.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, SSEClientTransport, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { INIT_BODY, JSON_HEADERS, rpcBody, type Stack, startStack } from './helpers/stack.js';

let s: Stack;
before(async () => {
  s = await startStack();
});
after(() => s.close());

function bearer(token: string): RequestInit {
  return { headers: { authorization: `Bearer ${token}` } };
}

async function connect(
  token: string,
  mode: 'legacy' | 'auto' | { pin: string },
  path = '/mcp',
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'test-client', version: '1.0.0' }, { versionNegotiation: { mode } });
  const transport = new StreamableHTTPClientTransport(new URL(`${s.base}${path}`), {
    requestInit: bearer(token),
  });
  await client.connect(transport);
  return { client, transport };
}

function searchResults(result: unknown): { id: string; title: string; url: string }[] {
  const r = result as { content: { type: string; text: string }[] };
  assert.equal(r.content.length, 1);
  assert.equal(r.content[0]?.type, 'text');
  return JSON.parse(r.content[0]?.text as string).results;
}

describe('official MCP client', () => {
  test('2025-11-25 with a session: initialize, tools/list, search, fetch, close', async () => {
    const { client, transport } = await connect(await s.token('alice'), 'legacy');
    try {
      assert.ok(transport.sessionId, 'server assigned a session id');
      assert.equal(transport.protocolVersion, '2025-11-25');
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ['fetch', 'search']);
      const results = searchResults(
        await client.callTool({ name: 'search', arguments: { query: 'chocolate' } }),
      );
      assert.ok(results.length > 0);
      const first = results[0];
      assert.ok(first);
      const fetched = (await client.callTool({ name: 'fetch', arguments: { id: first.id } })) as {
        content: { text: string }[];
      };
      const doc = JSON.parse(fetched.content[0]?.text as string);
      assert.equal(doc.id, first.id);
      assert.equal(doc.metadata.customer_email, 'alice@example.com');
    } finally {
      await transport.terminateSession();
      await client.close();
    }
  });

  test('2025-06-18: initialize negotiates it, calls carry it in MCP-Protocol-Version', async () => {
    const token = await s.token('bob');
    const init = await post(token, INIT_BODY('2025-06-18'));
    assert.equal(init.status, 200);
    const sid = init.headers.get('mcp-session-id') as string;
    const msg = (await rpcBody(init)) as { result: { protocolVersion: string } };
    assert.equal(msg.result.protocolVersion, '2025-06-18');
    const headers = { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' };
    assert.equal(
      (await post(token, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers)).status,
      202,
    );
    const call = await post(
      token,
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'search', arguments: { query: 'vanilla' } },
      },
      headers,
    );
    assert.equal(call.status, 200);
    const out = (await rpcBody(call)) as { result: { content: { text: string }[] } };
    assert.ok(JSON.parse(out.result.content[0]?.text as string).results.length > 0);
  });

  test('2026-07-28 stateless wire (server/discover), no session id', async () => {
    const { client, transport } = await connect(await s.token('alice'), { pin: '2026-07-28' });
    try {
      assert.equal(transport.sessionId, undefined);
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ['fetch', 'search']);
      const results = searchResults(
        await client.callTool({ name: 'search', arguments: { query: 'red velvet' } }),
      );
      assert.ok(results.length > 0);
      const logs = s.logs.filter((l) => l.event === 'request' && l.protocolVersion === '2026-07-28');
      assert.ok(logs.some((l) => l.rpcMethod === 'server/discover'));
      assert.ok(logs.some((l) => l.rpcMethod === 'tools/call' && l.tool === 'search'));
    } finally {
      await client.close();
    }
  });

  test('auto negotiation against this server picks 2026-07-28', async () => {
    const { client, transport } = await connect(await s.token('alice'), 'auto');
    try {
      assert.equal(transport.sessionId, undefined);
      assert.ok((await client.listTools()).tools.length === 2);
    } finally {
      await client.close();
    }
  });

  test('the bare origin / is the same endpoint', async () => {
    const { client, transport } = await connect(await s.token('alice'), 'legacy', '/');
    try {
      assert.ok(transport.sessionId);
      assert.equal((await client.listTools()).tools.length, 2);
    } finally {
      await transport.terminateSession();
      await client.close();
    }
  });

  test('legacy HTTP+SSE transport with a bearer token', async () => {
    const token = await s.token('alice');
    const client = new Client(
      { name: 'sse-client', version: '1' },
      { versionNegotiation: { mode: 'legacy' } },
    );
    const transport = new SSEClientTransport(new URL(`${s.base}/sse`), {
      requestInit: bearer(token),
      eventSourceInit: {
        fetch: (url, init) =>
          fetch(url, {
            ...init,
            headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${token}` },
          }),
      },
    });
    await client.connect(transport);
    try {
      const results = searchResults(await client.callTool({ name: 'search', arguments: { query: 'lemon' } }));
      for (const r of results) {
        const f = (await client.callTool({ name: 'fetch', arguments: { id: r.id } })) as {
          content: { text: string }[];
        };
        assert.equal(JSON.parse(f.content[0]?.text as string).metadata.customer_email, 'alice@example.com');
      }
    } finally {
      await client.close();
    }
  });
});

async function post(token: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${s.base}/mcp`, {
    method: 'POST',
    headers: { ...JSON_HEADERS, authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify(body),
  });
}

async function openSession(token: string): Promise<string> {
  const res = await post(token, INIT_BODY());
  assert.equal(res.status, 200);
  const sid = res.headers.get('mcp-session-id');
  assert.ok(sid);
  await res.arrayBuffer();
  const ack = await post(
    token,
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    {
      'mcp-session-id': sid,
      'mcp-protocol-version': '2025-11-25',
    },
  );
  assert.equal(ack.status, 202);
  return sid;
}

const LIST = { jsonrpc: '2.0', id: 2, method: 'tools/list' };

describe('sessions and the raw wire', () => {
  test('a client that re-initializes on every call (ChatGPT) works without sending the session back', async () => {
    const token = await s.token('alice');
    for (let i = 0; i < 3; i++) {
      const init = await post(token, INIT_BODY());
      assert.equal(init.status, 200);
      await init.arrayBuffer();
      const call = await post(
        token,
        {
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'search', arguments: { query: 'carrot' } },
        },
        { 'mcp-protocol-version': '2025-11-25' },
      );
      assert.equal(call.status, 200);
      const msg = (await rpcBody(call)) as { result: { content: { text: string }[] } };
      assert.ok(Array.isArray(JSON.parse(msg.result.content[0]?.text as string).results));
    }
  });

  test('unknown session → 404', async () => {
    const res = await post(await s.token('alice'), LIST, {
      'mcp-session-id': '00000000-0000-4000-8000-000000000000',
      'mcp-protocol-version': '2025-11-25',
    });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: number } }).error.code, -32001);
  });

  test("another user's token with my session id → 404, exactly like an unknown session", async () => {
    const sid = await openSession(await s.token('alice'));
    const res = await post(await s.token('bob'), LIST, {
      'mcp-session-id': sid,
      'mcp-protocol-version': '2025-11-25',
    });
    assert.equal(res.status, 404);
    // and the owner still can use it
    const mine = await post(await s.token('alice'), LIST, {
      'mcp-session-id': sid,
      'mcp-protocol-version': '2025-11-25',
    });
    assert.equal(mine.status, 200);
    await mine.arrayBuffer();
  });

  test('unsupported MCP-Protocol-Version → 400', async () => {
    const token = await s.token('alice');
    const sid = await openSession(token);
    const res = await post(token, LIST, { 'mcp-session-id': sid, 'mcp-protocol-version': '1999-01-01' });
    assert.equal(res.status, 400);
    await res.arrayBuffer();
    const stateless = await post(token, LIST, { 'mcp-protocol-version': '1999-01-01' });
    assert.equal(stateless.status, 400);
    await stateless.arrayBuffer();
  });

  test('2026-07-28 request without Mcp-Method header → 400', async () => {
    const res = await post(
      await s.token('alice'),
      {
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/list',
        params: {
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      },
      { 'mcp-protocol-version': '2026-07-28' },
    );
    assert.equal(res.status, 400);
    await res.arrayBuffer();
  });

  test('GET opens the session’s event stream (headers arrive at once); DELETE ends the session', async () => {
    const token = await s.token('alice');
    const sid = await openSession(token);
    const ctrl = new AbortController();
    const started = Date.now();
    const stream = await fetch(`${s.base}/mcp`, {
      headers: {
        accept: 'text/event-stream',
        authorization: `Bearer ${token}`,
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25',
      },
      signal: ctrl.signal,
    });
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /text\/event-stream/);
    assert.ok(Date.now() - started < 2000, 'stream headers are flushed immediately');
    assert.equal(stream.headers.get('x-accel-buffering'), 'no', 'proxies must not buffer the stream');
    assert.match(stream.headers.get('cache-control') ?? '', /no-transform/);
    ctrl.abort();
    const del = await fetch(`${s.base}/mcp`, {
      method: 'DELETE',
      headers: {
        authorization: `Bearer ${token}`,
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25',
      },
    });
    assert.equal(del.status, 200);
    const after = await post(token, LIST, { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' });
    assert.equal(after.status, 404);
  });

  test('GET without a session → 405 (no stateless stream)', async () => {
    const res = await fetch(`${s.base}/mcp`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${await s.token('alice')}` },
    });
    assert.equal(res.status, 405);
    await res.arrayBuffer();
  });

  test('legacy SSE: POST to another user’s stream → 404', async () => {
    const alice = await s.token('alice');
    const ctrl = new AbortController();
    const res = await fetch(`${s.base}/sse`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${alice}` },
      signal: ctrl.signal,
    });
    assert.equal(res.status, 200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
    const endpoint = /data: (\S+)/.exec(text)?.[1];
    assert.match(endpoint ?? '', /^\/messages\?sessionId=/);
    assert.equal(res.headers.get('x-accel-buffering'), 'no');
    const bob = await fetch(`${s.base}${endpoint}`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, authorization: `Bearer ${await s.token('bob')}` },
      body: JSON.stringify(INIT_BODY('2024-11-05')),
    });
    assert.equal(bob.status, 404);
    const mine = await fetch(`${s.base}${endpoint}`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, authorization: `Bearer ${alice}` },
      body: JSON.stringify(INIT_BODY('2024-11-05')),
    });
    assert.equal(mine.status, 202);
    ctrl.abort();
  });

  test('legacy SSE: one user holds at most MCP_MAX_SSE_STREAMS_PER_USER streams, the oldest closes first; others are untouched', async () => {
    const stack = await startStack({ MCP_MAX_SSE_STREAMS_PER_USER: '3' });
    const open = (user: 'alice' | 'bob') => openSseStream(stack, user);
    const race = (p: Promise<boolean>) =>
      Promise.race([p, new Promise<boolean>((r) => setTimeout(() => r(false), 1000))]);
    try {
      const bobs = await open('bob');
      const alices = [await open('alice'), await open('alice'), await open('alice')];
      const fourth = await open('alice');
      assert.equal(
        await race(alices[0]?.ended as Promise<boolean>),
        true,
        'alice’s oldest stream was closed',
      );
      assert.equal(await race(alices[1]?.ended as Promise<boolean>), false, 'her other streams stay');
      assert.equal(await race(bobs.ended), false, 'bob’s stream is untouched');
      for (const c of [bobs, ...alices, fourth]) c.ctrl.abort();
    } finally {
      await stack.close();
    }
  });

  test('legacy SSE: a stream is closed after MCP_SSE_MAX_LIFETIME_SECONDS', async () => {
    const stack = await startStack({ MCP_SSE_MAX_LIFETIME_SECONDS: '1' });
    try {
      const stream = await openSseStream(stack, 'alice');
      const ended = await Promise.race([
        stream.ended,
        new Promise<boolean>((r) => setTimeout(() => r(false), 4000)),
      ]);
      stream.ctrl.abort();
      assert.equal(ended, true, 'the server ended the stream');
    } finally {
      await stack.close();
    }
  });
});

/** Opens a legacy SSE stream and reads its `endpoint` event; `ended` resolves true when the server ends it. */
async function openSseStream(stack: Stack, user: 'alice' | 'bob') {
  const ctrl = new AbortController();
  const res = await fetch(`${stack.base}/sse`, {
    headers: { accept: 'text/event-stream', authorization: `Bearer ${await stack.token(user)}` },
    signal: ctrl.signal,
  });
  assert.equal(res.status, 200);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
  const ended = (async () => {
    try {
      for (;;) if ((await reader.read()).done) return true;
    } catch {
      return false; // aborted by us
    }
  })();
  return { ctrl, ended };
}
