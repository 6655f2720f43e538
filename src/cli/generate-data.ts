/**
 * Writes a SQLite database of generated cupcake orders.
 *
 * Usage: tsx src/cli/generate-data.ts [--count N] [--seed S] [--out path] [--force]
 *
 * The database is built in a temporary file next to the target and renamed into place when
 * complete, so a crash never leaves a half-written database at `--out`.
 */

import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_SEED, generateOrders, SAMPLE_ORDER_COUNT } from '../orders/generate.js';
import { SqliteOrderStore } from '../orders/sqlite.js';
import type { Order } from '../orders/types.js';

/** Default output path, relative to the working directory. */
export const DEFAULT_OUT = 'data/orders.sqlite';

/** Largest accepted `--count`. */
export const MAX_COUNT = 50_000_000;

const USAGE = `Usage: tsx src/cli/generate-data.ts [--count N] [--seed S] [--out path] [--force]

  --count N   number of orders to generate (default ${SAMPLE_ORDER_COUNT}, max ${MAX_COUNT})
  --seed S    PRNG seed, an integer 0..4294967295 (default ${DEFAULT_SEED})
  --out path  SQLite file to write (default ${DEFAULT_OUT})
  --force     replace an existing non-empty database at --out
  --help      show this help`;

/** Parsed command line of the generator. */
export interface GenerateArgs {
  count: number;
  seed: number;
  out: string;
  force: boolean;
  help: boolean;
}

/** A command-line mistake; its message is shown to the user with the usage text. */
export class UsageError extends Error {}

function parseInteger(flag: string, raw: string, min: number, max: number): number {
  const cleaned = raw.replaceAll('_', '');
  if (!/^\d+$/.test(cleaned)) throw new UsageError(`${flag} must be a whole number, got '${raw}'`);
  const n = Number(cleaned);
  if (n < min || n > max) throw new UsageError(`${flag} must be between ${min} and ${max}, got ${raw}`);
  return n;
}

/**
 * Parses generator flags; throws {@link UsageError} with a readable message on bad input.
 */
export function parseGenerateArgs(argv: readonly string[]): GenerateArgs {
  let values: { count?: string; seed?: string; out?: string; force?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        count: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const out = values.out ?? DEFAULT_OUT;
  if (out.trim() === '') throw new UsageError('--out must not be empty');
  return {
    count:
      values.count === undefined ? SAMPLE_ORDER_COUNT : parseInteger('--count', values.count, 1, MAX_COUNT),
    seed: values.seed === undefined ? DEFAULT_SEED : parseInteger('--seed', values.seed, 0, 0xffffffff),
    out,
    force: values.force === true,
    help: values.help === true,
  };
}

function removeDatabaseFiles(path: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true });
}

/** Passes orders through, reporting progress on stderr every `every` orders. */
function* withProgress(orders: Iterable<Order>, total: number, every: number): Generator<Order> {
  let n = 0;
  for (const order of orders) {
    yield order;
    n++;
    if (n % every === 0 && n < total)
      process.stderr.write(`  ${n.toLocaleString('en-US')} / ${total.toLocaleString('en-US')}\n`);
  }
}

/**
 * Generates the database described by `args`; returns the number of orders written.
 */
export function generateDatabase(args: GenerateArgs): number {
  if (existsSync(args.out) && statSync(args.out).size > 0 && !args.force) {
    throw new UsageError(`${args.out} already exists and is not empty; pass --force to replace it`);
  }
  const tmp = `${args.out}.tmp-${process.pid}`;
  removeDatabaseFiles(tmp);
  try {
    const store = SqliteOrderStore.open(tmp);
    try {
      const orders = generateOrders({ count: args.count, seed: args.seed });
      const every = args.count >= 200_000 ? 100_000 : args.count + 1;
      store.insertMany(withProgress(orders, args.count, every), 10_000);
      store.optimize();
    } finally {
      store.close();
    }
    removeDatabaseFiles(args.out); // including a stale -wal/-shm, which would corrupt the new file
    renameSync(tmp, args.out);
  } finally {
    removeDatabaseFiles(tmp);
  }
  return args.count;
}

/**
 * CLI entry point; returns the process exit code (0 ok, 1 failure, 2 usage error).
 */
export function main(argv: readonly string[]): number {
  let args: GenerateArgs;
  try {
    args = parseGenerateArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const started = performance.now();
  try {
    const count = generateDatabase(args);
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(
      `Wrote ${count.toLocaleString('en-US')} orders (seed ${args.seed}) to ${args.out} in ${seconds.toFixed(2)}s\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  process.exitCode = main(process.argv.slice(2));
}
