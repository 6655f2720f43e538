/**
 * What of an order is searchable, how much each part weighs, and the limits of a search — the
 * same for both stores, which differ only in how they index it (SQLite per-term scores, PostgreSQL
 * `tsvector` weight classes).
 */
import type { Order } from './types.js';

/** Largest page size `search` returns; smaller/larger limits are clamped to 1..MAX_SEARCH_LIMIT. */
export const MAX_SEARCH_LIMIT = 50;

/** Limit used when a non-numeric limit (NaN) is passed to `search`. */
export const DEFAULT_SEARCH_LIMIT = 10;

/**
 * PostgreSQL: how many of the newest orders matching a query are ranked. Equal to "rank
 * everything" while a query matches fewer orders than this; bounds the cost of common words on
 * large tables. (SQLite ranks every match from precomputed scores, src/orders/rank.ts.)
 */
export const RANK_WINDOW = 200;

/**
 * Clamps a requested page size to 1..{@link MAX_SEARCH_LIMIT} (fractions truncated, NaN -> default).
 */
export function clampLimit(limit: number): number {
  if (Number.isNaN(limit)) return DEFAULT_SEARCH_LIMIT;
  return Math.min(MAX_SEARCH_LIMIT, Math.max(1, Math.trunc(limit)));
}

/** The searchable fields of an order, as they are indexed (before each store's tokenizer). */
export interface SearchFields {
  /** The id's parts that contain a digit ({@link idSearchText}). */
  ref: string;
  flavours: string;
  customerName: string;
  customerEmail: string;
  notes: string;
  /** `out_for_delivery` → `out for delivery`. */
  status: string;
  deliveryDate: string;
}

/** The weight of a word found in each field when ranking (id number and flavours weigh most). */
export const FIELD_WEIGHTS: Readonly<Record<keyof SearchFields, number>> = {
  ref: 10,
  flavours: 5,
  customerName: 3,
  customerEmail: 2,
  notes: 1.5,
  status: 1,
  deliveryDate: 1,
};

export function searchFields(order: Order): SearchFields {
  return {
    ref: idSearchText(order.id),
    flavours: order.items.map((i) => i.flavour).join(', '),
    customerName: order.customerName,
    customerEmail: order.customerEmail.toLowerCase(),
    notes: order.notes,
    status: order.status.replaceAll('_', ' '),
    deliveryDate: order.deliveryDate,
  };
}

/**
 * The parts of an order id worth indexing: its pieces that contain a digit, so `ord-100042` is
 * found by "100042" or "ord-100042" while the `ord` shared by every id is not indexed.
 */
export function idSearchText(id: string): string {
  return (id.match(/[\p{L}\p{N}]+/gu) ?? []).filter((part) => /\p{N}/u.test(part)).join(' ');
}
