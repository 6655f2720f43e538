/**
 * PostgreSQL search latency: loads generated orders into a throw-away PostgreSQL cluster (the
 * tests' helper: initdb into a temp dir, loopback port, removed afterwards), then measures
 * `search` p50/p95 per query and viewer, against a 5 ms overall p95 target.
 *
 *   npm run bench:postgres                          # 100,000 orders, 30 runs per query and viewer
 *   npx tsx bench/postgres.ts --count 20000 --runs 10 --explain
 *
 * `--explain` prints the plan of each query for Alice (EXPLAIN ANALYZE, buffers). Exits 1 when
 * the overall p95 is above the target (or on bad arguments); exits 2 without PostgreSQL.
 */
import { parseArgs } from 'node:util';
import { generateOrders } from '../src/orders/generate.js';
import { PostgresOrderStore, searchStatement } from '../src/orders/postgres.js';
import type { Viewer } from '../src/orders/types.js';
import { ALL, alice, BENCH_QUERIES, bob } from '../test/helpers/orderCases.js';
import { findPostgres, startPostgres } from '../test/helpers/postgres.js';
import { percentile } from './stats.js';

const TARGET_P95_MS = 5;
const WARMUP_RUNS = 3;

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '30' },
    explain: { type: 'boolean', default: false },
  },
  strict: true,
});
const count = Number(values.count?.replaceAll('_', ''));
const runs = Number(values.runs);
if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(runs) || runs < 1) {
  process.stderr.write('Usage: npx tsx bench/postgres.ts [--count 100000] [--runs 30] [--explain]\n');
  process.exit(2);
}
const bin = findPostgres();
if (!bin) {
  process.stderr.write('PostgreSQL is not installed (apt-get install postgresql)\n');
  process.exit(2);
}

const server = await startPostgres(bin, 'orders_bench');
const store = await PostgresOrderStore.open({ connectionString: server.url, max: 2 });
try {
  let t0 = performance.now();
  await store.insertMany(generateOrders({ count }));
  const loadS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  await store.optimize();
  const analyzeS = (performance.now() - t0) / 1000;
  const size = await store.pool.query<{ total: string; gin: string }>(
    "SELECT pg_size_pretty(pg_total_relation_size('orders')) AS total, pg_size_pretty(pg_relation_size('orders_search')) AS gin",
  );
  process.stdout.write(
    `postgres bench: ${count.toLocaleString('en-US')} orders loaded in ${loadS.toFixed(1)} s, ` +
      `VACUUM ANALYZE ${analyzeS.toFixed(1)} s, table+indexes ${size.rows[0]?.total}, GIN ${size.rows[0]?.gin}; ` +
      `limit 10, ${runs} runs after ${WARMUP_RUNS} warm-up per query and viewer\n\n`,
  );
  const viewers: Array<[string, Viewer]> = [
    ['all', ALL],
    ['alice', alice],
    ['bob', bob],
  ];
  const all: number[] = [];
  let worst = { p95: 0, label: '' };
  process.stdout.write(
    `${'viewer'.padEnd(7)}${'query'.padEnd(25)}${'p50 ms'.padStart(8)}${'p95 ms'.padStart(8)}\n`,
  );
  for (const [name, viewer] of viewers) {
    for (const q of BENCH_QUERIES) {
      for (let i = 0; i < WARMUP_RUNS; i++) await store.search(q, viewer, 10);
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const start = performance.now();
        await store.search(q, viewer, 10);
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      all.push(...times);
      const p95 = percentile(times, 95);
      if (p95 > worst.p95) worst = { p95, label: `${JSON.stringify(q)} ${name}` };
      process.stdout.write(
        `${name.padEnd(7)}${JSON.stringify(q).padEnd(25)}${percentile(times, 50).toFixed(2).padStart(8)}${p95.toFixed(2).padStart(8)}\n`,
      );
    }
  }
  if (values.explain) {
    for (const q of BENCH_QUERIES.filter((q) => q !== '')) {
      const statement = searchStatement(q, alice, 10);
      if (!statement) continue;
      const plan = await store.pool.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`,
        statement.values,
      );
      const lines = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
      process.stdout.write(`\nEXPLAIN ${JSON.stringify(q)} alice:\n${lines}\n`);
    }
  }
  all.sort((a, b) => a - b);
  const overall = percentile(all, 95);
  process.stdout.write(
    `\noverall: p50 ${percentile(all, 50).toFixed(2)} ms, p95 ${overall.toFixed(2)} ms, max ${(all.at(-1) ?? 0).toFixed(2)} ms; worst p95 ${worst.p95.toFixed(2)} ms (${worst.label})\n` +
      `postgres search: ${overall <= TARGET_P95_MS ? 'PASS' : 'FAIL'} (overall p95 ${overall.toFixed(2)} ms, target ≤ ${TARGET_P95_MS} ms)\n`,
  );
  process.exitCode = overall <= TARGET_P95_MS ? 0 : 1;
} finally {
  await store.close();
  await server.stop();
}
