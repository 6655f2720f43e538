/**
 * PostgresOrderStore against a real, throw-away PostgreSQL cluster (test/helpers/postgres.ts):
 * the same behaviour as the SQLite store on the 3000-order sample, migrations, and a measured
 * (not asserted) search latency on 100,000 orders. Skips when PostgreSQL is not installed,
 * except in CI, where that is a failure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import {
  ALICE,
  BOB,
  FIRST_ORDER_NUMBER,
  generateOrders,
  SAMPLE_ORDER_COUNT,
} from '../src/orders/generate.js';
import { MIGRATIONS_TABLE, PostgresOrderStore, SCHEMA_VERSION, toTsQuery } from '../src/orders/postgres.js';
import type { Order, Viewer } from '../src/orders/types.js';
import {
  ALL,
  alice,
  BENCH_QUERIES,
  bob,
  HOSTILE_QUERIES as COMMON_HOSTILE_QUERIES,
  carol,
  NONE,
} from './helpers/orderCases.js';
import {
  findPostgres,
  type PostgresServer,
  postgresUserCondition,
  startPostgres,
} from './helpers/postgres.js';
import { requirements } from './helpers/requirements.js';

const HOSTILE_QUERIES = [
  ...COMMON_HOSTILE_QUERIES,
  // tsquery syntax
  'a & b | !c',
  'red <-> velvet',
  'choc:*',
  "'quoted' \\backslash\\",
  'a:ABCD',
  '!!!',
  '<2>',
];

const BENCH_COUNT = 100_000;
const pgBin = findPostgres();
const unavailable = requirements('PostgresOrderStore', ['postgresql'], postgresUserCondition());

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

describe('PostgresOrderStore', { skip: unavailable }, () => {
  let server: PostgresServer;
  let store: PostgresOrderStore;
  const orders = [...generateOrders({ count: SAMPLE_ORDER_COUNT })];
  const byId = new Map(orders.map((o) => [o.id, o]));

  before(async () => {
    server = await startPostgres(pgBin ?? '');
    store = await PostgresOrderStore.open({ connectionString: server.url, max: 4 });
    assert.deepEqual(await store.ensureSampleData(), { created: true, count: SAMPLE_ORDER_COUNT });
  });
  after(async () => {
    await store?.close();
    await server?.stop();
  });

  test('seeds only once and round-trips orders', async () => {
    assert.deepEqual(await store.ensureSampleData(), { created: false, count: SAMPLE_ORDER_COUNT });
    assert.equal(await store.count(), SAMPLE_ORDER_COUNT);
    for (const o of [orders[0], orders[1234], orders.at(-1)]) {
      assert.ok(o);
      assert.deepEqual(await store.get(o.id, ALL), o);
    }
    // Every order round-trips (items, totals, dates, notes with quotes and accents).
    const all = await Promise.all(orders.map((o) => store.get(o.id, ALL)));
    assert.deepEqual(all, orders);
    assert.equal(await store.get('ord-999999', ALL), undefined);
    assert.equal(await store.get('', ALL), undefined);
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

  test('search finds chocolate orders, best matches first', async () => {
    const hits = await store.search('chocolate', ALL, 50);
    assert.equal(hits.length, 50);
    for (const hit of hits) {
      assert.ok(await store.get(hit.id, ALL));
      assert.match(hit.title, /chocolate/i);
      assert.ok(hit.title.startsWith(`Order ${hit.id}:`));
    }
    const chocolateItems = (id: string) =>
      byId.get(id)?.items.filter((i) => /chocolate/i.test(i.flavour)).length ?? 0;
    const top = chocolateItems(hits[0]?.id ?? '');
    assert.ok(top >= 2, `top hit has ${top} chocolate flavours`);
  });

  test('orders matching more query terms rank higher', async () => {
    const hits = await store.search('red velvet birthday', ALL, 10);
    assert.equal(hits.length, 10);
    const first = byId.get(hits[0]?.id ?? '');
    assert.ok(first);
    assert.ok(first.items.some((i) => i.flavour === 'Red Velvet'));
    assert.match(first.notes, /birthday/i);
    for (const hit of await store.search('salted caramel', ALL, 10))
      assert.match(hit.title, /Salted Caramel/);
  });

  test('search matches notes, names, e-mails, ids and stems', async () => {
    const notes = await store.search('nut allergy', ALL, 5);
    assert.ok(notes.length > 0);
    assert.match(byId.get(notes[0]?.id ?? '')?.notes ?? '', /Nut allergy/);
    const byEmail = await store.search('bob@example.com', ALL, 5);
    assert.equal(byId.get(byEmail[0]?.id ?? '')?.customerEmail, BOB.email);
    assert.deepEqual((await store.search('ord-100042', ALL, 1))[0]?.id, 'ord-100042');
    assert.deepEqual((await store.search('100042', ALL, 1))[0]?.id, 'ord-100042');
    assert.ok((await store.search('parties', ALL, 5)).length > 0, 'stemming: parties ~ party');
    assert.ok((await store.search('choc', ALL, 5)).length > 0, 'prefix match');
    assert.ok((await store.search('and', ALL, 5)).length > 0, 'no stop words: "Cookies and Cream"');
    assert.deepEqual(await store.search('creme brulee', ALL, 3), await store.search('Crème Brûlée', ALL, 3));
    assert.ok((await store.search('Crème Brûlée', ALL, 3)).every((h) => h.title.includes('Crème Brûlée')));
  });

  test('blank queries list the most recent orders', async () => {
    const recent = await store.search('   ', ALL, 5);
    assert.deepEqual(
      recent.map((h) => h.id),
      orders
        .slice(-5)
        .reverse()
        .map((o) => o.id),
    );
    const mine = await store.search('', alice, 3);
    const expected = orders
      .filter((o) => o.customerEmail === ALICE.email)
      .slice(-3)
      .reverse();
    assert.deepEqual(
      mine.map((h) => h.id),
      expected.map((o) => o.id),
    );
  });

  test('limit is clamped to 1..50', async () => {
    assert.equal((await store.search('', ALL, 0)).length, 1);
    assert.equal((await store.search('', ALL, -5)).length, 1);
    assert.equal((await store.search('', ALL, 1000)).length, 50);
    assert.equal((await store.search('chocolate', ALL, Number.POSITIVE_INFINITY)).length, 50);
    assert.equal((await store.search('chocolate', ALL, 2.9)).length, 2);
    assert.equal((await store.search('', ALL, Number.NaN)).length, 10);
  });

  test('a customer only ever sees their own orders', async () => {
    for (const viewer of [alice, bob, { kind: 'customer', email: 'ALICE@Example.COM' } as const]) {
      const email = viewer.email.toLowerCase();
      for (const q of ['', 'chocolate', 'red velvet', 'birthday party', 'bob', 'alice', 'example', 'ord']) {
        for (const hit of await store.search(q, viewer, 50)) {
          const order = await store.get(hit.id, ALL);
          assert.equal(order?.customerEmail, email, `${q}: ${hit.id}`);
          assert.deepEqual(await store.get(hit.id, viewer), order);
        }
      }
      assert.ok((await store.search('chocolate', viewer, 50)).length > 0);
    }
    const named = await store.search('bob brown', alice, 50);
    assert.ok(named.every((h) => byId.get(h.id)?.customerEmail === ALICE.email));
  });

  test('carol (no orders) and viewer none see nothing', async () => {
    for (const q of ['', 'chocolate', 'alice', 'ord-100000']) {
      assert.deepEqual(await store.search(q, carol, 50), []);
      assert.deepEqual(await store.search(q, NONE, 50), []);
    }
    assert.equal(await store.get('ord-100000', NONE), undefined);
    assert.equal(await store.get('ord-100000', carol), undefined);
  });

  test("get() hides other customers' orders exactly like unknown ids", async () => {
    const bobs = orders.find((o) => o.customerEmail === BOB.email);
    const alices = orders.find((o) => o.customerEmail === ALICE.email);
    assert.ok(bobs && alices);
    assert.equal(await store.get(bobs.id, alice), undefined);
    assert.equal(await store.get(alices.id, bob), undefined);
    assert.deepEqual(await store.get(alices.id, alice), alices);
    assert.deepEqual(await store.get(alices.id, { kind: 'customer', email: 'Alice@Example.com' }), alices);
    assert.equal(await store.get('ord-does-not-exist', alice), undefined);
  });

  test('hostile queries never throw and return arrays', async () => {
    for (const q of HOSTILE_QUERIES) {
      const viewers: Viewer[] = [ALL, alice, NONE, { kind: 'customer', email: q }];
      for (const viewer of viewers) {
        const hits = await store.search(q, viewer, 10);
        assert.ok(Array.isArray(hits), q.slice(0, 40));
        for (const hit of hits) {
          assert.equal(typeof hit.id, 'string');
          if (viewer === alice) assert.equal(byId.get(hit.id)?.customerEmail, ALICE.email);
        }
      }
      assert.equal(await store.get(q, ALL), undefined);
      assert.equal(await store.get(q, { kind: 'customer', email: q }), undefined);
    }
    assert.equal(await store.count(), SAMPLE_ORDER_COUNT, 'orders table still exists and is intact');
    assert.ok((await store.search('crème brûlée', ALL, 5)).length > 0);
    assert.ok((await store.search('🧁 chocolate', ALL, 5)).length > 0);
    // The query builder only ever emits quoted word tokens.
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
      [1],
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

  test(`search latency on ${BENCH_COUNT.toLocaleString('en')} orders (measured, not asserted)`, async (t) => {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE orders_bench');
    await admin.end();
    const big = await PostgresOrderStore.open({
      connectionString: server.url.replace(/\/[^/]+$/, '/orders_bench'),
    });
    try {
      let start = performance.now();
      const inserted = await big.insertMany(generateOrders({ count: BENCH_COUNT }));
      const loadMs = performance.now() - start;
      start = performance.now();
      await big.optimize();
      const analyzeMs = performance.now() - start;
      assert.equal(inserted, BENCH_COUNT);
      const size = await big.pool.query<{ table: string; gin: string }>(
        "SELECT pg_size_pretty(pg_total_relation_size('orders')) AS table, pg_size_pretty(pg_relation_size('orders_search')) AS gin",
      );
      const last = `ord-${FIRST_ORDER_NUMBER + BENCH_COUNT - 1}`;
      assert.equal((await big.get(last, ALL))?.id, last);

      const viewers: [string, Viewer][] = [
        ['all', ALL],
        ['alice', alice],
        ['bob', bob],
      ];
      const all: number[] = [];
      const lines: string[] = [];
      for (const [name, viewer] of viewers) {
        for (const q of BENCH_QUERIES) {
          for (let i = 0; i < 3; i++) await big.search(q, viewer, 10);
          const times: number[] = [];
          for (let i = 0; i < 15; i++) {
            const t0 = performance.now();
            await big.search(q, viewer, 10);
            times.push(performance.now() - t0);
          }
          times.sort((a, b) => a - b);
          all.push(...times);
          lines.push(
            `${name.padEnd(5)} ${JSON.stringify(q).padEnd(26)} p50 ${percentile(times, 50).toFixed(2)} ms  p95 ${percentile(times, 95).toFixed(2)} ms`,
          );
        }
      }
      all.sort((a, b) => a - b);
      const summary =
        `load ${BENCH_COUNT} orders ${(loadMs / 1000).toFixed(1)} s, VACUUM ANALYZE ${(analyzeMs / 1000).toFixed(1)} s; ` +
        `table+indexes ${size.rows[0]?.table}, GIN ${size.rows[0]?.gin}; search over ${all.length} calls: ` +
        `p50 ${percentile(all, 50).toFixed(2)} ms, p95 ${percentile(all, 95).toFixed(2)} ms, max ${(all.at(-1) ?? 0).toFixed(2)} ms`;
      for (const line of [...lines, summary]) t.diagnostic(line);
      console.log([...lines, summary].join('\n'));
    } finally {
      await big.close();
    }
  });
});
