/**
 * SQLite-backed order store (better-sqlite3, synchronous: a {@link SyncOrderStore}).
 *
 * Design (schema v2), chosen so a search reads a few short index ranges whatever the data size:
 * - `orders` holds the data; `rowid` is the join key (newer orders have larger rowids), `id` the
 *   public key (UNIQUE index), and the rendered `title` is stored so a hit needs no JSON parsing.
 * - Ranking is precomputed when an order is written (terms.ts): `search_terms` has one row per
 *   (term, order) with the order's score for that term — the id number and flavours weigh most,
 *   then customer, notes, status, delivery date. Its key (term, score, order) lists a term's
 *   orders best first, so the best ten orders for one word are the first ten rows of one range.
 *   `search_terms_order` answers "this order's score for this term"; `search_terms_owner` lists
 *   one customer's orders (by a hash of the e-mail) so a customer's search never walks the shop's.
 *   `search_stats` counts each term's orders; `search_words` maps each folded word to its term,
 *   for the word being typed (a prefix).
 * - Search (rank.ts, independent of SQL): passes, each only while fewer than `limit` hits were
 *   found: an exact id lookup for number tokens (`ord-100042`); every word; every word with the
 *   last one as a prefix (expanded to the terms of at most {@link MAX_PREFIX_WORDS} words); any
 *   word. Several words are ranked by the threshold algorithm over their lists, or by reading the
 *   rarest word's list when it is short. Ranking: more words present first (the "any word" pass),
 *   then the summed score, then newest.
 * - A search runs in one read transaction; reads return JSON built by SQLite (one string per
 *   statement), which costs far less than better-sqlite3 building a JavaScript object per row.
 * - User text never reaches SQL: it becomes folded, stemmed terms bound as parameters. The
 *   `customer_email = ?` check on every hit is the authoritative visibility check.
 * - Schema v1 (an FTS5 index ranked in JavaScript over the newest 200 matches) is upgraded in
 *   place on the first writable open.
 */

import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { generateOrders, SAMPLE_ORDER_COUNT } from './generate.js';
import { orderTitle } from './present.js';
import { memoized, type PostingSource, type Ranked, rankAll, rankAny, type TermScore } from './rank.js';
import { batches, type OrderColumns, orderFromColumns } from './rows.js';
import { clampLimit } from './searchDocument.js';
import { orderTerms, stem } from './terms.js';
import { foldText, MIN_PREFIX_CHARS, queryTokens } from './text.js';
import type { Order, OrderHit, OrderItem, SyncOrderStore, Viewer } from './types.js';

/** Schema version stored in `PRAGMA user_version`; bump it and add a migration step when the schema changes. */
export const SCHEMA_VERSION = 2;

/** At most this many number tokens of a query are looked up as order ids (`ord-<digits>`). */
const MAX_ID_LOOKUPS = 4;

/** A word being typed expands to the terms of at most this many words that start with it (in word order). */
const MAX_PREFIX_WORDS = 64;

const ORDERS_TABLE = `
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
`;

/**
 * Schema v2's search tables (see the file comment). `search_terms` is keyed for walking a term's
 * orders best first; `search_terms_order` answers "this order's score for this term" (it carries
 * the key's `score`); `search_terms_owner` walks one customer's orders.
 */
const SEARCH_TABLES = `
CREATE TABLE search_terms (
  term        TEXT    NOT NULL,
  score       INTEGER NOT NULL,
  order_rowid INTEGER NOT NULL,
  owner       INTEGER NOT NULL,
  PRIMARY KEY (term, score, order_rowid)
) WITHOUT ROWID;
CREATE INDEX search_terms_order ON search_terms (term, order_rowid);
CREATE INDEX search_terms_owner ON search_terms (owner, term, score, order_rowid);
CREATE TABLE search_stats (
  term TEXT    NOT NULL PRIMARY KEY,
  df   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE search_words (
  word TEXT NOT NULL PRIMARY KEY,
  term TEXT NOT NULL
) WITHOUT ROWID;
`;

interface OrderRow extends OrderColumns {
  items_json: string;
}

const ORDER_COLUMNS =
  'id, customer_name, customer_email, items_json, total_cents, currency, status, ordered_at, delivery_date, notes';

/** A search hit with its rowid. */
interface HitRow {
  rowid: number;
  id: string;
  title: string;
}

/**
 * The number that marks a customer's postings: the first 48 bits of the SHA-256 of the
 * lower-cased e-mail (a safe integer). Only narrows a walk; `customer_email` is still checked.
 */
export function ownerKey(email: string): number {
  return createHash('sha256').update(email.toLowerCase()).digest().readUIntBE(0, 6);
}

function rowToOrder(row: OrderRow): Order {
  return orderFromColumns(row, JSON.parse(row.items_json) as OrderItem[]);
}

/** Larger than any score or rowid: where a walk starts. */
const START = Number.MAX_SAFE_INTEGER;

/** At most this many rowids, and this many terms, are bound in one statement (SQLite allows 32,766 parameters). */
const MAX_BOUND_ROWIDS = 512;
const MAX_BOUND_TERMS = 128;

/** `list` in consecutive pieces of at most `size` (none for an empty list). */
function slices<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** `?, ?, …` (n of them). */
function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/** The smallest power of two ≥ n (and ≥ 1). */
function powerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
}

/** `list` padded with NULLs (which match nothing in `IN`) to the next power of two. */
function padded<T>(list: readonly T[]): Array<T | null> {
  const size = powerOfTwo(list.length);
  return [...list, ...new Array<null>(size - list.length).fill(null)];
}

/**
 * A statement per size (a LIMIT, or the length of a padded list), each prepared on first use.
 * Callers use powers of two, so there are a handful of variants.
 */
function perSize<S>(
  db: Database.Database,
  sql: (size: number) => string,
  shape: (st: Database.Statement) => S,
) {
  const prepared = new Map<number, S>();
  return (size: number): S => {
    let st = prepared.get(size);
    if (st === undefined) {
      if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`bad statement size ${size}`);
      st = shape(db.prepare(sql(size)));
      prepared.set(size, st);
    }
    return st;
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
    recentAll: perSize(
      db,
      (n) => `SELECT json_group_array(json_object('id', id, 'title', title)
                                ORDER BY ordered_at DESC, rowid DESC)
         FROM (SELECT id, title, ordered_at, rowid FROM orders
                ORDER BY ordered_at DESC, rowid DESC LIMIT ${n})`,
      (st) => st.pluck() as Database.Statement<[], string>,
    ),
    recentOwn: perSize(
      db,
      (n) => `SELECT json_group_array(json_object('id', id, 'title', title)
                                ORDER BY ordered_at DESC, rowid DESC)
         FROM (SELECT id, title, ordered_at, rowid FROM orders WHERE customer_email = ?
                ORDER BY ordered_at DESC, rowid DESC LIMIT ${n})`,
      (st) => st.pluck() as Database.Statement<[string], string>,
    ),
    idAll: db.prepare<[string], HitRow>('SELECT rowid, id, title FROM orders WHERE id = ?'),
    idOwn: db.prepare<[string, string], HitRow>(
      'SELECT rowid, id, title FROM orders WHERE id = ? AND customer_email = ?',
    ),
    // Reads return one row of JSON arrays: building a JavaScript object per row costs more than
    // SQLite's whole index walk, JSON.parse of one string far less. (An aggregate's ORDER BY
    // keeps the walk's order, which SQL does not otherwise promise for an aggregate.) LIMITs are constants (one
    // statement per limit, prepared on first use): with `LIMIT ?` SQLite's walk costs twice as much.
    walkAll: perSize(
      db,
      (limit) => `SELECT json_group_array(score ORDER BY score DESC, order_rowid DESC),
              json_group_array(order_rowid ORDER BY score DESC, order_rowid DESC) FROM (
         SELECT score, order_rowid FROM search_terms
          WHERE term = ? AND (score, order_rowid) < (?, ?)
          ORDER BY score DESC, order_rowid DESC LIMIT ${limit})`,
      (st) => st.raw() as Database.Statement<[string, number, number], [string, string]>,
    ),
    walkOwn: perSize(
      db,
      (limit) => `SELECT json_group_array(score ORDER BY score DESC, order_rowid DESC),
              json_group_array(order_rowid ORDER BY score DESC, order_rowid DESC) FROM (
         SELECT score, order_rowid FROM search_terms INDEXED BY search_terms_owner
          WHERE owner = ? AND term = ? AND (score, order_rowid) < (?, ?)
          ORDER BY score DESC, order_rowid DESC LIMIT ${limit})`,
      (st) => st.raw() as Database.Statement<[number, string, number, number], [string, string]>,
    ),
    topHitsAll: perSize(
      db,
      (limit) => `SELECT json_group_array(json_array(p.score, o.rowid, o.id, o.title))
         FROM (SELECT score, order_rowid FROM search_terms WHERE term = ?
                ORDER BY score DESC, order_rowid DESC LIMIT ${limit}) AS p
         CROSS JOIN orders AS o ON o.rowid = p.order_rowid`,
      (st) => st.pluck() as Database.Statement<[string], string>,
    ),
    topHitsOwn: perSize(
      db,
      (limit) => `SELECT json_group_array(json_array(p.score, o.rowid, o.id, o.title))
         FROM (SELECT score, order_rowid FROM search_terms INDEXED BY search_terms_owner
                WHERE owner = ? AND term = ? ORDER BY score DESC, order_rowid DESC LIMIT ${limit}) AS p
         CROSS JOIN orders AS o ON o.rowid = p.order_rowid
        WHERE o.customer_email = ?`,
      (st) => st.pluck() as Database.Statement<[number, string, string], string>,
    ),
    // Lists are bound as `IN (?, ?, …)` padded with NULLs to a power of two (a few statement
    // variants); json_each() would be parsed again for every outer row.
    scores: perSize(
      db,
      (key) => {
        const [terms, rowids] = [key >> 16, key & 0xffff];
        return `SELECT json_group_array(json_array(term, score, order_rowid))
           FROM search_terms INDEXED BY search_terms_order
          WHERE term IN (${placeholders(terms)}) AND order_rowid IN (${placeholders(rowids)})`;
      },
      (st) => st.pluck() as Database.Statement<unknown[], string>,
    ),
    counts: perSize(
      db,
      (n) => `SELECT json_group_object(term, df) FROM search_stats WHERE term IN (${placeholders(n)})`,
      (st) => st.pluck() as Database.Statement<unknown[], string>,
    ),
    prefixTerms: db
      .prepare<[string, string], string>(
        `SELECT json_group_array(term) FROM (
           SELECT term FROM search_words WHERE word >= ? AND word < ? LIMIT ${MAX_PREFIX_WORDS})`,
      )
      .pluck(),
    hitsAll: perSize(
      db,
      (n) =>
        `SELECT json_group_array(json_array(rowid, id, title)) FROM orders WHERE rowid IN (${placeholders(n)})`,
      (st) => st.pluck() as Database.Statement<unknown[], string>,
    ),
    hitsOwn: perSize(
      db,
      (n) => `SELECT json_group_array(json_array(rowid, id, title)) FROM orders
          WHERE rowid IN (${placeholders(n)}) AND customer_email = ?`,
      (st) => st.pluck() as Database.Statement<unknown[], string>,
    ),
    insertOrder: readonly
      ? undefined
      : db.prepare(
          `INSERT INTO orders (${ORDER_COLUMNS}, title) VALUES (
             @id, @customerName, @customerEmail, @itemsJson, @totalCents, @currency, @status,
             @orderedAt, @deliveryDate, @notes, @title)`,
        ),
  };
}

/**
 * Writes orders' search terms inside the caller's transaction: postings at once, each batch's
 * words and term counts once per batch ({@link TermWriter.flush}).
 */
class TermWriter {
  private readonly insertTerm: Database.Statement<[string, number, number | bigint, number]>;
  private readonly insertWord: Database.Statement<[string, string]>;
  private readonly addCount: Database.Statement<[string, number]>;
  private readonly words = new Map<string, string>();
  private readonly counts = new Map<string, number>();

  constructor(db: Database.Database) {
    this.insertTerm = db.prepare(
      'INSERT INTO search_terms (term, score, order_rowid, owner) VALUES (?, ?, ?, ?)',
    );
    this.insertWord = db.prepare('INSERT OR IGNORE INTO search_words (word, term) VALUES (?, ?)');
    this.addCount = db.prepare(
      'INSERT INTO search_stats (term, df) VALUES (?, ?) ON CONFLICT (term) DO UPDATE SET df = df + excluded.df',
    );
  }

  add(order: Order, rowid: number | bigint, owner: number): void {
    const terms = orderTerms(order);
    for (const [term, score] of terms.scores) {
      this.insertTerm.run(term, score, rowid, owner);
      this.counts.set(term, (this.counts.get(term) ?? 0) + 1);
    }
    for (const [word, term] of terms.words) this.words.set(word, term);
  }

  flush(): void {
    for (const [word, term] of this.words) this.insertWord.run(word, term);
    for (const [term, n] of this.counts) this.addCount.run(term, n);
    this.words.clear();
    this.counts.clear();
  }
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
  /** A search's statements in one read transaction: one snapshot, one lock instead of one per statement. */
  private readonly searchSnapshot: (query: string, viewer: Viewer, limit: number) => OrderHit[];

  private constructor(db: Database.Database) {
    this.db = db;
    this.stmts = prepareStatements(db);
    const begin = db.prepare('BEGIN');
    const commit = db.prepare('COMMIT');
    // better-sqlite3's db.transaction() wrapper costs several times a bare BEGIN/COMMIT pair.
    this.searchSnapshot = (query, viewer, limit) => {
      if (db.inTransaction) return this.searchNow(query, viewer, limit);
      begin.run();
      try {
        return this.searchNow(query, viewer, limit);
      } finally {
        commit.run();
      }
    };
    this.insertBatch = db.transaction((orders: readonly Order[]) => {
      const { insertOrder } = this.stmts;
      if (!insertOrder) throw new Error('order store is read-only');
      // One writer per batch: a batch that throws (a duplicate id) rolls back, and its pending
      // words and counts go with the writer instead of leaking into the next batch's flush.
      const terms = new TermWriter(db);
      for (const order of orders) {
        const customerEmail = order.customerEmail.toLowerCase();
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
          title: orderTitle(order),
        });
        terms.add(order, info.lastInsertRowid, ownerKey(customerEmail));
      }
      terms.flush();
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
        if (readonly && version === 0) {
          throw new Error(`${path}: no order schema (version 0); generate it with npm run data:generate`);
        }
        if (readonly) {
          throw new Error(
            `${path}: order schema version ${version} is older than this build's (${SCHEMA_VERSION}); ` +
              'open it once writable to upgrade it in place (npm start does), or regenerate it with npm run data:generate',
          );
        }
        migrate(db);
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
   * Refreshes query-planner statistics; worth running once after a bulk load.
   */
  optimize(): void {
    this.db.pragma('optimize');
  }

  /**
   * Full-text search over the orders `viewer` may see, best match first; blank queries list the
   * most recent orders. Never throws on user input.
   */
  search(query: string, viewer: Viewer, limit: number): OrderHit[] {
    return this.searchSnapshot(query, viewer, limit);
  }

  private searchNow(query: string, viewer: Viewer, limit: number): OrderHit[] {
    if (viewer.kind === 'none') return [];
    const n = clampLimit(limit);
    const tokens = queryTokens(typeof query === 'string' ? query : '');
    const email = viewer.kind === 'customer' ? viewer.email.toLowerCase() : undefined;
    if (tokens.length === 0) {
      const json = email === undefined ? this.stmts.recentAll(n).get() : this.stmts.recentOwn(n).get(email);
      return JSON.parse(json ?? '[]') as OrderHit[];
    }
    const hits: OrderHit[] = [];
    const seen = new Set<number>();
    const add = (row: HitRow): void => {
      if (hits.length < n && !seen.has(row.rowid)) {
        seen.add(row.rowid);
        hits.push({ id: row.id, title: row.title });
      }
    };
    // 1. Number tokens that are order ids: the order itself first.
    for (const t of tokens.filter((t) => /^\d{1,18}$/.test(t)).slice(0, MAX_ID_LOOKUPS)) {
      const id = `ord-${t}`;
      const row = email === undefined ? this.stmts.idAll.get(id) : this.stmts.idOwn.get(id, email);
      if (row !== undefined) add(row);
    }
    // 2. Ranked passes, most precise first, each only while hits are missing: every word; every
    //    word with the last one as a prefix (the word being typed); any word.
    const words = tokens.map(foldText);
    const exact = words.map((w) => [stem(w)]);
    const source = memoized(this.source(email));
    const addRanked = (ranked: readonly Ranked[]): void => {
      for (const row of this.hitRows(
        ranked.map((r) => r.rowid),
        email,
      ))
        add(row);
    };
    const single = exact.length === 1 ? exact[0]?.[0] : undefined;
    if (single !== undefined) for (const row of this.topHits(single, n + seen.size, email)) add(row);
    else addRanked(rankAll(source, exact, n + seen.size));
    if (hits.length >= n) return hits;
    const last = words[words.length - 1] ?? '';
    const typedGroup = [...last].length >= MIN_PREFIX_CHARS ? this.prefixGroup(last) : undefined;
    const typed = typedGroup === undefined ? undefined : [...exact.slice(0, -1), typedGroup];
    // When no other word starts with the last one, the prefix pass would repeat the exact one.
    if (typed !== undefined && (typedGroup?.length ?? 0) > 1)
      addRanked(rankAll(source, typed, n + seen.size));
    if (hits.length < n && words.length > 1) addRanked(rankAny(source, typed ?? exact, n + seen.size));
    return hits;
  }

  /** The first `k` orders of one term's list as hits (one statement; the common one-word search). */
  private topHits(term: string, k: number, email: string | undefined): HitRow[] {
    const size = powerOfTwo(k);
    const json =
      email === undefined
        ? this.stmts.topHitsAll(size).get(term)
        : this.stmts.topHitsOwn(size).get(ownerKey(email), term, email);
    const rows = JSON.parse(json ?? '[]') as Array<[number, number, string, string]>;
    rows.sort((a, b) => b[0] - a[0] || b[1] - a[1]);
    return rows.slice(0, k).map(([, rowid, id, title]) => ({ rowid, id, title }));
  }

  /** The terms of the words that start with `prefix` (folded), its own term included. */
  private prefixGroup(prefix: string): string[] {
    const chars = [...prefix];
    const lastChar = chars.pop() ?? '';
    const upper = chars.join('') + String.fromCodePoint((lastChar.codePointAt(0) ?? 0) + 1);
    const terms = new Set(JSON.parse(this.stmts.prefixTerms.get(prefix, upper) ?? '[]') as string[]);
    terms.add(stem(prefix));
    return [...terms];
  }

  /** Postings of every order (staff) or of one customer's orders. */
  private source(email: string | undefined): PostingSource {
    const { walkAll, walkOwn, scores, counts } = this.stmts;
    const owner = email === undefined ? undefined : ownerKey(email);
    return {
      walk: (term, after, limit) => {
        const from = [after?.score ?? START, after?.rowid ?? START] as const;
        const size = powerOfTwo(limit);
        const row =
          owner === undefined ? walkAll(size).get(term, ...from) : walkOwn(size).get(owner, term, ...from);
        if (row === undefined) return [];
        const score = JSON.parse(row[0]) as number[];
        const rowids = (JSON.parse(row[1]) as number[]).slice(0, limit);
        return rowids.map((rowid, i) => ({ score: score[i] ?? 0, rowid }));
      },
      scores: (rowids, terms) => {
        const out: TermScore[] = [];
        for (const r of slices(rowids, MAX_BOUND_ROWIDS)) {
          for (const t of slices(terms, MAX_BOUND_TERMS)) {
            const [pt, pr] = [padded(t), padded(r)];
            const json = scores((pt.length << 16) | pr.length).get(...pt, ...pr);
            for (const [term, score, rowid] of JSON.parse(json ?? '[]') as Array<[string, number, number]>) {
              out.push({ term, score, rowid });
            }
          }
        }
        return out;
      },
      // Staff see every order; for a customer the shop-wide count is an upper bound, which is all
      // rankAll needs to pick the rarest list.
      counts: (terms) => {
        const out = new Map<string, number>();
        for (const t of slices(terms, MAX_BOUND_TERMS)) {
          const list = padded(t);
          const json = counts(list.length).get(...list);
          for (const [term, n] of Object.entries(JSON.parse(json ?? '{}') as Record<string, number>))
            out.set(term, n);
        }
        return out;
      },
    };
  }

  /** The hits for ranked rowids, in rank order; a customer's only if theirs (the authoritative check). */
  private hitRows(rowids: readonly number[], email: string | undefined): HitRow[] {
    if (rowids.length === 0) return [];
    const list = padded(rowids);
    const json =
      email === undefined
        ? this.stmts.hitsAll(list.length).get(...list)
        : this.stmts.hitsOwn(list.length).get(...list, email);
    const rows = JSON.parse(json ?? '[]') as Array<[number, string, string]>;
    const byRowid = new Map(rows.map(([rowid, id, title]) => [rowid, { rowid, id, title }]));
    return rowids.flatMap((r) => byRowid.get(r) ?? []);
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

/**
 * Schema v1 → v2: schema v1 searched a contentless FTS5 table (`orders_fts`) and ranked the newest
 * 200 matches in JavaScript; v2 stores each order's term scores. The terms are computed from the
 * stored orders, so the upgrade needs nothing but the file.
 */
function upgradeV1(db: Database.Database): void {
  db.exec('DROP TABLE IF EXISTS orders_fts');
  db.exec(SEARCH_TABLES);
  const terms = new TermWriter(db);
  // In pages: better-sqlite3 cannot write while a statement is being iterated.
  const page = db.prepare<[number], OrderRow & { rowid: number }>(
    `SELECT rowid, ${ORDER_COLUMNS} FROM orders WHERE rowid > ? ORDER BY rowid LIMIT 5000`,
  );
  for (let rows = page.all(0); rows.length > 0; rows = page.all(rows.at(-1)?.rowid ?? Infinity)) {
    for (const row of rows) terms.add(rowToOrder(row), row.rowid, ownerKey(row.customer_email));
    terms.flush();
  }
}

/**
 * Brings a writable database up to {@link SCHEMA_VERSION} in one write transaction. The version
 * is read again inside it: another process opening the same file may have upgraded it meanwhile.
 */
function migrate(db: Database.Database): void {
  db.transaction(() => {
    const from = db.pragma('user_version', { simple: true }) as number;
    if (from >= SCHEMA_VERSION) return;
    if (from < 1) db.exec(ORDERS_TABLE + SEARCH_TABLES);
    else if (from === 1) upgradeV1(db);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
