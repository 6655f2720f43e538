/**
 * The top-k ranking (src/orders/rank.ts) against brute force: on random postings with many ties,
 * rankAll must return exactly the best k orders having every group, whichever of its paths
 * (one group, threshold walk, reading the rarest list) it takes; rankAny must rank the orders of
 * each group's first k postings.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  EXHAUSTIVE_LIST,
  memoized,
  type Posting,
  type PostingSource,
  type Ranked,
  rankAll,
  rankAny,
} from '../src/orders/rank.js';

type Index = Map<string, Map<number, number>>; // term → rowid → score

function before(a: Posting, b: Posting): number {
  return b.score - a.score || b.rowid - a.rowid;
}

/** An in-memory PostingSource over `index`, counting the postings it hands out. */
function memorySource(index: Index): PostingSource & { read: number } {
  const lists = new Map(
    [...index].map(([term, docs]) => [
      term,
      [...docs].map(([rowid, score]) => ({ rowid, score })).sort(before),
    ]),
  );
  const source = {
    read: 0,
    walk(term: string, after: Posting | undefined, limit: number): Posting[] {
      const list = lists.get(term) ?? [];
      const from = after === undefined ? 0 : list.findIndex((p) => before(p, after) > 0);
      const page = from < 0 ? [] : list.slice(from, from + limit);
      source.read += page.length;
      return page;
    },
    scores(rowids: readonly number[], terms: readonly string[]) {
      return terms.flatMap((term) =>
        rowids.flatMap((rowid) => {
          const score = index.get(term)?.get(rowid);
          return score === undefined ? [] : [{ term, rowid, score }];
        }),
      );
    },
    counts(terms: readonly string[]) {
      return new Map(terms.map((t) => [t, index.get(t)?.size ?? 0]));
    },
  };
  return source;
}

/** Every order's per-group best score (0 = absent). */
function groupScores(index: Index, groups: readonly (readonly string[])[], rowid: number): number[] {
  return groups.map((terms) => Math.max(0, ...terms.map((t) => index.get(t)?.get(rowid) ?? 0)));
}

function bruteAll(index: Index, groups: readonly (readonly string[])[], k: number): Ranked[] {
  const rowids = new Set([...index.values()].flatMap((docs) => [...docs.keys()]));
  return [...rowids]
    .map((rowid) => {
      const s = groupScores(index, groups, rowid);
      return { rowid, total: s.reduce((a, b) => a + b, 0), covered: s.filter((x) => x > 0).length };
    })
    .filter((r) => r.covered === groups.length)
    .sort((a, b) => b.total - a.total || b.rowid - a.rowid)
    .slice(0, k);
}

/** Random postings: few distinct scores (many ties), terms of very different frequencies. */
const arbIndex = fc
  .record({
    docs: fc.integer({ min: 1, max: 600 }),
    terms: fc.array(
      fc.record({
        share: fc.double({ min: 0.002, max: 1, noNaN: true }),
        scores: fc.constantFrom([3], [3, 10], [2, 5, 10, 13]),
      }),
      { minLength: 2, maxLength: 5 },
    ),
    seed: fc.integer(),
  })
  .map(({ docs, terms, seed }) => {
    let x = seed >>> 0 || 1;
    const rand = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32;
    };
    const index: Index = new Map();
    terms.forEach(({ share, scores }, t) => {
      const docsOf = new Map<number, number>();
      for (let rowid = 1; rowid <= docs; rowid++) {
        if (rand() < share) docsOf.set(rowid, scores[Math.floor(rand() * scores.length)] ?? 1);
      }
      index.set(`t${t}`, docsOf);
    });
    return index;
  });

describe('rankAll', () => {
  test('equals brute force: the best k orders having every group', () => {
    fc.assert(
      fc.property(arbIndex, fc.integer({ min: 1, max: 30 }), fc.boolean(), (index, k, prefixGroup) => {
        const terms = [...index.keys()];
        // Optionally the last group is a prefix group of two terms (scores: the best of the two).
        const groups =
          prefixGroup && terms.length > 2
            ? [...terms.slice(0, -2).map((t) => [t]), terms.slice(-2)]
            : terms.map((t) => [t]);
        assert.deepEqual(rankAll(memorySource(index), groups, k), bruteAll(index, groups, k));
      }),
      { numRuns: 5000 },
    );
  });

  test('reads few postings when the best orders come first in every list', () => {
    // 5,000 orders have both words with the same score: the first k are the newest, and the
    // walk stops after its first chunk instead of reading 10,000 postings.
    const both = new Map(Array.from({ length: 5000 }, (_, i) => [i + 1, 10] as const));
    const source = memorySource(
      new Map([
        ['red', both],
        ['velvet', new Map(both)],
      ]),
    );
    assert.deepEqual(
      rankAll(source, [['red'], ['velvet']], 10).map((r) => r.rowid),
      Array.from({ length: 10 }, (_, i) => 5000 - i),
    );
    assert.ok(source.read <= 32, `read ${source.read} postings`);
  });

  test('reads the rarest list when it is short instead of walking a long one', () => {
    // "nut" is in 50 orders; "pistachio" in 5,000, with higher scores where "nut" is absent.
    const nut = new Map(Array.from({ length: 50 }, (_, i) => [(i + 1) * 100, 3] as const));
    const pistachio = new Map(
      Array.from({ length: 5000 }, (_, i) => [i + 1, nut.has(i + 1) ? 3 : 10] as const),
    );
    const source = memorySource(
      new Map([
        ['nut', nut],
        ['pistachio', pistachio],
      ]),
    );
    const ranked = rankAll(source, [['nut'], ['pistachio']], 10);
    assert.deepEqual(
      ranked,
      bruteAll(
        new Map([
          ['nut', nut],
          ['pistachio', pistachio],
        ]),
        [['nut'], ['pistachio']],
        10,
      ),
    );
    assert.ok(source.read <= 16 * 2 + EXHAUSTIVE_LIST, `read ${source.read} postings`);
  });

  test('a group no order has: nothing, without reading the other lists to the end', () => {
    const source = memorySource(
      new Map([['chocol', new Map(Array.from({ length: 5000 }, (_, i) => [i + 1, 10] as const))]]),
    );
    assert.deepEqual(rankAll(source, [['chocol'], ['xyzzy']], 10), []);
    assert.ok(source.read <= 16, `read ${source.read} postings`);
  });
});

describe('memoized', () => {
  test("a search's later passes see the same postings as its first", () => {
    // The store runs up to three rankings over one memoized source; a ranking must not consume
    // the remembered pages (a cursor once reversed and popped them in place).
    fc.assert(
      fc.property(arbIndex, fc.integer({ min: 1, max: 20 }), (index, k) => {
        const groups = [...index.keys()].map((t) => [t]);
        const source = memoized(memorySource(index));
        const first = rankAll(source, groups, k);
        assert.deepEqual(rankAll(source, groups, k), first);
        assert.deepEqual(rankAll(source, groups.slice(0, 1), k), bruteAll(index, groups.slice(0, 1), k));
      }),
      { numRuns: 300 },
    );
  });
});

describe('rankAny', () => {
  test('ranks the first k of each group by coverage, then total, then newest', () => {
    fc.assert(
      fc.property(arbIndex, fc.integer({ min: 1, max: 20 }), (index, k) => {
        const groups = [...index.keys()].map((t) => [t]);
        const firstK = new Set(
          groups.flatMap(([t]) =>
            [...(index.get(t ?? '') ?? [])]
              .map(([rowid, score]) => ({ rowid, score }))
              .sort(before)
              .slice(0, k)
              .map((p) => p.rowid),
          ),
        );
        const expected = [...firstK]
          .map((rowid) => {
            const s = groupScores(index, groups, rowid);
            return { rowid, total: s.reduce((a, b) => a + b, 0), covered: s.filter((x) => x > 0).length };
          })
          .sort((a, b) => b.covered - a.covered || b.total - a.total || b.rowid - a.rowid)
          .slice(0, k);
        assert.deepEqual(rankAny(memorySource(index), groups, k), expected);
      }),
      { numRuns: 200 },
    );
  });
});
