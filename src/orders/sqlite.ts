/**
 * SQLite-backed {@link OrderStore} (better-sqlite3, synchronous).
 *
 * Design, chosen so search can stay fast at a million orders:
 * - `orders` holds the data; `rowid` is the join key, `id` the public key (UNIQUE index), and the
 *   rendered `title` is stored so a search hit needs no JSON parsing.
 * - `orders_fts` is a contentless FTS5 index (`content=''`, so no second copy of the text) keyed by
 *   the same rowid. It indexes the searchable facts (id number, flavours, customer, notes, status,
 *   delivery date) rather than the rendered title, so boilerplate words that every order shares
 *   ("Order", "ord", "cupcakes", "for", "due") do not make every query touch every row. bm25
 *   weights are stored as the table's `rank` config: id number and flavours weigh most.
 * - Ranking is bounded: bm25 orders the newest {@link RANK_WINDOW} matching orders (FTS5 walks
 *   matches in descending rowid order, i.e. newest first, and stops there), so a term that matches
 *   a third of a million-row table costs a window, not a full sort.
 * - Each row's FTS entry also carries an `owner` token (a hash of the customer's e-mail), so a
 *   customer's search is an FTS intersection over that customer's orders only, rather than
 *   ranking every match in the shop and filtering afterwards. The join on `customer_email` is
 *   still the authoritative visibility check.
 * - User text only reaches MATCH through {@link toFtsQuery}; any remaining SQLite error from MATCH
 *   yields an empty result instead of an exception.
 */

import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { generateOrders, SAMPLE_ORDER_COUNT } from './generate.js';
import { toFtsQuery } from './query.js';
import type { Order, OrderHit, OrderItem, OrderStatus, OrderStore, Viewer } from './types.js';
import { orderTitle } from './types.js';

/** Schema version stored in `PRAGMA user_version`; bump it and add a migration step when the schema changes. */
export const SCHEMA_VERSION = 1;

/** Largest page size `search` returns; smaller/larger limits are clamped to 1..MAX_SEARCH_LIMIT. */
export const MAX_SEARCH_LIMIT = 50;

/** Limit used when a non-numeric limit (NaN) is passed to `search`. */
export const DEFAULT_SEARCH_LIMIT = 10;

/**
 * How many of the newest matching orders are ranked by bm25. Equal to "rank everything" while a
 * query matches fewer orders than this; bounds the cost of very common terms on large tables.
 */
export const RANK_WINDOW = 2000;

/** Columns the user's words are matched against (everything except the internal `owner` column). */
const USER_COLUMNS = '{ref flavours customer_name customer_email notes status delivery_date}';

/** bm25 weights, in `orders_fts` column order; `owner` gets 0 so it never affects ranking. */
const BM25_WEIGHTS = 'bm25(10.0, 5.0, 3.0, 2.0, 1.5, 1.0, 1.0, 0.0)';

const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS orders (
  rowid          INTEGER PRIMARY KEY,
  id             TEXT    NOT NULL UNIQUE,
  customer_name  TEXT    NOT NULL,
  customer_email TEXT    NOT NULL,
  items_json     TEXT    NOT NULL,
  total_cents    INTEGER NOT NULL,
  currency       TEXT    NOT NULL,
  status         TEXT    NOT NULL,
  ordered_at     TEXT    NOT NULL,
  delivery_date  TEXT    NOT NULL,
  notes          TEXT    NOT NULL DEFAULT '',
  title          TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_customer_recent ON orders (customer_email, ordered_at DESC);
CREATE INDEX IF NOT EXISTS orders_recent ON orders (ordered_at DESC);
CREATE VIRTUAL TABLE IF NOT EXISTS orders_fts USING fts5(
  ref, flavours, customer_name, customer_email, notes, status, delivery_date, owner,
  content = '', contentless_delete = 1, prefix = '2 3',
  tokenize = 'porter unicode61 remove_diacritics 2'
);
INSERT INTO orders_fts (orders_fts, rank) VALUES ('rank', '${BM25_WEIGHTS}');
`;

interface OrderRow {
  id: string;
  customer_name: string;
  customer_email: string;
  items_json: string;
  total_cents: number;
  currency: string;
  status: string;
  ordered_at: string;
  delivery_date: string;
  notes: string;
}

const ORDER_COLUMNS =
  'id, customer_name, customer_email, items_json, total_cents, currency, status, ordered_at, delivery_date, notes';

/**
 * Clamps a requested page size to 1..{@link MAX_SEARCH_LIMIT} (fractions truncated, NaN -> default).
 *
 * @example
 * clampLimit(0);   // 1
 * clampLimit(500); // 50
 */
export function clampLimit(limit: number): number {
  if (Number.isNaN(limit)) return DEFAULT_SEARCH_LIMIT;
  return Math.min(MAX_SEARCH_LIMIT, Math.max(1, Math.trunc(limit)));
}

/**
 * The FTS token that marks a customer's orders: decimal digits of a SHA-256 prefix of the
 * lower-cased e-mail (digits only, so the porter stemmer leaves it alone).
 *
 * @example
 * ownerToken('Alice@Example.com') === ownerToken('alice@example.com'); // true
 */
export function ownerToken(email: string): string {
  return createHash('sha256').update(email.toLowerCase()).digest().readBigUInt64BE(0).toString();
}

/**
 * The parts of an order id worth indexing: its pieces that contain a digit, so `ord-100042` is
 * found by "100042" or "ord-100042" while the `ord` shared by every id is not indexed.
 *
 * @example
 * idSearchText('ord-100042'); // '100042'
 */
export function idSearchText(id: string): string {
  return (id.match(/[\p{L}\p{N}]+/gu) ?? []).filter((part) => /\p{N}/u.test(part)).join(' ');
}

function rowToOrder(row: OrderRow): Order {
  return {
    id: row.id,
    customerName: row.customer_name,
    customerEmail: row.customer_email,
    items: JSON.parse(row.items_json) as OrderItem[],
    totalCents: row.total_cents,
    currency: row.currency as Order['currency'],
    status: row.status as OrderStatus,
    orderedAt: row.ordered_at,
    deliveryDate: row.delivery_date,
    notes: row.notes,
  };
}

/** Every statement the store uses, prepared once per connection. */
function prepareStatements(db: Database.Database) {
  const readonly = db.readonly;
  return {
    ping: db.prepare<[], number>('SELECT 1').pluck(),
    count: db.prepare<[], number>('SELECT count(*) FROM orders').pluck(),
    isEmpty: db.prepare<[], number>('SELECT NOT EXISTS (SELECT 1 FROM orders)').pluck(),
    getAny: db.prepare<[string], OrderRow>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = ?`),
    getOwn: db.prepare<[string, string], OrderRow>(
      `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = ? AND customer_email = ?`,
    ),
    recentAll: db.prepare<[number], OrderHit>(
      'SELECT id, title FROM orders ORDER BY ordered_at DESC, rowid DESC LIMIT ?',
    ),
    recentOwn: db.prepare<[string, number], OrderHit>(
      'SELECT id, title FROM orders WHERE customer_email = ? ORDER BY ordered_at DESC, rowid DESC LIMIT ?',
    ),
    // Rank the newest RANK_WINDOW matches inside FTS5, then fetch only the winning rows.
    searchAll: db.prepare<[string, number], OrderHit>(
      `SELECT o.id AS id, o.title AS title
         FROM (SELECT rowid, rank
                 FROM (SELECT rowid, rank FROM orders_fts WHERE orders_fts MATCH ?
                        ORDER BY rowid DESC LIMIT ${RANK_WINDOW})
                ORDER BY rank LIMIT ?) AS f
         CROSS JOIN orders AS o ON o.rowid = f.rowid
        ORDER BY f.rank`,
    ),
    // The MATCH also requires the owner token; customer_email = ? is the authoritative check.
    searchOwn: db.prepare<[string, string, number], OrderHit>(
      `SELECT o.id AS id, o.title AS title
         FROM (SELECT rowid, rank FROM orders_fts WHERE orders_fts MATCH ?
                ORDER BY rowid DESC LIMIT ${RANK_WINDOW}) AS f
         CROSS JOIN orders AS o ON o.rowid = f.rowid
        WHERE o.customer_email = ?
        ORDER BY f.rank LIMIT ?`,
    ),
    insertOrder: readonly
      ? undefined
      : db.prepare(
          `INSERT INTO orders (${ORDER_COLUMNS}, title) VALUES (
             @id, @customerName, @customerEmail, @itemsJson, @totalCents, @currency, @status,
             @orderedAt, @deliveryDate, @notes, @title)`,
        ),
    insertFts: readonly
      ? undefined
      : db.prepare(
          `INSERT INTO orders_fts
             (rowid, ref, flavours, customer_name, customer_email, notes, status, delivery_date, owner)
           VALUES (@rowid, @ref, @flavours, @customerName, @customerEmail, @notes, @status, @deliveryDate, @owner)`,
        ),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/** Options for {@link SqliteOrderStore.open}. */
export interface OpenOptions {
  /** Open an existing database read-only (no schema creation, no writes). */
  readonly?: boolean;
}

/**
 * SQLite implementation of {@link OrderStore}.
 *
 * @example
 * const store = SqliteOrderStore.open(':memory:');
 * store.ensureSampleData();
 * store.search('red velvet', { kind: 'customer', email: 'alice@example.com' }, 10);
 * store.close();
 */
export class SqliteOrderStore implements OrderStore {
  private readonly db: Database.Database;
  private readonly stmts: Statements;
  private readonly insertBatch: (orders: readonly Order[]) => number;

  private constructor(db: Database.Database) {
    this.db = db;
    this.stmts = prepareStatements(db);
    this.insertBatch = db.transaction((orders: readonly Order[]) => {
      const { insertOrder, insertFts } = this.stmts;
      if (!insertOrder || !insertFts) throw new Error('order store is read-only');
      for (const order of orders) {
        const customerEmail = order.customerEmail.toLowerCase();
        const title = orderTitle(order);
        const info = insertOrder.run({
          id: order.id,
          customerName: order.customerName,
          customerEmail,
          itemsJson: JSON.stringify(order.items),
          totalCents: order.totalCents,
          currency: order.currency,
          status: order.status,
          orderedAt: order.orderedAt,
          deliveryDate: order.deliveryDate,
          notes: order.notes,
          title,
        });
        insertFts.run({
          rowid: info.lastInsertRowid,
          ref: idSearchText(order.id),
          flavours: order.items.map((i) => i.flavour).join(', '),
          customerName: order.customerName,
          customerEmail,
          notes: order.notes,
          status: order.status.replaceAll('_', ' '),
          deliveryDate: order.deliveryDate,
          owner: ownerToken(customerEmail),
        });
      }
      return orders.length;
    });
  }

  /**
   * Opens (and, unless read-only, creates/migrates) an order database. `':memory:'` gives a
   * private in-memory store. Parent directories of a file path are created as needed.
   *
   * @example
   * const store = SqliteOrderStore.open('data/orders.sqlite');
   * const ro = SqliteOrderStore.open('data/orders.sqlite', { readonly: true });
   */
  static open(path: string, opts: OpenOptions = {}): SqliteOrderStore {
    const readonly = opts.readonly === true;
    const isFile = path !== ':memory:' && path !== '' && !path.startsWith('file:');
    if (isFile && !readonly) mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { readonly, fileMustExist: readonly });
    try {
      if (!readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
      if (isFile) db.pragma('mmap_size = 268435456');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new Error(
          `${path}: schema version ${version} is newer than this build supports (${SCHEMA_VERSION})`,
        );
      }
      if (version < SCHEMA_VERSION) {
        if (readonly) {
          throw new Error(
            `${path}: no order schema (version ${version}); generate it with npm run data:generate`,
          );
        }
        migrate(db, version);
      }
      return new SqliteOrderStore(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /**
   * Inserts orders (streamed; any iterable) in transactions of `batchSize`. Returns how many were
   * inserted. A duplicate id throws and rolls back the current batch (earlier batches stay).
   *
   * @example
   * store.insertMany(generateOrders({ count: 1_000_000 }), 10_000);
   */
  insertMany(orders: Iterable<Order>, batchSize = 5000): number {
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${String(batchSize)}`);
    }
    let inserted = 0;
    let batch: Order[] = [];
    for (const order of orders) {
      batch.push(order);
      if (batch.length >= batchSize) {
        inserted += this.insertBatch(batch);
        batch = [];
      }
    }
    if (batch.length > 0) inserted += this.insertBatch(batch);
    return inserted;
  }

  /**
   * Seeds `count` generated sample orders if (and only if) the store is empty.
   *
   * @example
   * const { created, count } = store.ensureSampleData(); // { created: true, count: 3000 } the first time
   */
  ensureSampleData(count: number = SAMPLE_ORDER_COUNT): { created: boolean; count: number } {
    if (this.stmts.isEmpty.get() !== 1) return { created: false, count: this.count() };
    this.insertMany(generateOrders({ count }));
    return { created: true, count: this.count() };
  }

  /**
   * Compacts the full-text index and refreshes query-planner statistics; worth running once after a bulk load.
   *
   * @example
   * store.insertMany(generateOrders({ count: 1_000_000 }));
   * store.optimize();
   */
  optimize(): void {
    this.db.exec("INSERT INTO orders_fts (orders_fts) VALUES ('optimize')");
    this.db.pragma('optimize');
  }

  /**
   * Full-text search over the orders `viewer` may see, best match first; blank queries list the
   * most recent orders. Never throws on user input.
   *
   * @example
   * store.search('birthday chocolate', { kind: 'all' }, 10); // [{ id: 'ord-100123', title: 'Order ord-100123: ...' }, ...]
   */
  search(query: string, viewer: Viewer, limit: number): OrderHit[] {
    if (viewer.kind === 'none') return [];
    const n = clampLimit(limit);
    const fts = toFtsQuery(typeof query === 'string' ? query : '');
    const email = viewer.kind === 'customer' ? viewer.email.toLowerCase() : undefined;
    if (fts === null) {
      return email === undefined ? this.stmts.recentAll.all(n) : this.stmts.recentOwn.all(email, n);
    }
    const userMatch = `${USER_COLUMNS} : (${fts})`;
    try {
      if (email === undefined) return this.stmts.searchAll.all(userMatch, n);
      return this.stmts.searchOwn.all(`owner : "${ownerToken(email)}" AND (${userMatch})`, email, n);
    } catch (err) {
      if (err instanceof Database.SqliteError) return [];
      throw err;
    }
  }

  /**
   * The order with this id if `viewer` may see it; `undefined` for unknown ids and for other
   * customers' orders alike.
   *
   * @example
   * store.get('ord-100000', { kind: 'customer', email: 'bob@example.com' }); // undefined unless Bob's
   */
  get(id: string, viewer: Viewer): Order | undefined {
    if (viewer.kind === 'none' || typeof id !== 'string') return undefined;
    const row =
      viewer.kind === 'all'
        ? this.stmts.getAny.get(id)
        : this.stmts.getOwn.get(id, viewer.email.toLowerCase());
    return row === undefined ? undefined : rowToOrder(row);
  }

  /**
   * Number of stored orders (all customers).
   *
   * @example
   * store.count(); // 3000
   */
  count(): number {
    return this.stmts.count.get() ?? 0;
  }

  /**
   * True while the database is open and answers `SELECT 1`.
   *
   * @example
   * if (!store.isReady()) res.statusCode = 503;
   */
  isReady(): boolean {
    if (!this.db.open) return false;
    try {
      return this.stmts.ping.get() === 1;
    } catch {
      return false;
    }
  }

  /**
   * Closes the database; safe to call more than once.
   *
   * @example
   * store.close();
   * store.close(); // no-op
   */
  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Brings a writable database from `from` up to {@link SCHEMA_VERSION} in one transaction. */
function migrate(db: Database.Database, from: number): void {
  db.transaction(() => {
    if (from < 1) db.exec(SCHEMA_V1);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}
