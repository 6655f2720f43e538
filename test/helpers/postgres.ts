/**
 * A throw-away PostgreSQL server for tests: `initdb` a fresh cluster in a temp dir, start it on a
 * free loopback port (unix socket in the same dir), create a database, and stop + remove it
 * afterwards. PostgreSQL refuses to run as root, so as root the server runs as the `postgres`
 * user (`runuser -u postgres --`), which must own the temp dir.
 *
 * Binaries are looked up in `PG_BIN` (if set), then /usr/lib/postgresql/<newest>/bin (Debian's
 * `postgresql` package), then PATH (scripts/provision.ts, component `postgresql`).
 *
 * @example
 * const pgBin = findPostgres();
 * if (pgBin) {
 *   const server = await startPostgres(pgBin);
 *   // … new pg.Pool({ connectionString: server.url }) …
 *   await server.stop();
 * }
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { postgresBinDir } from '../../scripts/provision.js';
import type { Condition } from './requirements.js';
import { freePort } from './stack.js';

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/DB` (trust authentication on loopback; test only). */
  url: string;
  port: number;
  database: string;
  /** PostgreSQL major version, e.g. 15. */
  version: number;
  /** Fast stop (`-m immediate`) and removal of the cluster directory; safe to call twice. */
  stop: () => Promise<void>;
}

/** The directory holding `initdb` and `pg_ctl`, or undefined if PostgreSQL is not installed. */
export const findPostgres = postgresBinDir;

const isRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL binary, as the `postgres` user when we are root. */
function run(bin: string, args: string[]): string {
  const [cmd, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
}

function postgresUid(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error('running as root needs a "postgres" user (the postgresql package creates it)');
  }
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * Creates and starts a cluster; resolves once `database` accepts connections.
 *
 * @param binDir - from {@link findPostgres}
 */
export async function startPostgres(binDir: string, database = 'orders_test'): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sample-mcp-pg-'));
  if (isRoot) {
    const { uid, gid } = postgresUid();
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const pgCtl = join(binDir, 'pg_ctl');
  let started = false;
  const stopSync = () => {
    if (started) {
      try {
        run(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      started = false;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // If the test process dies without calling stop(), do not leave a server running.
  process.once('exit', stopSync);
  try {
    run(join(binDir, 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
      '--no-sync',
    ]);
    const version = Number(readFileSync(join(data, 'PG_VERSION'), 'utf8').trim());
    let port = 0;
    let lastError: unknown;
    for (let attempt = 0; attempt < 3 && !started; attempt++) {
      port = await freePort();
      const opts = [
        `-p ${port}`,
        `-k ${dir}`,
        '-c listen_addresses=127.0.0.1',
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
        '-c max_connections=40',
      ].join(' ');
      try {
        run(pgCtl, ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30', '-o', opts, 'start']);
        started = true;
      } catch (err) {
        lastError = err;
      }
    }
    if (!started) {
      const log = existsSync(join(dir, 'server.log')) ? readFileSync(join(dir, 'server.log'), 'utf8') : '';
      throw new Error(`pg_ctl start failed: ${String(lastError)}\n${log.slice(-2000)}`);
    }
    const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${database}`);
    } finally {
      await admin.end();
    }
    return {
      url: `postgres://postgres@127.0.0.1:${port}/${database}`,
      port,
      database,
      version,
      stop: async () => {
        process.removeListener('exit', stopSync);
        stopSync();
      },
    };
  } catch (err) {
    process.removeListener('exit', stopSync);
    stopSync();
    throw err;
  }
}

/** As root the server runs as the `postgres` user (Debian's package creates it): can it? */
export function postgresUserCondition(): Condition | undefined {
  return canRunPostgres()
    ? undefined
    : {
        what: 'the postgres user',
        fix: 'apt-get install postgresql (it creates the user), or run as non-root',
      };
}

export function canRunPostgres(): boolean {
  if (!isRoot) return true;
  return spawnSync('runuser', ['-u', 'postgres', '--', 'true']).status === 0;
}
