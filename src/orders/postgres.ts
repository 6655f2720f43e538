/**
 * PostgreSQL-backed order store (node-postgres, asynchronous, pooled).
 *
 * It behaves like the SQLite store (same visibility rules, same hostile-input guarantees, same
 * blank-query listing, same limit clamping); only its methods return promises. See
 * docs/postgres.md for configuration, schema and measured numbers.
 *
 * Design:
 * - `orders` holds the data. `seq` (an identity column) is the insertion order, like SQLite's
 *   rowid; `id` is the public key (UNIQUE). The rendered `title` is stored so a hit needs no JSON.
 * - `search` is a `tsvector` computed at insert time from the searchable facts (id number,
 *   flavours, customer, e-mail, notes, status, delivery date) with weights A..D, indexed by GIN.
 *   Text is pre-tokenised and accent-folded in JS (`foldedWords`, text.ts) so "creme brulee" finds
 *   "Crème Brûlée" without the `unaccent` extension (which needs a superuser to install).
 * - The text search configuration `orders_english` is `english` with a Snowball stemmer that has
 *   no stop-word list: like SQLite's porter tokenizer, "parties" finds "party", and words such as
 *   "and" or "for" are still searchable.
 * - User text only reaches `to_tsquery` as quoted word tokens from {@link queryTokens} (so `&`, `|`,
 *   `!`, `<->`, `:*`, quotes and parentheses are inert); any remaining data error yields [].
 * - Ranking is bounded: `ts_rank` orders the newest {@link RANK_WINDOW} matches.
 * - Migrations are numbered steps recorded in `order_schema_migrations`, applied in one
 *   transaction under an advisory lock, so several servers starting at once are safe and
 *   `migrate()` can run any number of times.
 */

import pg from 'pg';
import { generateOrders, SAMPLE_ORDER_COUNT } from './generate.js';
import { orderTitle } from './present.js';
import { batchesAsync, type OrderColumns, orderFromColumns } from './rows.js';
import { clampLimit, RANK_WINDOW, searchFields } from './searchDocument.js';
import { foldedWords, foldText, queryTokens } from './text.js';
import type { Order, OrderHit, OrderItem, OrderStore, Viewer } from './types.js';

/** A numbered schema step; never edit a released one, add a new one. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Name of the table that records applied migrations. */
export const MIGRATIONS_TABLE = 'order_schema_migrations';

/** Text search configuration created by migration 1 and used for indexing and querying. */
export const TS_CONFIG = 'orders_english';

/** `ts_rank` weights for D, C, B, A: A = id number, B = flavours, C = customer, D = notes/status/date. */
const RANK_WEIGHTS = '{0.15, 0.3, 0.6, 1.0}';

/** Longest word token sent to `to_tsquery` (PostgreSQL ignores words over 2047 bytes anyway). */
const MAX_TOKEN_CHARS = 200;

/** Longest id `get` looks up; real ids are ~10 characters. */
const MAX_ID_CHARS = 200;

/** Rows per INSERT statement in {@link PostgresOrderStore.insertMany} (one parameter per column). */
export const DEFAULT_BATCH_SIZE = 2000;

/** Arbitrary constant for `pg_advisory_xact_lock`: serialises migrations and sample seeding. */
const LOCK_KEY = 7_205_338_117;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'orders table, full-text search configuration and GIN index',
    sql: `
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_dict WHERE dictname = 'orders_english_stem'
                 AND dictnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())) THEN
    CREATE TEXT SEARCH DICTIONARY orders_english_stem (TEMPLATE = snowball, LANGUAGE = english);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = '${TS_CONFIG}'
                 AND cfgnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())) THEN
    CREATE TEXT SEARCH CONFIGURATION ${TS_CONFIG} (COPY = pg_catalog.english);
    ALTER TEXT SEARCH CONFIGURATION ${TS_CONFIG}
      ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part
      WITH orders_english_stem;
  END IF;
END $$;

CREATE TABLE IF NOT EXISTS orders (
  seq            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id             text        NOT NULL UNIQUE,
  customer_name  text        NOT NULL,
  customer_email text        NOT NULL CHECK (customer_email = lower(customer_email)),
  items          jsonb       NOT NULL,
  total_cents    integer     NOT NULL,
  currency       text        NOT NULL,
  status         text        NOT NULL,
  ordered_at     timestamptz NOT NULL,
  delivery_date  date        NOT NULL,
  notes          text        NOT NULL DEFAULT '',
  title          text        NOT NULL,
  search         tsvector    NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_recent ON orders (ordered_at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS orders_customer_recent ON orders (customer_email, ordered_at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS orders_search ON orders USING gin (search);
`,
  },
  {
    version: 2,
    name: "a customer's orders newest first, for their searches",
    // Without it a customer's search walked the whole table backwards (the primary key) and
    // filtered on the e-mail: 42,000 rows read for Alice's "red velvet" at 100,000 orders.
    sql: 'CREATE INDEX IF NOT EXISTS orders_customer_seq ON orders (customer_email, seq DESC);',
  },
];

/** The newest schema version this build knows. */
export const SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

/** Pool settings; everything else of `pg.PoolConfig` can be passed through `pool`. */
export interface PostgresOpenOptions {
  /** `postgres://user:password@host:port/database?sslmode=…` (or use `pool.connectionString`). */
  connectionString?: string;
  /** Most connections held open (default 10). */
  max?: number;
  /** Close a connection idle this long, ms (default 30 000). */
  idleTimeoutMillis?: number;
  /** Give up waiting for a connection after this long, ms (default 5 000). */
  connectionTimeoutMillis?: number;
  /** Server-side `statement_timeout` per connection, ms (default 5 000). */
  statementTimeoutMillis?: number;
  /** Apply migrations on open (default true). With false, a store whose schema is behind fails to open. */
  migrate?: boolean;
  /** Extra `pg.Pool` options (ssl, application_name, …); override the above. */
  pool?: pg.PoolConfig;
  /** Called for errors of idle pooled connections (e.g. the server restarted); default: ignored. */
  onPoolError?: (err: Error) => void;
}

interface OrderRow extends OrderColumns {
  items: OrderItem[];
}

const SELECT_ORDER = `SELECT id, customer_name, customer_email, items, total_cents, currency, status,
  to_char(ordered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ordered_at,
  to_char(delivery_date, 'YYYY-MM-DD') AS delivery_date, notes FROM orders`;

const RECENT_ALL = 'SELECT id, title FROM orders ORDER BY ordered_at DESC, seq DESC LIMIT $1';
const RECENT_OWN =
  'SELECT id, title FROM orders WHERE customer_email = $2 ORDER BY ordered_at DESC, seq DESC LIMIT $1';

function searchSql(own: boolean): string {
  return `SELECT w.id, w.title
  FROM (SELECT o.seq, o.id, o.title, o.search FROM orders o
         WHERE o.search @@ to_tsquery('${TS_CONFIG}', $1)${own ? ' AND o.customer_email = $3' : ''}
         ORDER BY o.seq DESC LIMIT ${RANK_WINDOW}) AS w
 ORDER BY ts_rank('${RANK_WEIGHTS}'::float4[], w.search, to_tsquery('${TS_CONFIG}', $1)) DESC, w.seq DESC
 LIMIT $2`;
}
const SEARCH_ALL = searchSql(false);
const SEARCH_OWN = searchSql(true);

/** Columns are sent as one array parameter each, so a batch of any size is one statement. */
const INSERT_BATCH = `INSERT INTO orders (id, customer_name, customer_email, items, total_cents, currency,
    status, ordered_at, delivery_date, notes, title, search)
  SELECT id, customer_name, customer_email, items::jsonb, total_cents, currency, status, ordered_at::timestamptz,
         delivery_date::date, notes, title,
         setweight(to_tsvector('${TS_CONFIG}', s_ref), 'A') ||
         setweight(to_tsvector('${TS_CONFIG}', s_flavours), 'B') ||
         setweight(to_tsvector('${TS_CONFIG}', s_customer), 'C') ||
         setweight(to_tsvector('${TS_CONFIG}', s_other), 'D')
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[],
                $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                $15::text[])
      AS t(id, customer_name, customer_email, items, total_cents, currency, status, ordered_at,
           delivery_date, notes, title, s_ref, s_flavours, s_customer, s_other)`;

/**
 * Turns any user string into a safe `to_tsquery` input: distinct folded word tokens, each quoted
 * (`'tok':*` as a prefix, one-character tokens exact), joined with `|` so orders matching more
 * terms rank higher. Returns `null` when there are no word tokens (list recent orders instead)
 * and `''` when every token is unusably long (match nothing).
 */
export function toTsQuery(input: string): string | null {
  const raw = queryTokens(typeof input === 'string' ? input : '');
  if (raw.length === 0) return null;
  const tokens = [...new Set(raw.map(foldText))].filter((t) => t.length > 0 && t.length <= MAX_TOKEN_CHARS);
  return tokens
    .map((t) => `'${t.replaceAll('\\', '\\\\').replaceAll("'", "''")}'${[...t].length >= 2 ? ':*' : ''}`)
    .join(' | ');
}

function rowToOrder(row: OrderRow): Order {
  return orderFromColumns(row, row.items);
}

/** SQLSTATEs caused by input rather than by the server: data exceptions, syntax, program limits. */
function isInputError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code === '42601' || code.startsWith('54'));
}

/** Strings PostgreSQL cannot take as text parameters (NUL) or that cannot match anything. */
function unusableText(s: string, max: number): boolean {
  return s.length === 0 || s.length > max || s.includes('\u0000');
}

/**
 * The SQL a search runs (`undefined`: nothing can match, no query needed). Exported for
 * `bench/postgres.ts --explain`.
 */
export function searchStatement(
  query: string,
  viewer: Viewer,
  limit: number,
): { text: string; values: unknown[] } | undefined {
  if (viewer.kind === 'none') return undefined;
  const n = clampLimit(limit);
  const email = viewer.kind === 'customer' ? String(viewer.email).toLowerCase() : undefined;
  if (email !== undefined && unusableText(email, 1000)) return undefined;
  const tsq = toTsQuery(query);
  if (tsq === null)
    return email === undefined ? { text: RECENT_ALL, values: [n] } : { text: RECENT_OWN, values: [n, email] };
  if (tsq === '') return undefined;
  return email === undefined
    ? { text: SEARCH_ALL, values: [tsq, n] }
    : { text: SEARCH_OWN, values: [tsq, n, email] };
}

/**
 * Applies every pending migration in one transaction (under an advisory lock) and returns the
 * schema version. Running it again is a no-op. Throws if the database is newer than this build.
 */
export async function migrate(pool: pg.Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
      version    integer     PRIMARY KEY,
      name       text        NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const current = await currentVersion(client);
    const newest = Math.max(0, ...migrations.map((m) => m.version));
    if (current > newest) {
      throw new Error(`order schema version ${current} is newer than this build supports (${newest})`);
    }
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (m.version <= current) continue;
      await client.query(m.sql);
      await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (version, name) VALUES ($1, $2)`, [
        m.version,
        m.name,
      ]);
    }
    await client.query('COMMIT');
    return Math.max(current, newest);
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

async function currentVersion(client: pg.ClientBase): Promise<number> {
  const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [
    MIGRATIONS_TABLE,
  ]);
  if (exists.rows[0]?.t == null) return 0;
  const r = await client.query<{ v: number }>(
    `SELECT coalesce(max(version), 0)::int AS v FROM ${MIGRATIONS_TABLE}`,
  );
  return r.rows[0]?.v ?? 0;
}

/**
 * PostgreSQL implementation of the order store; every method returns a promise.
 *
 * @example
 * ```ts
 * const store = await PostgresOrderStore.open({ connectionString: process.env.DATABASE_URL });
 * await store.ensureSampleData();
 * await store.search('red velvet', { kind: 'customer', email: 'alice@example.com' }, 10);
 * await store.close();
 * ```
 */
export class PostgresOrderStore implements OrderStore {
  readonly pool: pg.Pool;
  private closed = false;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /**
   * Creates the pool, checks the connection and (unless `migrate: false`) migrates the schema.
   */
  static async open(opts: PostgresOpenOptions = {}): Promise<PostgresOrderStore> {
    const pool = new pg.Pool({
      connectionString: opts.connectionString,
      max: opts.max ?? 10,
      idleTimeoutMillis: opts.idleTimeoutMillis ?? 30_000,
      connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 5_000,
      statement_timeout: opts.statementTimeoutMillis ?? 5_000,
      application_name: 'sample-mcp',
      ...opts.pool,
    });
    // Without a listener an idle connection's error (server restart) would crash the process.
    pool.on('error', opts.onPoolError ?? (() => {}));
    try {
      if (opts.migrate === false) {
        const client = await pool.connect();
        try {
          const version = await currentVersion(client);
          if (version !== SCHEMA_VERSION) {
            throw new Error(
              `order schema version ${version}, this build needs ${SCHEMA_VERSION}; run migrate()`,
            );
          }
        } finally {
          client.release();
        }
      } else {
        await migrate(pool);
      }
      return new PostgresOrderStore(pool);
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
  }

  /**
   * Applies pending migrations (idempotent) and returns the schema version.
   */
  migrate(): Promise<number> {
    return migrate(this.pool);
  }

  /**
   * The applied migrations, oldest first.
   */
  async schemaVersions(): Promise<{ version: number; name: string; appliedAt: Date }[]> {
    const r = await this.pool.query<{ version: number; name: string; applied_at: Date }>(
      `SELECT version, name, applied_at FROM ${MIGRATIONS_TABLE} ORDER BY version`,
    );
    return r.rows.map((row) => ({ version: row.version, name: row.name, appliedAt: row.applied_at }));
  }

  /**
   * Inserts orders (any iterable or async iterable, streamed) with one multi-row INSERT per
   * `batchSize` orders. Returns how many were inserted. A duplicate id throws; that batch is
   * not inserted (earlier batches stay), like the SQLite store.
   */
  insertMany(
    orders: Iterable<Order> | AsyncIterable<Order>,
    batchSize = DEFAULT_BATCH_SIZE,
  ): Promise<number> {
    return this.insertWith(this.pool, orders, batchSize);
  }

  private async insertWith(
    db: pg.Pool | pg.ClientBase,
    orders: Iterable<Order> | AsyncIterable<Order>,
    batchSize: number,
  ): Promise<number> {
    let inserted = 0;
    for await (const batch of batchesAsync(orders, batchSize)) inserted += await insertBatch(db, batch);
    return inserted;
  }

  /**
   * Seeds `count` generated sample orders if (and only if) the table is empty; concurrent
   * callers (several servers starting at once) seed it exactly once.
   */
  async ensureSampleData(count: number = SAMPLE_ORDER_COUNT): Promise<{ created: boolean; count: number }> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
      const empty = await client.query<{ e: boolean }>('SELECT NOT EXISTS (SELECT 1 FROM orders) AS e');
      if (empty.rows[0]?.e !== true) {
        await client.query('COMMIT');
        return { created: false, count: await this.count() };
      }
      await this.insertWith(client, generateOrders({ count }), DEFAULT_BATCH_SIZE);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
    await this.pool.query('ANALYZE orders');
    return { created: true, count: await this.count() };
  }

  /**
   * Refreshes planner statistics (and cleans the GIN pending list); worth running after a bulk load.
   */
  async optimize(): Promise<void> {
    await this.pool.query('VACUUM ANALYZE orders');
  }

  /**
   * Full-text search over the orders `viewer` may see, best match first; blank queries list the
   * most recent orders. Never throws on user input.
   */
  async search(query: string, viewer: Viewer, limit: number): Promise<OrderHit[]> {
    const statement = searchStatement(query, viewer, limit);
    if (statement === undefined) return [];
    try {
      const r = await this.pool.query<OrderHit>(statement.text, statement.values);
      return r.rows.map((row) => ({ id: row.id, title: row.title }));
    } catch (err) {
      if (isInputError(err)) return [];
      throw err;
    }
  }

  /**
   * The order with this id if `viewer` may see it; `undefined` for unknown ids and for other
   * customers' orders alike.
   */
  async get(id: string, viewer: Viewer): Promise<Order | undefined> {
    if (viewer.kind === 'none' || typeof id !== 'string' || unusableText(id, MAX_ID_CHARS)) return undefined;
    try {
      const r =
        viewer.kind === 'all'
          ? await this.pool.query<OrderRow>(`${SELECT_ORDER} WHERE id = $1`, [id])
          : await this.pool.query<OrderRow>(`${SELECT_ORDER} WHERE id = $1 AND customer_email = $2`, [
              id,
              String(viewer.email).toLowerCase(),
            ]);
      const row = r.rows[0];
      return row === undefined ? undefined : rowToOrder(row);
    } catch (err) {
      if (isInputError(err)) return undefined;
      throw err;
    }
  }

  /**
   * Number of stored orders (all customers).
   */
  async count(): Promise<number> {
    const r = await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM orders');
    return r.rows[0]?.n ?? 0;
  }

  /**
   * True while the pool can get a connection and the server answers `SELECT 1`.
   */
  async isReady(): Promise<boolean> {
    if (this.closed) return false;
    try {
      const r = await this.pool.query<{ ok: number }>('SELECT 1 AS ok');
      return r.rows[0]?.ok === 1;
    } catch {
      return false;
    }
  }

  /**
   * Ends the pool (waits for checked-out connections); safe to call more than once.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

async function insertBatch(db: pg.Pool | pg.ClientBase, orders: readonly Order[]): Promise<number> {
  const cols: unknown[][] = Array.from({ length: 15 }, () => []);
  const push = (...values: unknown[]) => {
    values.forEach((v, i) => {
      cols[i]?.push(v);
    });
  };
  for (const o of orders) {
    const f = searchFields(o);
    push(
      o.id,
      o.customerName,
      f.customerEmail,
      JSON.stringify(o.items),
      o.totalCents,
      o.currency,
      o.status,
      o.orderedAt,
      o.deliveryDate,
      o.notes,
      orderTitle(o),
      foldedWords(f.ref),
      foldedWords(f.flavours),
      foldedWords(`${f.customerName} ${f.customerEmail}`),
      foldedWords(`${f.notes} ${f.status} ${f.deliveryDate}`),
    );
  }
  const r = await db.query(INSERT_BATCH, cols);
  return r.rowCount ?? orders.length;
}
