/**
 * `npm run serve` as a user runs it: configuration errors are one line and exit 1; with an issuer
 * it answers the seed's step-1 readiness checks; SIGTERM stops it cleanly.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestIssuer, type TestIssuer } from './helpers/issuer.js';
import { freePort, parseChallenge } from './helpers/stack.js';

const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const SERVE = join(process.cwd(), 'src', 'cli', 'serve.ts');
const dataDir = mkdtempSync(join(tmpdir(), 'sample-mcp-serve-'));
let issuer: TestIssuer;
let child: ChildProcess | undefined;

before(async () => {
  issuer = await startTestIssuer();
});
after(async () => {
  child?.kill('SIGKILL');
  await issuer.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { KC_ISSUER: _a, MCP_SERVER_URL: _b, ...rest } = process.env;
  return { ...rest, DATA_DIR: dataDir, LOG_LEVEL: 'info', ...extra };
}

describe('npm run serve', () => {
  test('missing KC_ISSUER: one line naming the variable and the fix, exit 1', () => {
    const r = spawnSync(TSX, [SERVE], { env: baseEnv({}), encoding: 'utf8', cwd: dataDir });
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0] as string,
      /^sample-mcp: configuration error: KC_ISSUER: is not set\. Fix: set it to/,
    );
  });

  test('a port already in use: one line naming PORT and the fix, exit 1', async () => {
    const port = await freePort();
    const blocker = createServer().listen(port, '127.0.0.1');
    await once(blocker, 'listening');
    try {
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const c = spawn(TSX, [SERVE], {
          env: baseEnv({
            KC_ISSUER: issuer.issuer,
            PORT: String(port),
            DATA_DIR: join(dataDir, 'port-test'),
          }),
          cwd: dataDir,
        });
        let stderr = '';
        c.stderr?.on('data', (d) => {
          stderr += d;
        });
        c.once('exit', (code) => resolve({ code, stderr }));
      });
      assert.equal(r.code, 1);
      assert.match(
        r.stderr.trim(),
        new RegExp(
          `^sample-mcp: configuration error: PORT: 127\\.0\\.0\\.1:${port} is already in use\\. Fix: `,
        ),
      );
    } finally {
      blocker.close();
    }
  });

  test('answers the seed’s step-1 checks, then stops on SIGTERM with exit 0', async () => {
    const port = await freePort();
    const base = `http://localhost:${port}`;
    child = spawn(TSX, [SERVE], {
      env: baseEnv({ KC_ISSUER: issuer.issuer, PORT: String(port), MCP_SERVER_URL: base }),
      cwd: dataDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    for (let i = 0; i < 100 && !out.includes('"event":"listening"'); i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /"event":"listening"/);
    assert.match(out, /"event":"sample_data"/, 'creates the sample data when missing');

    // curl -sS $MCP/.well-known/oauth-protected-resource | jq
    const prm = await (await fetch(`${base}/.well-known/oauth-protected-resource`)).json();
    assert.equal(prm.resource, base);
    assert.deepEqual(prm.authorization_servers, [issuer.issuer]);
    // curl -isk $MCP/mcp → 401 + WWW-Authenticate with the PRM URL
    const res = await fetch(`${base}/mcp`);
    assert.equal(res.status, 401);
    assert.equal(
      parseChallenge(res.headers.get('www-authenticate')).resource_metadata,
      `${base}/.well-known/oauth-protected-resource/mcp`,
    );

    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(out, /"event":"stopping"/);
    child = undefined;
  });
});
