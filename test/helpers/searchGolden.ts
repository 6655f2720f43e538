/**
 * Golden search results: the top 10 ids of every benchmark query (and a few more shapes), for
 * staff and for a customer, on the generated sample data, for one store. The search may get faster;
 * it may not silently return something else. test/search-golden.test.ts compares with
 * test/fixtures/search-golden.json; after a deliberate ranking change, regenerate the file and say
 * why for each query that moved:
 *
 *   node --import tsx test/helpers/searchGolden.ts --write      # needs PostgreSQL for its part
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PostgresOrderStore } from '../../src/orders/postgres.js';
import { SqliteOrderStore } from '../../src/orders/sqlite.js';
import { asyncStore, type OrderStore } from '../../src/orders/types.js';
import { ALL, alice, BENCH_QUERIES, bob } from './orderCases.js';
import { findPostgres, startPostgres } from './postgres.js';

export const GOLDEN_FILE = join(process.cwd(), 'test', 'fixtures', 'search-golden.json');

/** The queries: the benchmark's, plus prefixes, fallbacks, accents and ids. */
export const GOLDEN_QUERIES = [
  ...BENCH_QUERIES,
  'choc',
  'salted car',
  'pistachio xyzzy',
  'søren',
  'creme brulee',
  '100042 chocolate',
];
const VIEWERS = { staff: ALL, alice, bob } as const;

export type Golden = Record<string, Record<string, string[]>>;

/** `{ "<viewer>": { "<query>": [ids…] } }` for one store. */
export async function goldenResults(store: OrderStore): Promise<Golden> {
  const out: Golden = {};
  for (const [name, viewer] of Object.entries(VIEWERS)) {
    out[name] = {};
    for (const q of GOLDEN_QUERIES) {
      (out[name] as Record<string, string[]>)[q] = (await store.search(q, viewer, 10)).map((h) => h.id);
    }
  }
  return out;
}

export async function sqliteGolden(): Promise<Golden> {
  const sqlite = SqliteOrderStore.open(':memory:');
  sqlite.ensureSampleData();
  try {
    return await goldenResults(asyncStore(sqlite));
  } finally {
    sqlite.close();
  }
}

export async function postgresGolden(binDir: string): Promise<Golden> {
  const server = await startPostgres(binDir, 'orders_golden');
  const store = await PostgresOrderStore.open({ connectionString: server.url, max: 2 });
  try {
    await store.ensureSampleData();
    return await goldenResults(store);
  } finally {
    await store.close();
    await server.stop();
  }
}

if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(process.argv[1]).href &&
  process.argv.includes('--write')
) {
  const pg = findPostgres();
  if (!pg) throw new Error('PostgreSQL is needed to record its golden results (apt-get install postgresql)');
  const golden = { sqlite: await sqliteGolden(), postgres: await postgresGolden(pg) };
  writeFileSync(GOLDEN_FILE, `${JSON.stringify(golden, null, 2)}\n`);
  // In the project's format, so that `npm run lint` passes.
  spawnSync(join(process.cwd(), 'node_modules', '.bin', 'biome'), ['format', '--write', GOLDEN_FILE], {
    stdio: 'ignore',
  });
  console.log(`wrote ${GOLDEN_FILE}`);
}
