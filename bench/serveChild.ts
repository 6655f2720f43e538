/**
 * The server as a child process for the benchmarks, on free loopback ports, with its own data
 * directory and logging warnings only; ready once `/healthz` answers. `stop()` ends it with
 * SIGTERM and removes what it created.
 *
 * - {@link startServeChild}: `npm run serve` behind a test issuer, rate limit off;
 * - {@link startStackChild}: `npm start` (the embedded authorization server and the resource
 *   server in one process), default limits.
 *
 * `BENCH_CPU_PROF=<dir>` runs the server under `node --cpu-prof` (the profile is written to <dir>
 * when it stops; read it with `npx tsx bench/compare/profile.ts <file>`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestIssuer, type TestIssuer } from '../test/helpers/issuer.js';
import { freePort } from '../test/helpers/stack.js';

export interface ServeChild {
  base: string;
  issuer: TestIssuer;
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface StackChild {
  /** The MCP server. */
  base: string;
  /** The embedded authorization server's issuer. */
  issuer: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Spawns `src/cli/<entry>` and waits for `<base>/healthz`; `cleanup` runs after it exits. */
async function spawnUntilHealthy(
  entry: string,
  env: Record<string, string>,
  base: string,
  cleanup: () => Promise<void>,
): Promise<{ child: ChildProcess; stop: () => Promise<void> }> {
  const script = join(process.cwd(), 'src', 'cli', entry);
  const profileDir = process.env.BENCH_CPU_PROF;
  const [command, args] = profileDir
    ? [process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--import', 'tsx', script]]
    : [join(process.cwd(), 'node_modules', '.bin', 'tsx'), [script]];
  const child = spawn(command, args, {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await cleanup();
  };
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { child, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`src/cli/${entry} did not answer ${base}/healthz within 30 s`);
}

export async function startServeChild(name: string): Promise<ServeChild> {
  const issuer = await startTestIssuer();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), `sample-mcp-${name}-`));
  const { child, stop } = await spawnUntilHealthy(
    'serve.ts',
    {
      KC_ISSUER: issuer.issuer,
      MCP_SERVER_URL: base,
      PORT: String(port),
      DATA_DIR: dataDir,
      MCP_RATE_LIMIT_PER_MINUTE: '0',
    },
    base,
    async () => {
      await issuer.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  );
  return { base, issuer, child, stop };
}

export async function startStackChild(name: string, env: Record<string, string> = {}): Promise<StackChild> {
  const [port, idpPort] = [await freePort(), await freePort()];
  const base = `http://localhost:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), `sample-mcp-${name}-`));
  const { child, stop } = await spawnUntilHealthy(
    'start.ts',
    { PORT: String(port), IDP_PORT: String(idpPort), DATA_DIR: dataDir, ...env },
    base,
    async () => rmSync(dataDir, { recursive: true, force: true }),
  );
  return { base, issuer: `http://localhost:${idpPort}`, child, stop };
}
