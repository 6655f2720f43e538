/**
 * Cases both order stores must handle the same way: the viewers of the sample data and user
 * strings that must never break a search (test/orders.test.ts, test/orders-postgres.test.ts).
 */
import { ALICE, BOB, CAROL_EMAIL } from '../../src/orders/generate.js';
import type { Viewer } from '../../src/orders/types.js';

export type CustomerViewer = Extract<Viewer, { kind: 'customer' }>;

export const ALL: Viewer = { kind: 'all' };
export const NONE: Viewer = { kind: 'none' };
export const alice: CustomerViewer = { kind: 'customer', email: ALICE.email };
export const bob: CustomerViewer = { kind: 'customer', email: BOB.email };
export const carol: CustomerViewer = { kind: 'customer', email: CAROL_EMAIL };

export const HOSTILE_QUERIES = [
  '"',
  '"unterminated',
  'AND',
  'OR',
  'NOT',
  '*',
  'NEAR(',
  'NEAR(a b',
  '(((',
  ')',
  'a AND (b',
  'col:foo',
  'title:chocolate',
  '^start',
  '-minus',
  '',
  '   ',
  'x'.repeat(10_240),
  'chocolate '.repeat(5_000),
  '🧁🎂 cupcake 🍫',
  "'; DROP TABLE orders; --",
  "' OR 1=1 --",
  'crème brûlée',
  'cre\u0300me bru\u0302le\u0301e',
  'NEAR("a" "b", 2)',
  '{title notes}: x',
  'a"b"c',
  '\u0000\u0001',
  '\uD800 lone surrogate',
  '𞤀𞤁 adlam',
];

/** Realistic queries the search benchmarks time (bench/search.ts, test/orders-postgres.test.ts). */
export const BENCH_QUERIES = [
  'chocolate',
  'red velvet',
  'birthday party',
  'nut allergy pistachio',
  'crème brûlée',
  'ord-100042',
  '',
];
