import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  ALICE,
  BOB,
  CAROL_EMAIL,
  DEFAULT_SEED,
  FLAVOUR_NAMES,
  generateOrders,
  SAMPLE_ORDER_COUNT,
} from '../src/orders/generate.js';
import { clampLimit } from '../src/orders/searchDocument.js';
import { SqliteOrderStore } from '../src/orders/sqlite.js';
import { orderTerms, stem } from '../src/orders/terms.js';
import { foldText, MAX_QUERY_TOKENS, queryTokens } from '../src/orders/text.js';
import { asyncStore, type Order, type OrderStatus } from '../src/orders/types.js';

import { ALL, alice, bob } from './helpers/orderCases.js';
import { orderStoreContract } from './helpers/orderStoreContract.js';
import { GOLDEN_QUERIES } from './helpers/searchGolden.js';

function sampleOrders(count = SAMPLE_ORDER_COUNT, seed?: number): Order[] {
  return [...generateOrders(seed === undefined ? { count } : { count, seed })];
}

describe('generateOrders', () => {
  const orders = sampleOrders();

  test('is deterministic for a seed and differs across seeds', () => {
    const json = (list: Order[]) => JSON.stringify(list);
    const a = json(sampleOrders(100, 42));
    assert.ok(a === json(sampleOrders(100, 42)), 'same seed and count => identical orders');
    assert.ok(a !== json(sampleOrders(100, 43)), 'different seed => different orders');
    // Without a seed the fixed default is used.
    assert.ok(json(sampleOrders(100)) === json(sampleOrders(100, DEFAULT_SEED)));
    assert.ok(json(orders) === json(sampleOrders()), 'the 3000-order sample is reproducible');
  });

  test('yields exactly count orders with sequential ids', () => {
    assert.equal(orders.length, SAMPLE_ORDER_COUNT);
    orders.forEach((o, i) => {
      assert.equal(o.id, `ord-${100000 + i}`);
    });
    assert.deepEqual(sampleOrders(0), []);
    assert.throws(() => sampleOrders(-1), RangeError);
  });

  test('streams lazily', () => {
    const it = generateOrders({ count: 1_000_000 });
    const first = it.next();
    assert.equal(first.done, false);
    assert.equal(first.value?.id, 'ord-100000');
    it.return(undefined);
  });

  test('alice and bob own many orders, carol owns none', () => {
    const owned = (email: string) => orders.filter((o) => o.customerEmail === email).length;
    for (const email of [ALICE.email, BOB.email]) {
      const n = owned(email);
      assert.ok(n >= 20, `${email} owns ${n}`);
      assert.ok(n >= orders.length * 0.015 && n <= orders.length * 0.045, `${email} owns ${n}`);
    }
    assert.equal(owned(CAROL_EMAIL), 0);
    assert.ok(orders.some((o) => o.customerEmail === ALICE.email && o.customerName === ALICE.name));
    assert.ok(orders.some((o) => o.customerEmail === BOB.email && o.customerName === BOB.name));
    const customers = new Set(orders.map((o) => o.customerEmail));
    assert.ok(customers.size >= 100 && customers.size <= 160, `${customers.size} customers`);
  });

  test('orders are well-formed and realistic', () => {
    const statuses = new Set<OrderStatus>();
    const flavours = new Set<string>();
    let withNotes = 0;
    let previous = '';
    for (const o of orders) {
      assert.equal(o.customerEmail, o.customerEmail.toLowerCase());
      assert.match(o.customerEmail, /^[a-z0-9.]+@[a-z.]+$/);
      assert.equal(o.currency, 'USD');
      assert.ok(o.items.length >= 1 && o.items.length <= 4);
      assert.equal(
        new Set(o.items.map((i) => i.flavour)).size,
        o.items.length,
        'flavours within an order are distinct',
      );
      for (const item of o.items) {
        assert.ok(FLAVOUR_NAMES.includes(item.flavour));
        assert.ok(Number.isInteger(item.quantity) && item.quantity >= 1 && item.quantity <= 24);
        assert.ok(Number.isInteger(item.unitPriceCents) && item.unitPriceCents > 100);
        flavours.add(item.flavour);
      }
      assert.equal(
        o.totalCents,
        o.items.reduce((n, i) => n + i.quantity * i.unitPriceCents, 0),
      );
      assert.match(o.orderedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);
      assert.ok(o.orderedAt >= '2025-01-01' && o.orderedAt < '2026-11-21', o.orderedAt);
      assert.ok(o.orderedAt >= previous, 'orderedAt grows with the id');
      previous = o.orderedAt;
      const lead = (Date.parse(o.deliveryDate) - Date.parse(o.orderedAt.slice(0, 10))) / 86_400_000;
      assert.ok(Number.isInteger(lead) && lead >= 0 && lead <= 14, `lead ${lead}`);
      statuses.add(o.status);
      if (o.status === 'delivered') assert.ok(o.deliveryDate <= '2026-11-20');
      if (o.status === 'pending' || o.status === 'baking') assert.ok(o.deliveryDate >= '2026-11-20');
      if (o.notes !== '') withNotes++;
    }
    assert.ok(flavours.size >= 20, `${flavours.size} flavours used`);
    assert.ok(statuses.has('delivered') && statuses.has('cancelled') && statuses.has('pending'));
    assert.ok(withNotes > orders.length * 0.2 && withNotes < orders.length * 0.8, `${withNotes} with notes`);
  });
});

describe('queryTokens', () => {
  test('distinct lower-cased words; FTS syntax and punctuation are not words', () => {
    assert.deepEqual(queryTokens('Red Velvet'), ['red', 'velvet']);
    assert.deepEqual(queryTokens('NEAR(a AND'), ['near', 'a', 'and']);
    assert.deepEqual(queryTokens('col:foo ^start -minus'), ['col', 'foo', 'start', 'minus']);
    assert.deepEqual(queryTokens("'; DROP TABLE orders; --"), ['drop', 'table', 'orders']);
    assert.deepEqual(queryTokens('red RED Red'), ['red']);
  });

  test('no tokens without word characters', () => {
    for (const q of ['', '   ', '"', '*', '(((', ')', '🧁🎂', '-- ;'])
      assert.deepEqual(queryTokens(q), [], q);
  });

  test('keeps unicode words (NFC-normalised) and caps tokens and scanned input', () => {
    assert.deepEqual(queryTokens('Crème Brûlée'), ['crème', 'brûlée']);
    assert.deepEqual(queryTokens('cre\u0300me'), ['crème']);
    const many = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' ');
    assert.equal(queryTokens(many).length, MAX_QUERY_TOKENS);
    assert.deepEqual(queryTokens(`${' '.repeat(10_000)}hidden`), [], 'text beyond the scan cap is ignored');
    assert.equal(queryTokens('x'.repeat(10_240))[0]?.length, 10_000);
  });
});

describe('orderTerms', () => {
  test('stems and folds words, weighs fields, caps repeats per field', () => {
    const order: Order = {
      ...sampleOrders()[0],
      id: 'ord-100042',
      customerName: 'Renée Party',
      customerEmail: 'renee@example.com',
      items: [
        { flavour: 'Crème Brûlée', quantity: 6, unitPriceCents: 450 },
        { flavour: 'Double Chocolate', quantity: 1, unitPriceCents: 395 },
      ],
      notes: 'Birthday parties! party party party party, chocolates',
      status: 'out_for_delivery',
      deliveryDate: '2026-11-20',
    } as Order;
    const { scores, words } = orderTerms(order);
    // Doubled weights: id 20, flavours 10, name 6, e-mail 4, notes 3, status 2, date 2.
    assert.equal(scores.get('100042'), 20);
    assert.equal(scores.get('creme'), 10);
    assert.equal(scores.get('brule'), 10);
    assert.equal(scores.get('chocol'), 10 + 3, 'flavour plus "chocolates" in the notes');
    assert.equal(scores.get('parti'), 6 + 3 * 3, 'name once, notes capped at three');
    assert.equal(scores.get('deliveri'), 2);
    assert.equal(scores.get('ord'), undefined, 'the "ord" every id shares is not a term');
    assert.equal(words.get('parties'), 'parti');
    assert.equal(words.get('renee'), 'rene');
    assert.equal(stem('4th'), '4th');
    assert.equal(foldText('Crème BRÛLÉE'), 'creme brulee');
  });
});

orderStoreContract('SqliteOrderStore', async () => {
  const store = SqliteOrderStore.open(':memory:');
  return {
    store: asyncStore(store),
    ensureSampleData: async () => store.ensureSampleData(),
    close: async () => store.close(),
  };
});

describe('SqliteOrderStore search passes', () => {
  let store: SqliteOrderStore;
  const orders = sampleOrders();
  const byId = new Map(orders.map((o) => [o.id, o]));

  before(() => {
    store = SqliteOrderStore.open(':memory:');
    store.ensureSampleData();
  });
  after(() => store.close());

  test('every word first, then the last word as a prefix, then any word', () => {
    // All-words matches come first: both flavour words, not "red" sprinkles or any velvet.
    for (const hit of store.search('red velvet', ALL, 50)) assert.match(hit.title, /Red Velvet/);
    // Alice has fewer than 50 Red Velvet orders: all of them first, then any-word matches.
    const mine = store.search('red velvet', alice, 50).map((h) => /Red Velvet/.test(h.title));
    const redVelvets = orders.filter(
      (o) => o.customerEmail === ALICE.email && o.items.some((i) => i.flavour === 'Red Velvet'),
    ).length;
    assert.ok(redVelvets > 0 && redVelvets < 50, `${redVelvets}`);
    assert.deepEqual(
      mine,
      mine.map((_, i) => i < redVelvets),
    );
    // The word being typed is a prefix.
    const typing = store.search('salted car', ALL, 10);
    assert.equal(typing.length, 10);
    for (const hit of typing) assert.match(hit.title, /Salted Caramel/);
    // A word no order has falls back to the others instead of returning nothing.
    const fallback = store.search('pistachio xyzzy', ALL, 10);
    assert.equal(fallback.length, 10);
    for (const hit of fallback) assert.match(hit.title, /Pistachio/);
    // Passes never repeat a hit.
    for (const q of ['chocolate', 'red velvet birthday', 'choc', 'ord-100042 chocolate']) {
      const ids: string[] = store.search(q, ALL, 50).map((h) => h.id);
      assert.equal(new Set(ids).size, ids.length, q);
    }
  });

  test('an order id comes first, for staff and for its owner only', () => {
    const own = orders.filter((o) => o.customerEmail === ALICE.email).at(-7);
    assert.ok(own);
    for (const q of [own.id, own.id.toUpperCase(), own.id.slice(4), `${own.id} chocolate`]) {
      assert.equal(store.search(q, ALL, 10)[0]?.id, own.id, q);
      assert.equal(store.search(q, alice, 10)[0]?.id, own.id, q);
      assert.ok(store.search(q, bob, 10).every((h) => byId.get(h.id)?.customerEmail === BOB.email));
    }
  });

  test('32 common words (the query cap) rank without error, within the limit', () => {
    const words = [...new Set(FLAVOUR_NAMES.flatMap((f) => f.toLowerCase().split(/[^a-z]+/)))].filter(
      (w) => w.length > 2,
    );
    assert.ok(words.length >= MAX_QUERY_TOKENS, `${words.length} distinct flavour words`);
    const query = `${words.slice(0, MAX_QUERY_TOKENS - 1).join(' ')} c`;
    for (const viewer of [ALL, alice]) {
      for (const limit of [1, 10, 50]) {
        const hits = store.search(query, viewer, limit);
        assert.ok(hits.length > 0 && hits.length <= limit, `${hits.length} hits for limit ${limit}`);
        assert.equal(new Set(hits.map((h) => h.id)).size, hits.length);
      }
    }
  });

  test('limit: NaN gives the default page size', () => {
    assert.equal(clampLimit(Number.NaN), 10);
  });
});

describe('SqliteOrderStore lifecycle', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'orders-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('insertMany batches, persists, reopens read-only; close is idempotent', () => {
    const path = join(dir, 'nested', 'orders.sqlite');
    const store = SqliteOrderStore.open(path);
    assert.equal(store.insertMany(generateOrders({ count: 20, seed: 7 }), 7), 20);
    assert.equal(store.count(), 20);
    assert.throws(() => store.insertMany(generateOrders({ count: 1, seed: 7 })), /UNIQUE/);
    assert.equal(store.count(), 20);
    assert.deepEqual(store.ensureSampleData(), { created: false, count: 20 });
    assert.ok(store.isReady());
    store.close();
    store.close();
    assert.equal(store.isReady(), false);

    const ro = SqliteOrderStore.open(path, { readonly: true });
    assert.equal(ro.count(), 20);
    assert.ok(ro.isReady());
    assert.equal(ro.search('', ALL, 50).length, 20);
    assert.throws(() => ro.insertMany(generateOrders({ count: 1, seed: 8 })), /read-only/);
    ro.close();
  });

  test('read-only open of a missing or schema-less file fails clearly', () => {
    assert.throws(() => SqliteOrderStore.open(join(dir, 'missing.sqlite'), { readonly: true }));
    const empty = join(dir, 'empty.sqlite');
    writeFileSync(empty, '');
    assert.throws(() => SqliteOrderStore.open(empty, { readonly: true }), /no order schema/);
    const created = SqliteOrderStore.open(empty);
    created.close();
    const reopened = SqliteOrderStore.open(empty, { readonly: true });
    assert.equal(reopened.count(), 0);
    assert.deepEqual(reopened.search('chocolate', ALL, 5), []);
    reopened.close();
  });
});

describe('SqliteOrderStore schema upgrade', () => {
  // test/fixtures/orders-schema-v1.sqlite: 150 generated orders (default seed) written by the
  // schema-v1 store of commit 227205c (FTS5 index, no stored term scores); docs/architecture.md.
  const FIXTURE = join(process.cwd(), 'test', 'fixtures', 'orders-schema-v1.sqlite');
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'orders-upgrade-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a schema-v1 file is upgraded in place and searches like a new one', () => {
    const path = join(dir, 'orders.sqlite');
    copyFileSync(FIXTURE, path);
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma('user_version', { simple: true }), 1);
    raw.close();
    assert.throws(
      () => SqliteOrderStore.open(path, { readonly: true }),
      /order schema version 1 is older than this build's \(2\); open it once writable/,
    );

    const upgraded = SqliteOrderStore.open(path);
    const fresh = SqliteOrderStore.open(':memory:');
    fresh.insertMany(generateOrders({ count: 150, seed: DEFAULT_SEED }));
    try {
      assert.equal(upgraded.count(), 150);
      for (const viewer of [ALL, alice, bob]) {
        for (const q of [...GOLDEN_QUERIES, 'ord-100007', 'alice', 'delivered', 'vel']) {
          assert.deepEqual(
            upgraded.search(q, viewer, 10),
            fresh.search(q, viewer, 10),
            `${q} ${viewer.kind}`,
          );
        }
      }
      assert.ok(upgraded.search('chocolate', ALL, 10).length > 0);
      assert.deepEqual(upgraded.get('ord-100007', ALL), fresh.get('ord-100007', ALL));
    } finally {
      upgraded.close();
      fresh.close();
    }
    const after = new Database(path, { readonly: true });
    assert.equal(after.pragma('user_version', { simple: true }), 2);
    const tables = after
      .prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table'")
      .pluck()
      .all();
    assert.ok(!tables.includes('orders_fts'), 'the v1 full-text index is dropped');
    after.close();
    // Upgraded once: it now opens read-only, and reopening writable changes nothing.
    const ro = SqliteOrderStore.open(path, { readonly: true });
    assert.equal(ro.search('red velvet', alice, 5).length > 0, true);
    ro.close();
    SqliteOrderStore.open(path).close();
  });
});
