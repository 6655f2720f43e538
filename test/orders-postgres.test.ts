/**
 * PostgresOrderStore against a real, throw-away PostgreSQL cluster (test/helpers/postgres.ts):
 * the order store contract both stores pass (test/helpers/orderStoreContract.ts), then what is
 * PostgreSQL's own: totals in SQL, the tsquery builder, migrations. Latency is measured by
 * `npm run bench:postgres` (bench/postgres.ts), not here. Skips when PostgreSQL is not installed,
 * except in CI, where that is a failure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { generateOrders, SAMPLE_ORDER_COUNT } from '../src/orders/generate.js';
import { MIGRATIONS_TABLE, PostgresOrderStore, SCHEMA_VERSION, toTsQuery } from '../src/orders/postgres.js';
import type { Order } from '../src/orders/types.js';
import { ALL } from './helpers/orderCases.js';
import { orderStoreContract } from './helpers/orderStoreContract.js';
import {
  findPostgres,
  type PostgresServer,
  postgresUserCondition,
  startPostgres,
} from './helpers/postgres.js';
import { requirements } from './helpers/requirements.js';

/** tsquery syntax, on top of the common hostile queries. */
const TSQUERY_SYNTAX = [
  'a & b | !c',
  'red <-> velvet',
  'choc:*',
  "'quoted' \\backslash\\",
  'a:ABCD',
  '!!!',
  '<2>',
];

const pgBin = findPostgres();
const unavailable = requirements('PostgresOrderStore', ['postgresql'], postgresUserCondition());

orderStoreContract(
  'PostgresOrderStore',
  async () => {
    const server = await startPostgres(pgBin ?? '', 'orders_contract');
    const store = await PostgresOrderStore.open({ connectionString: server.url, max: 4 });
    return {
      store,
      ensureSampleData: () => store.ensureSampleData(),
      close: async () => {
        await store.close();
        await server.stop();
      },
    };
  },
  { skip: unavailable, hostileQueries: TSQUERY_SYNTAX },
);

describe('PostgresOrderStore', { skip: unavailable }, () => {
  let server: PostgresServer;
  let store: PostgresOrderStore;
  const orders = [...generateOrders({ count: SAMPLE_ORDER_COUNT })];

  before(async () => {
    server = await startPostgres(pgBin ?? '');
    store = await PostgresOrderStore.open({ connectionString: server.url, max: 4 });
    assert.deepEqual(await store.ensureSampleData(), { created: true, count: SAMPLE_ORDER_COUNT });
  });
  after(async () => {
    await store?.close();
    await server?.stop();
  });

  test('totals are the sum of quantity × unit price', async () => {
    for (const o of orders.slice(0, 200)) {
      const got = await store.get(o.id, ALL);
      assert.ok(got);
      assert.equal(
        got.totalCents,
        got.items.reduce((n, i) => n + i.quantity * i.unitPriceCents, 0),
      );
    }
    const r = await store.pool.query<{ s: string }>('SELECT sum(total_cents)::text AS s FROM orders');
    assert.equal(
      Number(r.rows[0]?.s),
      orders.reduce((n, o) => n + o.totalCents, 0),
    );
  });

  test('the query builder only ever emits quoted word tokens', () => {
    assert.equal(toTsQuery('a & b | !c'), "'a' | 'b' | 'c'");
    assert.equal(toTsQuery('Crème <-> brûlée:*'), "'creme':* | 'brulee':*");
    assert.equal(toTsQuery('(((  '), null);
    assert.equal(toTsQuery('x'.repeat(10_240)), '');
  });

  test('migrate() is idempotent and records the schema version', async () => {
    assert.equal(await store.migrate(), SCHEMA_VERSION);
    assert.equal(await store.migrate(), SCHEMA_VERSION);
    // Concurrent migrations (several servers starting at once) serialise on the advisory lock.
    assert.deepEqual(await Promise.all([store.migrate(), store.migrate(), store.migrate()]), [
      SCHEMA_VERSION,
      SCHEMA_VERSION,
      SCHEMA_VERSION,
    ]);
    const versions = await store.schemaVersions();
    assert.deepEqual(
      versions.map((v) => v.version),
      [1, 2],
    );
    assert.ok(versions[0]?.appliedAt instanceof Date);
    assert.equal(await store.count(), SAMPLE_ORDER_COUNT, 'migrating again keeps the data');
    const idx = await store.pool.query<{ indexdef: string }>(
      "SELECT indexdef FROM pg_indexes WHERE tablename = 'orders' AND indexname = 'orders_search'",
    );
    assert.match(idx.rows[0]?.indexdef ?? '', /USING gin \(search\)/);
    // The GIN index serves full-text matches (seq scans are disabled: on 3000 rows one is cheaper).
    const client = await store.pool.connect();
    try {
      await client.query('SET enable_seqscan = off');
      const plan = await client.query<{ 'QUERY PLAN': string }>(
        "EXPLAIN SELECT id FROM orders WHERE search @@ to_tsquery('orders_english', 'pistachio & allergi')",
      );
      assert.match(plan.rows.map((r) => r['QUERY PLAN']).join('\n'), /Bitmap Index Scan on orders_search/);
      // Migration 2: a customer's newest matches come from their own orders, not a backward walk
      // of the whole table filtered by e-mail (42,000 rows read for Alice at 100,000 orders).
      const own = await client.query<{ 'QUERY PLAN': string }>(
        "EXPLAIN SELECT id FROM orders WHERE customer_email = 'alice@example.com' ORDER BY seq DESC LIMIT 200",
      );
      assert.match(own.rows.map((r) => r['QUERY PLAN']).join('\n'), /orders_customer_seq/);
    } finally {
      await client.query('RESET enable_seqscan');
      client.release();
    }
  });

  test('a second store on the same database opens without migrating; a newer schema is refused', async () => {
    const again = await PostgresOrderStore.open({ connectionString: server.url, migrate: false });
    assert.equal(await again.count(), SAMPLE_ORDER_COUNT);
    await again.close();
    await store.pool.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name) VALUES (999, 'from the future')`);
    try {
      await assert.rejects(
        PostgresOrderStore.open({ connectionString: server.url }),
        /newer than this build/,
      );
    } finally {
      await store.pool.query(`DELETE FROM ${MIGRATIONS_TABLE} WHERE version = 999`);
    }
  });

  test('insertMany streams (async) iterables in batches; duplicates throw; close is idempotent', async () => {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE orders_lifecycle');
    await admin.end();
    const url = server.url.replace(/\/[^/]+$/, '/orders_lifecycle');
    const s = await PostgresOrderStore.open({ connectionString: url });
    async function* slow(): AsyncGenerator<Order> {
      for (const o of generateOrders({ count: 20, seed: 7 })) {
        await new Promise((r) => setImmediate(r));
        yield o;
      }
    }
    assert.equal(await s.insertMany(slow(), 7), 20);
    assert.equal(await s.count(), 20);
    await assert.rejects(s.insertMany(generateOrders({ count: 1, seed: 7 })), /duplicate key/);
    await assert.rejects(s.insertMany([], 0), RangeError);
    assert.equal(await s.count(), 20);
    assert.deepEqual(await s.ensureSampleData(), { created: false, count: 20 });
    assert.equal((await s.search('', ALL, 50)).length, 20);
    assert.ok(await s.isReady());
    await s.close();
    await s.close();
    assert.equal(await s.isReady(), false);
    await assert.rejects(PostgresOrderStore.open({ connectionString: url.replace(/:\d+\//, ':1/') }));
  });
});
