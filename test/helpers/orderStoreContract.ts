/**
 * The order store contract, run against both stores (test/orders.test.ts on SQLite,
 * test/orders-postgres.test.ts on PostgreSQL) on the 3000-order sample: seeding, round trips,
 * ranking, visibility, limits, hostile input. What is particular to one store stays in its file.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ALICE, BOB, generateOrders, SAMPLE_ORDER_COUNT } from '../../src/orders/generate.js';
import type { OrderStore, Viewer } from '../../src/orders/types.js';
import { ALL, alice, bob, carol, HOSTILE_QUERIES, NONE } from './orderCases.js';

export interface ContractStore {
  store: OrderStore;
  /** The store's `ensureSampleData()`, awaited. */
  ensureSampleData(): Promise<{ created: boolean; count: number }>;
  close(): Promise<void>;
}

export interface ContractOptions {
  skip?: string | undefined;
  /** Queries in the store's own query syntax, on top of the common hostile ones. */
  hostileQueries?: readonly string[];
}

export function orderStoreContract(
  name: string,
  open: () => Promise<ContractStore>,
  options: ContractOptions = {},
): void {
  describe(`${name}: the order store contract`, { skip: options.skip }, () => {
    let opened: ContractStore;
    let store: OrderStore;
    const orders = [...generateOrders({ count: SAMPLE_ORDER_COUNT })];
    const byId = new Map(orders.map((o) => [o.id, o]));

    before(async () => {
      opened = await open();
      store = opened.store;
      assert.deepEqual(await opened.ensureSampleData(), { created: true, count: SAMPLE_ORDER_COUNT });
    });
    after(async () => {
      await opened?.close();
    });

    test('seeds only once and round-trips orders', async () => {
      assert.deepEqual(await opened.ensureSampleData(), { created: false, count: SAMPLE_ORDER_COUNT });
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

    test('search finds chocolate orders, best matches first', async () => {
      const hits = await store.search('chocolate', ALL, 50);
      assert.equal(hits.length, 50);
      for (const hit of hits) {
        assert.ok(await store.get(hit.id, ALL));
        assert.match(hit.title, /chocolate/i);
        assert.ok(hit.title.startsWith(`Order ${hit.id}:`));
      }
      // The top hit is at least as chocolatey as the average hit.
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
      // Every top hit of a two-word flavour contains that flavour.
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
      assert.deepEqual(
        await store.search('creme brulee', ALL, 3),
        await store.search('Crème Brûlée', ALL, 3),
      );
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
      // Naming another customer finds nothing of theirs.
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
      for (const q of [...HOSTILE_QUERIES, ...(options.hostileQueries ?? [])]) {
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
    });
  });
}
