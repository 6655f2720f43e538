/**
 * A throw-away Redis for tests: `redis-server` on a free loopback port, no persistence, in a temp
 * dir; stopped (and the dir removed) afterwards. Debian's `redis-server` package provides it.
 *
 * @example
 * const bin = findRedis();
 * if (bin) {
 *   const redis = await startRedis(bin);
 *   // … REDIS_URL = redis.url …
 *   await redis.stop();
 * }
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { component } from '../../scripts/provision.js';
import { freePort } from './stack.js';

export interface RedisServer {
  url: string;
  port: number;
  /** Stops the server; safe to call twice. */
  stop: () => Promise<void>;
}

/** `redis-server` (`REDIS_SERVER_BIN`, or on PATH), or undefined (scripts/provision.ts, component `redis-server`). */
export function findRedis(): string | undefined {
  return component('redis-server').find();
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('data', (d) => {
      socket.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    socket.on('error', () => resolve(false));
  });
}

export async function startRedis(bin: string): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sample-mcp-redis-'));
  const child: ChildProcess = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d) => (output += String(d)));
  child.stderr?.on('data', (d) => (output += String(d)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not start: ${output.slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}/0`, port, stop };
}
