/**
 * Three replicas on loopback behind a round-robin proxy (Caddy), sharing PostgreSQL (orders) and
 * Redis (session registry, stream events, legacy SSE routing, rate limits) — no sticky routing:
 *
 * - a 2025 session opened on one replica continues on the others, and a DELETE on one ends it on all;
 * - the official client, through the proxy, keeps its session while its requests rotate replicas;
 * - a legacy SSE client whose POSTs land on other replicas gets its answers on its stream;
 * - an SSE response stream resumes (`Last-Event-ID`) on another replica;
 * - one replica killed mid-run: every client operation succeeds with at most one retry;
 * - no request is answered with another user's data.
 *
 * Needs PostgreSQL, Redis and Caddy (`npm test` provisions them); skipped locally without them, fails in CI.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { PostgresOrderStore } from '../src/orders/postgres.js';
import type { Viewer } from '../src/orders/types.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import {
  findPostgres,
  type PostgresServer,
  postgresUserCondition,
  startPostgres,
} from './helpers/postgres.js';
import { findRedis, type RedisServer, startRedis } from './helpers/redis.js';
import { type Cluster, startReplicas } from './helpers/replicas.js';
import { requirements } from './helpers/requirements.js';
import { INIT_BODY, JSON_HEADERS, USERS } from './helpers/stack.js';

const pgBin = findPostgres();
const redisBin = findRedis();
const unavailable = requirements(
  'three replicas behind Caddy',
  ['postgresql', 'redis-server', 'caddy'],
  postgresUserCondition(),
);

type User = 'alice' | 'bob' | 'carol';
const QUERIES = ['chocolate', 'vanilla', 'delivered', 'lemon', 'birthday'];
/** The JSON-RPC messages of an SSE or JSON response body. */
function messagesOf(contentType: string | null, body: string): Array<Record<string, unknown>> {
  if (!contentType?.includes('text/event-stream')) return [JSON.parse(body)];
  return body
    .split('\n\n')
    .map((event) =>
      event
        .split('\n')
        .find((l) => l.startsWith('data: '))
        ?.slice(6),
    )
    .filter((d): d is string => !!d && d.trim() !== '')
    .map((d) => JSON.parse(d));
}

describe('three replicas behind a round-robin proxy, PostgreSQL and Redis', { skip: unavailable }, () => {
  let pgServer: PostgresServer;
  let redis: RedisServer;
  let issuer: TestIssuer;
  let cluster: Cluster;
  let store: PostgresOrderStore;
  const tokens = {} as Record<User, string>;

  before(async () => {
    [pgServer, redis, issuer] = await Promise.all([
      startPostgres(pgBin ?? '', 'orders_replicas_test'),
      startRedis(redisBin ?? ''),
      startTestIssuer(),
    ]);
    cluster = await startReplicas({
      count: 3,
      env: {
        KC_ISSUER: issuer.issuer,
        ORDERS_STORE: 'postgres',
        DATABASE_URL: pgServer.url,
        REDIS_URL: redis.url,
        MCP_SESSION_SECRET: 'replica-test-secret-0123456789-abcdefghijklmnop',
        // SSE responses: the mode in which proxies must stream and streams can resume.
        MCP_RESPONSE_MODE: 'sse',
        MCP_RATE_LIMIT_PER_MINUTE: '100000',
      },
    });
    for (const user of ['alice', 'bob', 'carol'] as const) {
      const u = USERS[user];
      tokens[user] = await issuer.sign({
        iss: issuer.issuer,
        aud: cluster.url,
        sub: u.sub,
        email: u.email,
        scope: 'mcp:tools',
        realm_access: { roles: u.roles },
      });
    }
    store = await PostgresOrderStore.open({ connectionString: pgServer.url, max: 2 });
  });

  after(async () => {
    await store?.close();
    await cluster?.stop();
    await issuer?.close();
    await redis?.stop();
    await pgServer?.stop();
  });

  const viewer = (user: User): Viewer =>
    user === 'carol' ? { kind: 'all' } : { kind: 'customer', email: USERS[user].email ?? '' };

  /** What this user may get for this query: computed from the database, not by the server. */
  async function expectedIds(user: User, query: string): Promise<string[]> {
    return (await store.search(query, viewer(user), 10)).map((h) => h.id);
  }

  async function post(base: string, user: User, body: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${base}/mcp`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, authorization: `Bearer ${tokens[user]}`, ...headers },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { res, text, messages: res.ok && text ? messagesOf(res.headers.get('content-type'), text) : [] };
  }

  async function openSession(base: string, user: User): Promise<string> {
    const init = await post(base, user, INIT_BODY('2025-11-25'));
    assert.equal(init.res.status, 200, init.text);
    const sid = init.res.headers.get('mcp-session-id');
    assert.ok(sid, 'initialize returns a session id');
    const note = await post(
      base,
      user,
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
    );
    assert.equal(note.res.status, 202);
    return sid;
  }

  function searchIdsOf(message: Record<string, unknown> | undefined): string[] {
    const result = message?.result as { structuredContent?: { results: Array<{ id: string }> } } | undefined;
    assert.ok(result?.structuredContent, `a search result, got ${JSON.stringify(message).slice(0, 300)}`);
    return result.structuredContent.results.map((r) => r.id);
  }

  const searchCall = (id: number, query: string) => ({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'search', arguments: { query } },
  });

  test('a session opened on one replica continues on the other two; DELETE on one ends it on all', async () => {
    const [r0, r1, r2] = cluster.replicas;
    assert.ok(r0 && r1 && r2);
    const sid = await openSession(r0.url, 'alice');
    for (const [i, replica] of [r1, r2, r0, r2].entries()) {
      const call = await post(replica.url, 'alice', searchCall(10 + i, 'chocolate'), {
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25',
      });
      assert.equal(call.res.status, 200, `replica ${replica.index}: ${call.text}`);
      assert.deepEqual(searchIdsOf(call.messages.at(-1)), await expectedIds('alice', 'chocolate'));
    }
    // Another user presenting alice's session id is refused on every replica.
    for (const replica of [r0, r1, r2]) {
      const stolen = await post(replica.url, 'bob', searchCall(20, 'chocolate'), {
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25',
      });
      assert.equal(stolen.res.status, 404, `replica ${replica.index}`);
    }
    const del = await fetch(`${r1.url}/mcp`, {
      method: 'DELETE',
      headers: {
        authorization: `Bearer ${tokens.alice}`,
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25',
      },
    });
    assert.equal(del.status, 200);
    for (const replica of [r0, r1, r2]) {
      const after = await post(replica.url, 'alice', searchCall(30, 'chocolate'), {
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25',
      });
      assert.equal(after.res.status, 404, `replica ${replica.index} after DELETE: ${after.text}`);
    }
  });

  test('the official client keeps one session while the proxy rotates its requests over all replicas', async () => {
    const client = new Client({ name: 'replica-test', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`${cluster.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${tokens.bob}` } },
    });
    await client.connect(transport);
    const sid = transport.sessionId;
    assert.ok(sid, 'a 2025 session was opened');
    for (const query of [...QUERIES, ...QUERIES]) {
      const result = await client.callTool({ name: 'search', arguments: { query } });
      assert.ok(!result.isError, JSON.stringify(result));
      const ids = (result.structuredContent as { results: Array<{ id: string }> }).results.map((r) => r.id);
      assert.deepEqual(ids, await expectedIds('bob', query), query);
    }
    assert.equal(transport.sessionId, sid, 'the session id never changed');
    await transport.terminateSession();
    await client.close();
    // Every replica served requests of this session (the proxy round-robins, no stickiness).
    const prefix = sid.slice(0, 100); // the log keeps 100 characters: past the nonce
    const served = cluster.replicas.map(
      (r) =>
        r
          .output()
          .split('\n')
          .filter((l) => l.includes('"event":"request"') && l.includes(prefix)).length,
    );
    assert.ok(
      served.every((n) => n > 0),
      `requests of the session per replica: ${served.join(', ')}`,
    );
  });

  test('legacy SSE: POSTs that land on other replicas are answered on the stream', async () => {
    const [r0, r1, r2] = cluster.replicas;
    assert.ok(r0 && r1 && r2);
    const abort = new AbortController();
    const stream = await fetch(`${r0.url}/sse`, {
      headers: { authorization: `Bearer ${tokens.alice}`, accept: 'text/event-stream' },
      signal: abort.signal,
    });
    assert.equal(stream.status, 200);
    const reader = stream.body?.getReader();
    assert.ok(reader);
    let buffer = '';
    const decoder = new TextDecoder();
    async function nextEvent(): Promise<{ event: string; data: string }> {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const raw = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = raw.split('\n');
          const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
          if (data === undefined) continue; // keep-alive comment
          return { event: lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message', data };
        }
        const { value, done } = await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
        if (done) throw new Error('stream ended');
        buffer += decoder.decode(value, { stream: true });
      }
    }
    try {
      const endpoint = await nextEvent();
      assert.equal(endpoint.event, 'endpoint');
      const messagesUrl = (replica: { url: string }) => `${replica.url}${endpoint.data}`;
      const send = (replica: { url: string }, user: User, body: unknown) =>
        fetch(messagesUrl(replica), {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[user]}` },
          body: JSON.stringify(body),
        });

      const init = await send(r1, 'alice', INIT_BODY('2024-11-05'));
      assert.equal(init.status, 202);
      const initAnswer = JSON.parse((await nextEvent()).data);
      assert.equal(initAnswer.id, 1);
      assert.ok(initAnswer.result.serverInfo);
      assert.equal(
        (await send(r2, 'alice', { jsonrpc: '2.0', method: 'notifications/initialized' })).status,
        202,
      );

      // Someone else cannot post into alice's stream, on any replica.
      for (const replica of [r0, r1, r2]) {
        assert.equal((await send(replica, 'bob', searchCall(99, 'chocolate'))).status, 404);
      }
      for (const [i, replica] of [r2, r1, r0].entries()) {
        assert.equal((await send(replica, 'alice', searchCall(2 + i, 'vanilla'))).status, 202);
        const answer = JSON.parse((await nextEvent()).data);
        assert.equal(answer.id, 2 + i);
        assert.deepEqual(searchIdsOf(answer), await expectedIds('alice', 'vanilla'));
      }
    } finally {
      abort.abort();
    }
  });

  test('an SSE response stream resumes on another replica with Last-Event-ID', async () => {
    const [r0, r1] = cluster.replicas;
    assert.ok(r0 && r1);
    const sid = await openSession(r0.url, 'carol');
    const call = await post(r0.url, 'carol', searchCall(5, 'lemon'), {
      'mcp-session-id': sid,
      'mcp-protocol-version': '2025-11-25',
    });
    assert.equal(call.res.status, 200);
    // The stream starts with a priming event (an id, no message): where a client resumes from.
    const primingId = /^id: (.+)$/m.exec(call.text)?.[1];
    assert.ok(primingId, `a priming event id in: ${call.text.slice(0, 300)}`);
    const resumed = await fetch(`${r1.url}/mcp`, {
      headers: {
        authorization: `Bearer ${tokens.carol}`,
        accept: 'text/event-stream',
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25',
        'last-event-id': primingId,
      },
    });
    assert.equal(resumed.status, 200);
    const replayed = messagesOf('text/event-stream', await resumed.text());
    assert.equal(replayed.length, 1, 'the response event, replayed by the other replica');
    assert.equal(replayed[0]?.id, 5);
    assert.deepEqual(searchIdsOf(replayed[0]), await expectedIds('carol', 'lemon'));
  });

  test('one replica killed mid-run: clients carry on with at most one retry, and only ever see their own orders', async () => {
    const users: User[] = ['alice', 'bob', 'carol', 'alice', 'bob', 'carol'];
    const expected = new Map<string, string[]>();
    for (const user of new Set(users)) {
      for (const q of QUERIES) expected.set(`${user}|${q}`, await expectedIds(user, q));
    }
    const sessions = await Promise.all(users.map((u) => openSession(cluster.url, u)));
    let stop = false;
    let ops = 0;
    let retries = 0;
    const failures: string[] = [];
    const wrong: string[] = [];

    async function once(user: User, sid: string | undefined, query: string, id: number) {
      const headers: Record<string, string> = { 'mcp-protocol-version': '2025-11-25' };
      if (sid) headers['mcp-session-id'] = sid;
      const r = await post(cluster.url, user, searchCall(id, query), headers);
      if (r.res.status !== 200) throw new Error(`${r.res.status} ${r.text.slice(0, 200)}`);
      return searchIdsOf(r.messages.at(-1));
    }

    const clients = users.map(async (user, c) => {
      for (let i = 0; !stop; i += 1) {
        const query = QUERIES[i % QUERIES.length] ?? 'chocolate';
        // Alternate session calls and stateless (ChatGPT-style) calls.
        const sid = i % 2 === 0 ? sessions[c] : undefined;
        let ids: string[];
        try {
          ids = await once(user, sid, query, i);
        } catch (first) {
          retries += 1;
          try {
            ids = await once(user, sid, query, i);
          } catch (second) {
            failures.push(`${user} ${query}: ${(first as Error).message} / ${(second as Error).message}`);
            continue;
          }
        }
        ops += 1;
        if (JSON.stringify(ids) !== JSON.stringify(expected.get(`${user}|${query}`))) {
          wrong.push(`${user} ${query}: ${ids.join(',')}`);
        }
      }
    });
    await new Promise((r) => setTimeout(r, 2000));
    const victim = cluster.replicas[1];
    assert.ok(victim);
    victim.kill();
    const opsAtKill = ops;
    await new Promise((r) => setTimeout(r, 4000));
    stop = true;
    await Promise.all(clients);
    assert.equal(victim.alive(), false);
    assert.deepEqual(failures, [], 'no operation failed twice in a row');
    assert.deepEqual(wrong, [], 'every answer was exactly the caller’s own orders');
    assert.ok(ops - opsAtKill > 50, `clients kept working after the kill (${ops - opsAtKill} operations)`);
    // Recorded for the log: how many first attempts failed around the kill.
    console.log(`# ${ops} operations, ${retries} retried once, ${opsAtKill} before the kill`);
  });
});
