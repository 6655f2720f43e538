/**
 * The order data model and the store interface every backend implements.
 *
 * The MCP tools only ever talk to an {@link OrderStore}; the SQLite store is the
 * default and a PostgreSQL store can be added behind the same interface.
 */

/** One line of an order: a flavour and how many of it. */
export interface OrderItem {
  flavour: string;
  quantity: number;
  /** Unit price in minor units (cents). */
  unitPriceCents: number;
}

export type OrderStatus = 'pending' | 'baking' | 'ready' | 'out_for_delivery' | 'delivered' | 'cancelled';

export interface Order {
  /** Stable public id, e.g. `ord-100042`. */
  id: string;
  customerName: string;
  /** Lower-case e-mail address; the key that ties an order to a signed-in user. */
  customerEmail: string;
  items: OrderItem[];
  /** Sum of quantity × unit price, in cents. */
  totalCents: number;
  currency: 'USD';
  status: OrderStatus;
  /** ISO date-time the order was placed (UTC). */
  orderedAt: string;
  /** ISO date (YYYY-MM-DD) the order is or was due for delivery. */
  deliveryDate: string;
  /** Free-text notes from the customer (may be empty). */
  notes: string;
}

/** Who is asking: decides which orders are visible. */
export type Viewer =
  /** Staff: every order. */
  | { kind: 'all' }
  /** A customer: only orders whose `customerEmail` equals this (compared case-insensitively). */
  | { kind: 'customer'; email: string }
  /** Signed in, but no e-mail claim and not staff: sees nothing. */
  | { kind: 'none' };

/**
 * Which orders a signed-in user may see: staff everything, a customer the orders placed with their
 * e-mail, anyone else nothing. Takes the principal's facts, not the principal (orders know no OAuth).
 */
export function viewerOf(user: { staff: boolean; email?: string | undefined }): Viewer {
  if (user.staff) return { kind: 'all' };
  if (user.email) return { kind: 'customer', email: user.email };
  return { kind: 'none' };
}

/** What `search` returns per hit, best match first. */
export interface OrderHit {
  id: string;
  title: string;
}

/**
 * What the tools and the HTTP layer use. Asynchronous, so a networked store (PostgreSQL) fits;
 * the embedded SQLite store is synchronous ({@link SyncOrderStore}) and wrapped by {@link asyncStore}.
 */
export interface OrderStore {
  /**
   * Full-text search over the orders the viewer may see. Any user string is safe:
   * FTS syntax (`"`, `AND`, `*`, `NEAR(`, unbalanced parentheses), empty and very long
   * strings return hits or an empty list and never throw. An empty/blank query returns
   * the viewer's most recent orders.
   */
  search(query: string, viewer: Viewer, limit: number): Promise<OrderHit[]>;
  /** The order with this id if the viewer may see it; otherwise `undefined` (same for unknown ids). */
  get(id: string, viewer: Viewer): Promise<Order | undefined>;
  /** Number of orders stored (all customers). */
  count(): Promise<number>;
  /** Cheap liveness probe for `/readyz`: true while the store can answer queries. */
  isReady(): Promise<boolean>;
  close(): Promise<void>;
}

/** The same operations, synchronously (better-sqlite3). */
export interface SyncOrderStore {
  search(query: string, viewer: Viewer, limit: number): OrderHit[];
  get(id: string, viewer: Viewer): Order | undefined;
  count(): number;
  isReady(): boolean;
  close(): void;
}

/**
 * Wraps a synchronous store as an {@link OrderStore}.
 *
 * @example
 * ```ts
 * const store = asyncStore(SqliteOrderStore.open('data/orders.sqlite'));
 * await store.search('chocolate', { kind: 'all' }, 10);
 * ```
 */
export function asyncStore(s: SyncOrderStore): OrderStore {
  return {
    search: async (q, v, l) => s.search(q, v, l),
    get: async (id, v) => s.get(id, v),
    count: async () => s.count(),
    isReady: async () => s.isReady(),
    close: async () => s.close(),
  };
}
