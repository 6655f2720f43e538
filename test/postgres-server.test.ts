/**
 * The resource server on PostgreSQL, chosen by configuration (ORDERS_STORE=postgres,
 * DATABASE_URL): it creates the sample orders, and the official client's search and fetch see
 * exactly what they see on SQLite — alice her own orders, carol everyone's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { loadConfig } from '../src/config/config.js';
import { type ResourceServer, startResourceServer } from '../src/resourceServer.js';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { captureLogs } from './helpers/logs.js';
import {
  findPostgres,
  type PostgresServer,
  postgresUserCondition,
  startPostgres,
} from './helpers/postgres.js';
import { requirements } from './helpers/requirements.js';
import { freePort, sampleStore } from './helpers/stack.js';

const pgBin = findPostgres();
const unavailable = requirements('resource server on PostgreSQL', ['postgresql'], postgresUserCondition());

describe('resource server with ORDERS_STORE=postgres', { skip: unavailable }, () => {
  let pgServer: PostgresServer;
  let issuer: TestIssuer;
  let rs: ResourceServer;
  let base: string;
  const logs = captureLogs();

  before(async () => {
    pgServer = await startPostgres(pgBin ?? '', 'orders_server_test');
    issuer = await startTestIssuer();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const config = loadConfig({
      KC_ISSUER: issuer.issuer,
      MCP_SERVER_URL: base,
      PORT: String(port),
      ORDERS_STORE: 'postgres',
      DATABASE_URL: pgServer.url,
    });
    rs = await startResourceServer(config, { logger: logs.logger });
  });
  after(async () => {
    await rs?.close();
    await issuer?.close();
    await pgServer?.stop();
  });

  async function search(user: 'alice' | 'carol', query: string) {
    const token = await issuer.sign({
      iss: issuer.issuer,
      aud: `${base}/mcp`,
      sub: user,
      email: `${user}@example.com`,
      scope: 'mcp:tools',
      ...(user === 'carol' && { realm_access: { roles: ['staff'] } }),
    });
    const client = new Client({ name: 'pg-test', version: '1' }, { versionNegotiation: { mode: 'legacy' } });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    try {
      const r = (await client.callTool({ name: 'search', arguments: { query } })) as {
        content: { text: string }[];
      };
      const hits = JSON.parse(r.content[0]?.text as string).results as { id: string }[];
      const first = hits[0];
      const fetched = first
        ? ((await client.callTool({ name: 'fetch', arguments: { id: first.id } })) as {
            content: { text: string }[];
          })
        : undefined;
      return { hits, fetched: fetched ? JSON.parse(fetched.content[0]?.text as string) : undefined };
    } finally {
      await client.close();
    }
  }

  test('creates the sample orders in PostgreSQL and reports ready', async () => {
    assert.ok(
      logs.lines().some((l) => l.event === 'sample_data' && l.path === 'postgres' && l.count === 3000),
    );
    const ready = await (await fetch(`${base}/readyz`)).json();
    assert.equal(ready.checks.store.state, 'ready');
  });

  test('alice sees only her orders; carol sees everyone’s; fetch returns the order', async () => {
    const alice = await search('alice', 'chocolate');
    assert.ok(alice.hits.length > 0);
    for (const h of alice.hits)
      assert.equal(sampleStore().get(h.id, { kind: 'all' })?.customerEmail, 'alice@example.com');
    assert.equal(alice.fetched?.metadata.customer_email, 'alice@example.com');
    const carol = await search('carol', 'chocolate');
    assert.ok(
      new Set(carol.hits.map((h) => sampleStore().get(h.id, { kind: 'all' })?.customerEmail)).size > 2,
    );
  });
});
