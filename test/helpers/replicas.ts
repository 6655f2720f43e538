/**
 * Several replicas of the resource server behind a round-robin proxy, all on loopback: each
 * replica is its own `node --import tsx src/cli/serve.ts` process (so one can be killed), and
 * Caddy balances between them without buffering (`flush_interval -1`), retrying a replica that
 * refuses connections on the next one. Used by the multi-replica test.
 *
 * @example
 * const cluster = await startReplicas({ count: 3, env: { KC_ISSUER, REDIS_URL, DATABASE_URL, ORDERS_STORE: 'postgres' } });
 * await fetch(`${cluster.url}/mcp`, …);   // through the proxy
 * cluster.replicas[1].kill();             // SIGKILL one
 * await cluster.stop();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './stack.js';

export interface Replica {
  index: number;
  url: string;
  /** Everything it printed (pino JSON lines). */
  output: () => string;
  /** SIGKILL: the replica dies mid-request, like a crashed container. */
  kill: () => void;
  alive: () => boolean;
}

export interface Cluster {
  /** The proxy: the public URL (`MCP_SERVER_URL`) of every replica. */
  url: string;
  replicas: Replica[];
  stop: () => Promise<void>;
}

async function waitFor(url: string, ok: (r: Response) => boolean, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      if (ok(r)) return;
      last = `${r.status} ${await r.text()}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not ready at ${url}: ${last}`);
}

export async function startReplicas(opts: { count: number; env: Record<string, string> }): Promise<Cluster> {
  const proxyPort = await freePort();
  const url = `http://127.0.0.1:${proxyPort}`;
  const dir = mkdtempSync(join(tmpdir(), 'sample-mcp-replicas-'));
  const children: ChildProcess[] = [];
  const replicas: Replica[] = [];
  let caddy: ChildProcess | undefined;

  const stop = async () => {
    const exits = [...children, ...(caddy ? [caddy] : [])]
      .filter((c) => c.exitCode === null && c.signalCode === null)
      .map((c) => {
        const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
        c.kill('SIGTERM');
        const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
        return exited.finally(() => clearTimeout(timer));
      });
    await Promise.all(exits);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const start = async (index: number): Promise<Replica> => {
      const port = await freePort();
      let out = '';
      const child = spawn(
        process.execPath,
        // cwd is the temp dir (no stray .env is read), so tsx is imported by its resolved URL.
        ['--import', import.meta.resolve('tsx'), join(process.cwd(), 'src', 'cli', 'serve.ts')],
        {
          cwd: dir,
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            ...opts.env,
            MCP_SERVER_URL: url,
            HOST: '127.0.0.1',
            PORT: String(port),
            DATA_DIR: join(dir, `replica-${index}`),
            LOG_LEVEL: 'info',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      children.push(child);
      child.stdout?.on('data', (d) => (out += String(d)));
      child.stderr?.on('data', (d) => (out += String(d)));
      const replica: Replica = {
        index,
        url: `http://127.0.0.1:${port}`,
        output: () => out,
        kill: () => child.kill('SIGKILL'),
        alive: () => child.exitCode === null && child.signalCode === null,
      };
      await waitFor(`${replica.url}/readyz`, (r) => r.status === 200, `replica ${index}`).catch((err) => {
        throw new Error(`${(err as Error).message}\n${out.slice(-2000)}`);
      });
      return replica;
    };
    // The first one creates the schema and sample data; the rest start together.
    replicas.push(await start(0));
    replicas.push(...(await Promise.all(Array.from({ length: opts.count - 1 }, (_, i) => start(i + 1)))));

    const upstreams = replicas.map((r) => r.url.replace('http://', '')).join(' ');
    writeFileSync(
      join(dir, 'Caddyfile'),
      `{
\tadmin off
\tauto_https off
}
http://127.0.0.1:${proxyPort} {
\tbind 127.0.0.1
\treverse_proxy ${upstreams} {
\t\tlb_policy round_robin
\t\tlb_try_duration 3s
\t\tlb_try_interval 50ms
\t\tfail_duration 10s
\t\tflush_interval -1
\t\ttransport http {
\t\t\tkeepalive off
\t\t}
\t}
}
`,
    );
    let caddyOut = '';
    caddy = spawn('caddy', ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], {
      env: { PATH: process.env.PATH, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    caddy.stdout?.on('data', (d) => (caddyOut += String(d)));
    caddy.stderr?.on('data', (d) => (caddyOut += String(d)));
    await waitFor(`${url}/healthz`, (r) => r.status === 200, 'caddy', 15_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n${caddyOut.slice(-2000)}`);
    });
    return { url, replicas, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
