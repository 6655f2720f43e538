/**
 * SQLite-backed order store (better-sqlite3, synchronous: a {@link SyncOrderStore}).
 *
 * Design, chosen so search can stay fast at a million orders:
 * - `orders` holds the data; `rowid` is the join key, `id` the public key (UNIQUE index), and the
 *   rendered `title` is stored so a search hit needs no JSON parsing.
 * - `orders_fts` is a contentless FTS5 index (`content=''`, so no second copy of the text) keyed by
 *   the same rowid. It indexes the searchable facts (id number, flavours, customer, notes, status,
 *   delivery date) rather than the rendered title, so boilerplate words that every order shares
 *   ("Order", "ord", "cupcakes", "for", "due") do not make every query touch every row. bm25
 *   weights are stored as the table's `rank` config: id number and flavours weigh most.
 * - Search is a few cheap index walks, never a scan of every match. FTS5 walks matches in
 *   descending rowid order (newest first) and stops after {@link RANK_WINDOW} rows, so a query
 *   costs about the same whether a word matches ten orders or half a million. Passes, each only
 *   while fewer than `limit` hits were found: an exact id lookup for number tokens
 *   (`ord-100042`); every word exactly (after stemming and diacritic folding); every word with the
 *   last one as a prefix (the word being typed); any word. Only the last word is ever a prefix
 *   term: a prefix longer than the index's stored prefixes (2-3 chars) merges the document lists
 *   of every matching term, which at a million orders costs ~16 ms for "chocolate"*.
 * - Ranking is done in JavaScript over each pass's window (not bm25: FTS5's bm25 reads the whole
 *   document list of every term to weigh it, ~35 ms for "chocolate" at a million orders): orders
 *   matching more of the words first, then a weighted count of the words in the id number,
 *   flavours, customer, notes, status and delivery date (the bm25 column weights), then newest.
 * - Each row's FTS entry also carries an `owner` token (a hash of the customer's e-mail), so a
 *   customer's search is an FTS intersection over that customer's orders only, rather than
 *   ranking every match in the shop and filtering afterwards. The join on `customer_email` is
 *   still the authoritative visibility check.
 * - User text only reaches MATCH through {@link ftsMatch} (every token quoted); any remaining SQLite error from MATCH
 *   yields an empty result instead of an exception.
 */

import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { generateOrders, SAMPLE_ORDER_COUNT } from './generate.js';
import { orderTitle } from './present.js';
import { ftsMatch } from './query.js';
import { batches, type OrderColumns, orderFromColumns } from './rows.js';
import { clampLimit, FIELD_WEIGHTS, idSearchText, RANK_WINDOW, searchFields } from './searchDocument.js';
import { foldText, MIN_PREFIX_CHARS, queryTokens, WORD_CHAR } from './text.js';
import type { Order, OrderHit, OrderItem, SyncOrderStore, Viewer } from './types.js';

/** Schema version stored in `PRAGMA user_version`; bump it and add a migration step when the schema changes. */
export const SCHEMA_VERSION = 1;

/** At most this many number tokens of a query are looked up as order ids (`ord-<digits>`). */
const MAX_ID_LOOKUPS = 4;

/** Columns the user's words are matched against (everything except the internal `owner` column). */
const USER_COLUMNS = '{ref flavours customer_name customer_email notes status delivery_date}';

/**
 * bm25 weights, in `orders_fts` column order; `owner` gets 0 so it never affects ranking. Stored
 * as the table's `rank` config by schema v1; search no longer uses bm25 (see the file comment)
 * but ranks with the same column weights (`FIELD_WEIGHTS`, searchDocument.ts).
 */
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

interface OrderRow extends OrderColumns {
  items_json: string;
}

const ORDER_COLUMNS =
  'id, customer_name, customer_email, items_json, total_cents, currency, status, ordered_at, delivery_date, notes';

/** A search hit with its rowid (newer orders have larger rowids). */
interface HitRow {
  rowid: number;
  id: string;
  title: string;
}

/** A search candidate: what the JavaScript ranking looks at. */
interface CandidateRow extends HitRow {
  notes: string;
  customerName: string;
  customerEmail: string;
  status: string;
  deliveryDate: string;
}

const CANDIDATE_COLUMNS =
  'o.rowid AS rowid, o.id AS id, o.title AS title, o.notes AS notes, o.customer_name AS customerName, ' +
  'o.customer_email AS customerEmail, o.status AS status, o.delivery_date AS deliveryDate';

/** How many words of the folded `text` start with `root` (a word starts after a non-letter/digit). */
function countWordPrefix(text: string, root: string): number {
  let count = 0;
  for (let at = text.indexOf(root); at >= 0; at = text.indexOf(root, at + 1)) {
    if (at === 0 || !WORD_CHAR.test(text.charAt(at - 1))) count++;
  }
  return count;
}

/**
 * How a folded query token is compared with folded document words when ranking: numbers as a
 * prefix (`10004` ~ `100042`), words by a crude stem (the first max(4, length - 3) letters, so
 * `parties` ~ `party`, `chocolate` ~ `chocolates`). Ranking only orders rows FTS5 already matched,
 * so an approximate stem is enough.
 */
function tokenRoot(token: string): string {
  const t = foldText(token);
  if (/^\p{N}+$/u.test(t) || t.length <= 4) return t;
  return t.slice(0, Math.max(4, t.length - 3));
}

/** The flavour list of an order title: `Order …: 3 cupcakes (A, B) for …` -> `A, B`. */
function titleFlavours(title: string): string {
  const open = title.indexOf('(');
  const close = title.lastIndexOf(') for ');
  return open >= 0 && close > open ? title.slice(open + 1, close) : title;
}

/**
 * Orders candidates best first: more distinct query words present, then a weighted count of
 * word occurrences per field (capped at 3 per field and word), then newest.
 */
function rankCandidates(rows: readonly CandidateRow[], roots: readonly string[]): CandidateRow[] {
  const scored = rows.map((row) => {
    const fields: ReadonlyArray<readonly [number, string]> = [
      [FIELD_WEIGHTS.ref, idSearchText(row.id)],
      [FIELD_WEIGHTS.flavours, foldText(titleFlavours(row.title))],
      [FIELD_WEIGHTS.customerName, foldText(row.customerName)],
      [FIELD_WEIGHTS.customerEmail, foldText(row.customerEmail)],
      [FIELD_WEIGHTS.notes, foldText(row.notes)],
      [FIELD_WEIGHTS.status, row.status.replaceAll('_', ' ')],
      [FIELD_WEIGHTS.deliveryDate, row.deliveryDate],
    ];
    let covered = 0;
    let score = 0;
    for (const root of roots) {
      let found = false;
      for (const [weight, text] of fields) {
        const tf = root === '' ? 0 : countWordPrefix(text, root);
        if (tf > 0) {
          found = true;
          score += weight * Math.min(tf, 3);
        }
      }
      if (found) covered++;
    }
    return { row, covered, score };
  });
  scored.sort((a, b) => b.covered - a.covered || b.score - a.score || b.row.rowid - a.row.rowid);
  return scored.map((s) => s.row);
}

/**
 * The FTS token that marks a customer's orders: decimal digits of a SHA-256 prefix of the
 * lower-cased e-mail (digits only, so the porter stemmer leaves it alone).
 */
export function ownerToken(email: string): string {
  return createHash('sha256').update(email.toLowerCase()).digest().readBigUInt64BE(0).toString();
}

function rowToOrder(row: OrderRow): Order {
  return orderFromColumns(row, JSON.parse(row.items_json) as OrderItem[]);
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
    idAll: db.prepare<[string], HitRow>('SELECT rowid, id, title FROM orders WHERE id = ?'),
    idOwn: db.prepare<[string, string], HitRow>(
      'SELECT rowid, id, title FROM orders WHERE id = ? AND customer_email = ?',
    ),
    // The newest RANK_WINDOW matches (FTS5 stops there), then only those rows from `orders`.
    candidatesAll: db.prepare<[string], CandidateRow>(
      `SELECT ${CANDIDATE_COLUMNS}
         FROM (SELECT rowid FROM orders_fts WHERE orders_fts MATCH ?
                ORDER BY rowid DESC LIMIT ${RANK_WINDOW}) AS f
         CROSS JOIN orders AS o ON o.rowid = f.rowid`,
    ),
    // The MATCH also requires the owner token; customer_email = ? is the authoritative check.
    candidatesOwn: db.prepare<[string, string], CandidateRow>(
      `SELECT ${CANDIDATE_COLUMNS}
         FROM (SELECT rowid FROM orders_fts WHERE orders_fts MATCH ?
                ORDER BY rowid DESC LIMIT ${RANK_WINDOW}) AS f
         CROSS JOIN orders AS o ON o.rowid = f.rowid
        WHERE o.customer_email = ?`,
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
 * SQLite implementation of {@link SyncOrderStore}.
 *
 * @example
 * ```ts
 * const store = SqliteOrderStore.open('data/orders.sqlite'); // created and migrated when missing
 * store.ensureSampleData(); // 3000 generated orders the first time
 * store.search('red velvet', { kind: 'customer', email: 'alice@example.com' }, 10);
 * store.close();
 * ```
 */
export class SqliteOrderStore implements SyncOrderStore {
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
          ...searchFields(order),
          owner: ownerToken(customerEmail),
        });
      }
      return orders.length;
    });
  }

  /**
   * Opens (and, unless read-only, creates/migrates) an order database. `':memory:'` gives a
   * private in-memory store. Parent directories of a file path are created as needed.
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
   */
  insertMany(orders: Iterable<Order>, batchSize = 5000): number {
    let inserted = 0;
    for (const batch of batches(orders, batchSize)) inserted += this.insertBatch(batch);
    return inserted;
  }

  /**
   * Seeds `count` generated sample orders if (and only if) the store is empty.
   */
  ensureSampleData(count: number = SAMPLE_ORDER_COUNT): { created: boolean; count: number } {
    if (this.stmts.isEmpty.get() !== 1) return { created: false, count: this.count() };
    this.insertMany(generateOrders({ count }));
    return { created: true, count: this.count() };
  }

  /**
   * Compacts the full-text index and refreshes query-planner statistics; worth running once after a bulk load.
   */
  optimize(): void {
    this.db.exec("INSERT INTO orders_fts (orders_fts) VALUES ('optimize')");
    this.db.pragma('optimize');
  }

  /**
   * Full-text search over the orders `viewer` may see, best match first; blank queries list the
   * most recent orders. Never throws on user input.
   */
  search(query: string, viewer: Viewer, limit: number): OrderHit[] {
    if (viewer.kind === 'none') return [];
    const n = clampLimit(limit);
    const tokens = queryTokens(typeof query === 'string' ? query : '');
    const email = viewer.kind === 'customer' ? viewer.email.toLowerCase() : undefined;
    if (tokens.length === 0) {
      return email === undefined ? this.stmts.recentAll.all(n) : this.stmts.recentOwn.all(email, n);
    }
    const hits: OrderHit[] = [];
    const seen = new Set<string>();
    const add = (row: HitRow): void => {
      if (hits.length < n && !seen.has(row.id)) {
        seen.add(row.id);
        hits.push({ id: row.id, title: row.title });
      }
    };
    // 1. Number tokens that are order ids: the order itself first.
    for (const t of tokens.filter((t) => /^\d{1,18}$/.test(t)).slice(0, MAX_ID_LOOKUPS)) {
      const id = `ord-${t}`;
      const row = email === undefined ? this.stmts.idAll.get(id) : this.stmts.idOwn.get(id, email);
      if (row !== undefined) add(row);
    }
    // 2. Full-text passes, cheapest and most precise first, each only while hits are missing.
    const last = tokens[tokens.length - 1] ?? '';
    const prefix = [...last].length >= MIN_PREFIX_CHARS;
    const passes: Array<['AND' | 'OR', boolean]> = [['AND', false]];
    if (prefix) passes.push(['AND', true]);
    if (tokens.length > 1) passes.push(['OR', prefix]);
    const roots = tokens.map(tokenRoot);
    for (const [op, prefixLast] of passes) {
      if (hits.length >= n) break;
      const match = ftsMatch(tokens, op, prefixLast);
      if (match === null) break;
      for (const row of rankCandidates(this.candidates(match, email), roots)) add(row);
    }
    return hits;
  }

  /** The newest {@link RANK_WINDOW} orders the viewer may see that match `fts`; [] on any SQLite error. */
  private candidates(fts: string, email: string | undefined): CandidateRow[] {
    const userMatch = `${USER_COLUMNS} : (${fts})`;
    try {
      if (email === undefined) return this.stmts.candidatesAll.all(userMatch);
      return this.stmts.candidatesOwn.all(`owner : "${ownerToken(email)}" AND (${userMatch})`, email);
    } catch (err) {
      if (err instanceof Database.SqliteError) return [];
      throw err;
    }
  }

  /**
   * The order with this id if `viewer` may see it; `undefined` for unknown ids and for other
   * customers' orders alike.
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
   */
  count(): number {
    return this.stmts.count.get() ?? 0;
  }

  /**
   * True while the database is open and answers `SELECT 1`.
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
