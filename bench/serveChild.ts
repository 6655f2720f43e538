/**
 * `npm run serve` as a child process for the benchmarks: behind a test issuer, on a free loopback
 * port, with its own data directory, logging warnings only and no rate limit; ready once
 * `/healthz` answers. `stop()` ends it with SIGTERM and removes what it created.
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

export async function startServeChild(name: string): Promise<ServeChild> {
  const issuer = await startTestIssuer();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), `sample-mcp-${name}-`));
  const serve = join(process.cwd(), 'src', 'cli', 'serve.ts');
  const profileDir = process.env.BENCH_CPU_PROF;
  const [command, args] = profileDir
    ? [process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--import', 'tsx', serve]]
    : [join(process.cwd(), 'node_modules', '.bin', 'tsx'), [serve]];
  const child = spawn(command, args, {
    env: {
      ...process.env,
      KC_ISSUER: issuer.issuer,
      MCP_SERVER_URL: base,
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      MCP_RATE_LIMIT_PER_MINUTE: '0',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await issuer.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { base, issuer, child, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`npm run serve did not answer ${base}/healthz within 20 s`);
}
