/**
 * State shared between replicas, piece by piece: signed session ids (what any replica can check
 * alone), the session registry (what ends a session), and — with a real Redis — rate limits that
 * hold across replicas and a start-up error that names REDIS_URL. The end-to-end proof with three
 * replicas behind a proxy is test/replicas.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { SessionIds } from '../src/cluster/sessionIds.js';
import { MemorySessionRegistry } from '../src/cluster/sessionRegistry.js';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { SharedServer } from '../src/mcp/sharedServer.js';
import { type ResourceServer, startResourceServer } from '../src/resourceServer.js';
import { startEmbeddedStack } from './helpers/embedded.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { CHATGPT_REDIRECT } from './helpers/loginForm.js';
import { captureLogs } from './helpers/logs.js';
import { findRedis, type RedisServer, startRedis } from './helpers/redis.js';
import { requirements } from './helpers/requirements.js';
import {
  freePort,
  INIT_BODY,
  JSON_HEADERS,
  rpcBody,
  type Stack,
  sampleStore,
  startStack,
  USERS,
} from './helpers/stack.js';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';

/**
 * Resource servers that share one public URL (so tokens carry one audience), as replicas behind a
 * proxy would; each is pushed to `started` for the suite to close.
 */
async function startReplicaSet(
  issuer: TestIssuer,
  env: Record<string, string>[],
  started: ResourceServer[],
): Promise<{ base: string; servers: ResourceServer[] }> {
  const ports = await Promise.all(env.map(() => freePort()));
  const base = `http://127.0.0.1:${ports[0]}`;
  const servers: ResourceServer[] = [];
  for (const [i, extra] of env.entries()) {
    const config = loadConfig({
      KC_ISSUER: issuer.issuer,
      MCP_SERVER_URL: base,
      PORT: String(ports[i]),
      ...extra,
    });
    const rs = await startResourceServer(config, { logger: captureLogs().logger, store: sampleStore() });
    started.push(rs);
    servers.push(rs);
  }
  return { base, servers };
}

/** An access token of a test user for the replicas at `base`. */
function tokenFor(issuer: TestIssuer, base: string, user: 'alice' | 'bob'): Promise<string> {
  const u = USERS[user];
  return issuer.sign({ iss: issuer.issuer, aud: base, sub: u.sub, email: u.email, scope: 'mcp:tools' });
}

describe('signed session ids', () => {
  const ids = new SessionIds(SECRET, { maxAgeMs: 60_000 });
  const alice = 'https://issuer|user-alice';

  test('an id validates for the principal it was issued to, with its protocol version', () => {
    const sid = ids.issue(alice, '2025-11-25');
    assert.match(sid, /^[\x21-\x7e]+$/, 'visible ASCII only, as the spec requires');
    assert.equal(ids.verify(sid, alice)?.protocolVersion, '2025-11-25');
    assert.notEqual(ids.issue(alice, '2025-11-25'), sid, 'every id is unique');
  });

  test('another principal, another key, a changed payload or signature, or an old id: refused', () => {
    const sid = ids.issue(alice, '2025-11-25');
    assert.equal(ids.verify(sid, 'https://issuer|user-bob'), undefined);
    assert.equal(new SessionIds(`${SECRET}x`, { maxAgeMs: 60_000 }).verify(sid, alice), undefined);
    const [payload, mac] = sid.split('.') as [string, string];
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), v: '2024-11-05' }),
    ).toString('base64url');
    assert.equal(ids.verify(`${forged}.${mac}`, alice), undefined);
    assert.equal(ids.verify(`${payload}.${mac.slice(0, -2)}AA`, alice), undefined);
    assert.equal(ids.verify('not-a-session', alice), undefined);
    assert.equal(ids.verify(`${'a'.repeat(600)}.b`, alice), undefined);
    const later = new SessionIds(SECRET, { maxAgeMs: 60_000, now: () => Date.now() + 61_000 });
    assert.equal(later.verify(sid, alice), undefined, 'older than the maximum age');
  });

  test('the memory registry ends sessions on end(), when idle, and when the table is full', async () => {
    const registry = new MemorySessionRegistry({
      idleMs: 1000,
      maxSessions: 2,
      maxSessionsPerPrincipal: 2,
      maxAgeMs: 60_000,
    });
    try {
      await registry.opened('a', 'alice');
      assert.equal(await registry.touch('a', 'alice'), true);
      await registry.end('a');
      assert.equal(await registry.touch('a', 'alice'), false);
      await registry.opened('b', 'alice');
      registry.sweep(Date.now() + 1500);
      assert.equal(await registry.touch('b', 'alice'), false, 'idle past idleMs');
      await registry.opened('c', 'alice');
      await registry.opened('d', 'bob');
      await registry.opened('e', 'carol');
      assert.equal(await registry.touch('c', 'alice'), false, 'least recently used, pushed out');
      assert.equal(await registry.touch('e', 'carol'), true);
    } finally {
      registry.close();
    }
  });
});

/**
 * Bob opens a session, then alice opens five, spread over `urls` (replicas): with a cap of three
 * per user, alice's two oldest end and bob's still works.
 */
async function sessionsPerUserScenario(issuer: TestIssuer, base: string, urls: string[]): Promise<void> {
  const open = async (user: 'alice' | 'bob', url: string) => {
    const headers = { ...JSON_HEADERS, authorization: `Bearer ${await tokenFor(issuer, base, user)}` };
    const init = await fetch(`${url}/mcp`, { method: 'POST', headers, body: JSON.stringify(INIT_BODY()) });
    await init.arrayBuffer();
    assert.equal(init.status, 200);
    const sid = init.headers.get('mcp-session-id') ?? '';
    return async (at: string) => {
      const res = await fetch(`${at}/mcp`, {
        method: 'POST',
        headers: { ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
      });
      await res.arrayBuffer();
      return res.status;
    };
  };
  const at = (i: number) => urls[i % urls.length] as string;
  const bob = await open('bob', at(0));
  const alice = [];
  for (let i = 0; i < 5; i++) alice.push(await open('alice', at(i)));
  const statuses = [];
  for (const [i, ping] of alice.entries()) statuses.push(await ping(at(i + 1)));
  assert.deepEqual(statuses, [404, 404, 200, 200, 200], "alice's two oldest ended, her three newest live");
  assert.equal(await bob(at(1)), 200, "bob's session is untouched by alice's");
}

describe('two replicas without Redis', () => {
  let issuer: TestIssuer;
  const servers: ResourceServer[] = [];

  before(async () => {
    issuer = await startTestIssuer();
  });
  after(async () => {
    for (const rs of servers) await rs.close();
    await issuer?.close();
  });

  test("in memory, table of 4, cap of 3: alice's five sessions end only her oldest, bob's still works", async () => {
    const env = { MCP_MAX_SESSIONS: '4', MCP_MAX_SESSIONS_PER_USER: '3' };
    const { base, servers: started } = await startReplicaSet(issuer, [env], servers);
    await sessionsPerUserScenario(
      issuer,
      base,
      started.map((rs) => rs.url),
    );
  });

  test('with one MCP_SESSION_SECRET, a session opened on one continues on the other; with none, it does not', async () => {
    const {
      base,
      servers: [a, b, c],
    } = await startReplicaSet(
      issuer,
      [{ MCP_SESSION_SECRET: SECRET }, { MCP_SESSION_SECRET: SECRET }, {}],
      servers,
    );
    assert.ok(a && b && c);
    const token = await tokenFor(issuer, base, 'alice');
    const headers = { ...JSON_HEADERS, authorization: `Bearer ${token}` };
    const init = await fetch(`${a.url}/mcp`, { method: 'POST', headers, body: JSON.stringify(INIT_BODY()) });
    assert.equal(init.status, 200);
    const sid = init.headers.get('mcp-session-id') ?? '';
    const list = (url: string) =>
      fetch(`${url}/mcp`, {
        method: 'POST',
        headers: { ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
      });
    const onB = await list(b.url);
    assert.equal(onB.status, 200);
    const tools = (await rpcBody(onB)).result as { tools: Array<{ name: string }> };
    assert.deepEqual(tools.tools.map((t) => t.name).sort(), ['fetch', 'search']);
    assert.equal((await list(c.url)).status, 404, 'a replica with its own key does not know the session');
  });
});

const redisBin = findRedis();

describe('with Redis', { skip: requirements('shared state with Redis', ['redis-server']) }, () => {
  let redis: RedisServer;
  let issuer: TestIssuer;
  const servers: ResourceServer[] = [];

  before(async () => {
    [redis, issuer] = await Promise.all([startRedis(redisBin ?? ''), startTestIssuer()]);
  });
  after(async () => {
    for (const rs of servers) await rs.close();
    await issuer?.close();
    await redis?.stop();
  });

  test('the per-user rate limit holds across replicas: the 5th request of 4 per minute is refused, wherever it lands', async () => {
    const env = { REDIS_URL: redis.url, MCP_SESSION_SECRET: SECRET, MCP_RATE_LIMIT_PER_MINUTE: '4' };
    const {
      base,
      servers: [a, b],
    } = await startReplicaSet(issuer, [env, env], servers);
    assert.ok(a && b);
    const token = await tokenFor(issuer, base, 'bob');
    const ping = (url: string) =>
      fetch(`${url}/mcp`, {
        method: 'POST',
        headers: { ...JSON_HEADERS, authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
    const statuses = [];
    for (const url of [a.url, b.url, a.url, b.url]) statuses.push((await ping(url)).status);
    assert.deepEqual(statuses, [200, 200, 200, 200]);
    const refused = await ping(b.url);
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    const ready = (await (await fetch(`${a.url}/readyz`)).json()) as {
      checks: { shared: { state: string } };
    };
    assert.equal(ready.checks.shared.state, 'ready');
  });

  test('the embedded authorization server counts its budgets in Redis: a restart does not reset them', async () => {
    const stack = await startEmbeddedStack({
      REDIS_URL: redis.url,
      MCP_SESSION_SECRET: SECRET,
      IDP_REGISTRATIONS_PER_IP_PER_MINUTE: '2',
    });
    try {
      const register = async () => {
        const res = await fetch(`${stack.issuer}/reg`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token_endpoint_auth_method: 'none', redirect_uris: [CHATGPT_REDIRECT] }),
        });
        await res.arrayBuffer();
        return res.status;
      };
      assert.deepEqual([await register(), await register()], [201, 201]);
      await stack.restartAs();
      assert.equal(await register(), 429);
    } finally {
      await stack.close();
    }
  });

  test("sessions per user hold across replicas: alice's five sessions on two replicas end only her two oldest", async () => {
    const env = { REDIS_URL: redis.url, MCP_SESSION_SECRET: SECRET, MCP_MAX_SESSIONS_PER_USER: '3' };
    const { base, servers: started } = await startReplicaSet(issuer, [env, env], servers);
    await sessionsPerUserScenario(
      issuer,
      base,
      started.map((rs) => rs.url),
    );
  });

  test('default JSON mode: a session opened on one replica continues on another, and a DELETE there ends it on both', async () => {
    const env = { REDIS_URL: redis.url, MCP_SESSION_SECRET: SECRET };
    const {
      base,
      servers: [a, b],
    } = await startReplicaSet(issuer, [env, env], servers);
    assert.ok(a && b);
    const token = await tokenFor(issuer, base, 'alice');
    const headers = { ...JSON_HEADERS, authorization: `Bearer ${token}` };
    const init = await fetch(`${a.url}/mcp`, { method: 'POST', headers, body: JSON.stringify(INIT_BODY()) });
    assert.equal(init.status, 200);
    assert.match(init.headers.get('content-type') ?? '', /application\/json/);
    const sid = init.headers.get('mcp-session-id') ?? '';
    const session = { ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' };
    const list = (url: string) =>
      fetch(`${url}/mcp`, {
        method: 'POST',
        headers: session,
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
      });
    assert.equal((await list(b.url)).status, 200);
    assert.equal((await fetch(`${b.url}/mcp`, { method: 'DELETE', headers: session })).status, 200);
    assert.equal((await list(a.url)).status, 404, 'ended for every replica');
    assert.equal((await list(b.url)).status, 404);
  });

  test('Redis goes away: /readyz says degraded, stateless calls are still served, session calls get 503', async () => {
    const own = await startRedis(redisBin ?? '');
    try {
      const {
        base,
        servers: [rs],
      } = await startReplicaSet(issuer, [{ REDIS_URL: own.url, MCP_SESSION_SECRET: SECRET }], servers);
      assert.ok(rs);
      const token = await tokenFor(issuer, base, 'bob');
      const headers = { ...JSON_HEADERS, authorization: `Bearer ${token}` };
      const init = await fetch(`${rs.url}/mcp`, {
        method: 'POST',
        headers,
        body: JSON.stringify(INIT_BODY()),
      });
      const sid = init.headers.get('mcp-session-id') ?? '';
      assert.ok(sid);
      await own.stop();
      const ready = await fetch(`${rs.url}/readyz`);
      assert.equal(ready.status, 200);
      const body = (await ready.json()) as { status: string; checks: { shared: { state: string } } };
      assert.equal(body.status, 'degraded');
      assert.equal(body.checks.shared.state, 'unavailable');
      const ping = (extra: Record<string, string>) =>
        fetch(`${rs.url}/mcp`, {
          method: 'POST',
          headers: { ...headers, 'mcp-protocol-version': '2025-11-25', ...extra },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
        });
      assert.equal((await ping({})).status, 200, 'stateless: the rate limit falls back to memory');
      const session = await ping({ 'mcp-session-id': sid });
      assert.equal(session.status, 503);
      assert.ok(session.headers.get('retry-after'));
    } finally {
      await own.stop();
    }
  });

  test('REDIS_URL without MCP_SESSION_SECRET is refused: replicas must share the signing key', () => {
    assert.throws(
      () => loadConfig({ KC_ISSUER: issuer.issuer, REDIS_URL: redis.url }),
      (err: Error) =>
        err instanceof ConfigError &&
        err.message.startsWith('MCP_SESSION_SECRET: is not set, but REDIS_URL is'),
    );
  });

  test('an unreachable Redis stops start-up with a message naming REDIS_URL', async () => {
    const port = await freePort();
    const config = loadConfig({
      KC_ISSUER: issuer.issuer,
      MCP_SERVER_URL: `http://127.0.0.1:${port}`,
      PORT: String(port),
      REDIS_URL: `redis://127.0.0.1:${await freePort()}/0`,
      MCP_SESSION_SECRET: SECRET,
    });
    await assert.rejects(
      startResourceServer(config, { logger: captureLogs().logger, store: sampleStore() }),
      (err: Error) => err instanceof ConfigError && err.message.startsWith('REDIS_URL: cannot reach Redis'),
    );
  });
});

describe('SharedServer (one SDK server for every request)', () => {
  test('a cancellation naming a request id never reaches another caller’s request, which still gets its answer', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const shared = await SharedServer.start(() => {
      const server = new McpServer({ name: 't', version: '1' });
      server.registerTool('slow', { inputSchema: z.object({ who: z.string() }) }, async ({ who }) => {
        await gate;
        return { content: [{ type: 'text', text: who }] };
      });
      return server;
    }, 3000);
    try {
      const auth = { token: '[redacted]', clientId: 'c', scopes: [] };
      const call = (id: number, who: string) =>
        shared.dispatch(
          [{ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow', arguments: { who } } }],
          auth,
        );
      const a = call(7, 'alice');
      const b = call(7, 'bob');
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(shared.inFlight, 2);
      // Another caller cancels "its" request 1 and 2: the shared server's internal ids of a and b.
      for (const requestId of [1, 2, 7]) {
        await shared.dispatch(
          [{ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId } }],
          auth,
        );
      }
      release();
      const [[ra], [rb]] = await Promise.all([a, b]);
      assert.deepEqual(ra, { jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'alice' }] } });
      assert.deepEqual(rb, { jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'bob' }] } });
      assert.equal(shared.inFlight, 0);
    } finally {
      release();
      await shared.close();
    }
  });
});

describe('the shared server of the 2025 fast path', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ MCP_RATE_LIMIT_PER_MINUTE: '0' });
  });
  after(() => stack?.close());

  test('concurrent requests of two users with the same JSON-RPC id, and cancellations naming it, each get their own answer', async () => {
    const tokens = { alice: await stack.token('alice'), bob: await stack.token('bob') };
    const own = async (email: string) =>
      (await stack.rs.store.search('chocolate', { kind: 'customer', email }, 10)).map((h) => h.id);
    const expected = { alice: await own('alice@example.com'), bob: await own('bob@example.com') };
    assert.notDeepEqual(expected.alice, expected.bob);
    const post = (user: 'alice' | 'bob', body: unknown) =>
      fetch(`${stack.base}/mcp`, {
        method: 'POST',
        headers: {
          ...JSON_HEADERS,
          authorization: `Bearer ${tokens[user]}`,
          'mcp-protocol-version': '2025-11-25',
        },
        body: JSON.stringify(body),
      });
    const call = {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'search', arguments: { query: 'chocolate' } },
    };
    // Cancellations naming every id the shared server may use internally for these requests: on a
    // shared server they would abort other callers' requests (which then never get an answer).
    const cancel = Array.from({ length: 100 }, (_, n) => ({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: n + 1, reason: 'test' },
    }));
    const runs = Array.from({ length: 40 }, async (_, i) => {
      const user = i % 2 === 0 ? 'alice' : 'bob';
      if (i % 4 === 1) assert.equal((await post(user, cancel)).status, 202);
      const res = await post(user, call);
      assert.equal(res.status, 200);
      const body = (await rpcBody(res)) as {
        id: number;
        result: { structuredContent: { results: Array<{ id: string }> } };
      };
      assert.equal(body.id, 1);
      assert.deepEqual(
        body.result.structuredContent.results.map((r) => r.id),
        expected[user],
        `${user} got exactly their own orders`,
      );
    });
    await Promise.all(runs);
  });
});
