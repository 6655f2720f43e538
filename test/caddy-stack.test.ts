/**
 * The no-Docker TLS stack (deploy/caddy): Caddy with its local CA in front of Keycloak and the MCP
 * server on https://mcp.localhost and https://auth.localhost. The onboarding guide's three step-1
 * commands run exactly as written (the local CA trusted through CURL_CA_BUNDLE, the names resolving
 * to loopback), then the doctor checks the whole chain over TLS and writes the evidence bundle.
 *
 * Needs caddy, Java (Keycloak), ports 80 and 443, and mcp.localhost/auth.localhost resolving to
 * 127.0.0.1 (.ci/run sets all of that up). Locally, without them, it says so and skips; in CI
 * (`CI=true`) that is a failure.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { keycloakUnavailable } from './helpers/keycloak.js';
import { freePort } from './helpers/stack.js';

const STACK = join(process.cwd(), 'deploy', 'caddy', 'stack.sh');

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

async function unavailable(): Promise<string | undefined> {
  if (spawnSync('caddy', ['version']).status !== 0) return 'caddy is not installed (apt-get install caddy)';
  if (spawnSync('jq', ['--version']).status !== 0) return 'jq is not installed (apt-get install jq)';
  const kc = keycloakUnavailable();
  if (kc) return kc;
  for (const name of ['mcp.localhost', 'auth.localhost']) {
    const a = await lookup(name).catch(() => undefined);
    if (a?.address !== '127.0.0.1')
      return `${name} does not resolve to 127.0.0.1 (add "127.0.0.1 mcp.localhost auth.localhost" to /etc/hosts)`;
  }
  for (const port of [80, 443]) if (!(await portFree(port))) return `port ${port} is in use or not bindable`;
  return undefined;
}

const why = await unavailable();
if (why && process.env.CI) throw new Error(`the Caddy TLS stack test cannot run in CI: ${why}`);

if (why) {
  test(`Caddy TLS stack (skipped: ${why})`, { skip: why }, () => {});
} else {
  const state = mkdtempSync(join(tmpdir(), 'sample-mcp-caddy-'));
  let env: NodeJS.ProcessEnv;
  let ca: string;

  before(async () => {
    env = {
      ...process.env,
      SAMPLE_MCP_STACK_DIR: state,
      DATA_DIR: join(state, 'data'),
      KC_PORT: String(await freePort()),
      KC_MGMT_PORT: String(await freePort()),
      MCP_PORT: String(await freePort()),
    };
    execFileSync('bash', [STACK, 'start'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    ca = execFileSync('bash', [STACK, 'ca'], { env, encoding: 'utf8' }).trim();
  });
  after(async () => {
    execFileSync('bash', [STACK, 'stop'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    rmSync(state, { recursive: true, force: true });
    // everything the stack started is gone
    for (const port of [Number(env.MCP_PORT), Number(env.KC_PORT), 443]) {
      assert.equal(await portFree(port), true, `port ${port} still in use after stop`);
    }
  });

  /** Runs a command line exactly as written in the guide, with the local CA trusted. */
  const sh = (line: string) =>
    new Promise<string>((resolve, reject) => {
      execFile(
        'bash',
        ['-o', 'pipefail', '-c', line],
        { env: { ...env, CURL_CA_BUNDLE: ca } },
        (err, stdout, stderr) => (err ? reject(new Error(`${line}: ${stderr}`)) : resolve(stdout)),
      );
    });

  describe('the onboarding guide’s step 1, verbatim', () => {
    test('curl -sS https://mcp.localhost/.well-known/oauth-protected-resource | jq', async () => {
      const out = await sh('curl -sS https://mcp.localhost/.well-known/oauth-protected-resource | jq');
      const doc = JSON.parse(out);
      assert.equal(doc.resource, 'https://mcp.localhost');
      assert.deepEqual(doc.authorization_servers, ['https://auth.localhost/realms/mcp']);
    });
    test("curl -sS https://auth.localhost/realms/mcp/.well-known/openid-configuration | jq '.issuer,.jwks_uri'", async () => {
      const out = await sh(
        "curl -sS https://auth.localhost/realms/mcp/.well-known/openid-configuration | jq '.issuer,.jwks_uri'",
      );
      assert.deepEqual(out.trim().split('\n'), [
        '"https://auth.localhost/realms/mcp"',
        '"https://auth.localhost/realms/mcp/protocol/openid-connect/certs"',
      ]);
    });
    test("curl -isk https://mcp.localhost/mcp | sed -n '1,15p'  → 401 + WWW-Authenticate with the metadata URL", async () => {
      const out = await sh("curl -isk https://mcp.localhost/mcp | sed -n '1,15p'");
      assert.match(out.split('\n')[0] ?? '', /^HTTP\/\S+ 401/);
      assert.match(
        out,
        /^www-authenticate: Bearer resource_metadata="https:\/\/mcp\.localhost\/\.well-known\/oauth-protected-resource\/mcp", scope="mcp:tools"\r?$/im,
      );
    });
  });

  describe('doctor over TLS', () => {
    test('every check passes, TLS and the http→https redirect included; the evidence has the server’s log lines', async () => {
      const evidence = join(state, 'evidence');
      const args = [
        join(process.cwd(), 'src', 'cli', 'doctor.ts'),
        'https://mcp.localhost/mcp',
        '--user',
        'carol@example.com',
        '--password',
        'carol-dev-password',
        '--client-id',
        'mcp-automation',
        '--client-secret',
        'automation-dev-secret',
        '--query',
        'chocolate',
        '--evidence',
        evidence,
        '--server-log',
        join(state, 'mcp.log'),
      ];
      const out = await new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(
          join(process.cwd(), 'node_modules', '.bin', 'tsx'),
          args,
          { env: { ...env, NODE_EXTRA_CA_CERTS: ca } },
          (err, stdout) => resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout }),
        );
      });
      assert.equal(out.code, 0, out.stdout);
      assert.match(out.stdout, /✓ TLS certificate covers mcp\.localhost/);
      assert.match(out.stdout, /✓ http:\/\/ redirects to https:\/\/ — HTTP 308/);
      assert.match(out.stdout, /✓ authorization server metadata at the URLs clients try — 3\/3 answer/);
      assert.doesNotMatch(out.stdout, /✗/);
      const lines = readFileSync(join(evidence, 'server-log.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.ok(
        lines.some(
          (l) => l.path === '/mcp' && l.iss === 'https://auth.localhost/realms/mcp' && l.tool === 'search',
        ),
      );
      assert.match(readFileSync(join(evidence, 'report.md'), 'utf8'), /all checks passed/);
    });
  });
}
