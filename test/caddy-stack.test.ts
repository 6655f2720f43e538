/**
 * The no-Docker TLS stack (deploy/caddy): Caddy with its local CA in front of Keycloak and the MCP
 * server on https://mcp.localhost and https://auth.localhost. The onboarding guide's three step-1
 * commands run exactly as written (the local CA trusted through CURL_CA_BUNDLE, the names resolving
 * to loopback), then the doctor checks the whole chain over TLS and writes the evidence bundle.
 *
 * Needs caddy, jq, curl, Java and the cached Keycloak (`npm test` provisions them) and ports 80 and
 * 443. The names need no /etc/hosts entry: curl resolves `*.localhost` to loopback by itself, and the
 * doctor runs with test/helpers/localhost-dns.mjs preloaded, which does the same for Node. Locally,
 * without them, it says so and skips; in CI (`CI=true`) that is a failure.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { requirements } from './helpers/requirements.js';
import { freePort } from './helpers/stack.js';

const STACK = join(process.cwd(), 'deploy', 'caddy', 'stack.sh');

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

async function portsBindable(): Promise<boolean> {
  for (const port of [80, 443]) if (!(await portFree(port))) return false;
  return true;
}

const why = requirements(
  'Caddy TLS stack',
  ['caddy', 'jq', 'curl', 'java', 'keycloak', 'jaeger'],
  (await portsBindable())
    ? undefined
    : { what: 'ports 80 and 443', fix: 'free them, and run as root or grant caddy CAP_NET_BIND_SERVICE' },
);
/** Makes `mcp.localhost` and `auth.localhost` resolve to loopback in the Node processes we start. */
const LOCALHOST_DNS = `--import ${pathToFileURL(join(process.cwd(), 'test', 'helpers', 'localhost-dns.mjs')).href}`;

if (why) {
  test('Caddy TLS stack', { skip: why }, () => {});
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
      // JAEGER=1: the stack's Jaeger on free loopback ports; the server exports to it.
      JAEGER: '1',
      JAEGER_OTLP_GRPC_PORT: String(await freePort()),
      JAEGER_OTLP_HTTP_PORT: String(await freePort()),
      JAEGER_QUERY_PORT: String(await freePort()),
      JAEGER_QUERY_GRPC_PORT: String(await freePort()),
      OTEL_BSP_SCHEDULE_DELAY: '200',
    };
    execFileSync('bash', [STACK, 'start'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    ca = execFileSync('bash', [STACK, 'ca'], { env, encoding: 'utf8' }).trim();
  });
  after(async () => {
    execFileSync('bash', [STACK, 'stop'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    rmSync(state, { recursive: true, force: true });
    // everything the stack started is gone
    for (const port of [Number(env.MCP_PORT), Number(env.KC_PORT), Number(env.JAEGER_QUERY_PORT), 443]) {
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
          {
            env: {
              ...env,
              NODE_EXTRA_CA_CERTS: ca,
              NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} ${LOCALHOST_DNS}`.trim(),
            },
          },
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

  describe('JAEGER=1', () => {
    test('the doctor’s tool calls are traces in the stack’s Jaeger, with the bearer check of each request', async () => {
      const api = `http://127.0.0.1:${env.JAEGER_QUERY_PORT}/api/traces?service=sample-mcp&limit=1000&lookback=1h`;
      let traces: { spans: { operationName: string; tags: { key: string; value: unknown }[] }[] }[] = [];
      const names = () => traces.flatMap((t) => t.spans.map((s) => s.operationName));
      const deadline = Date.now() + 20_000;
      while (!(names().includes('tools/call search') && names().includes('tools/call fetch'))) {
        assert.ok(Date.now() < deadline, `the doctor's calls did not reach Jaeger: ${names().join(', ')}`);
        await new Promise((r) => setTimeout(r, 250));
        traces = ((await (await fetch(api)).json()) as { data: typeof traces }).data;
      }
      const bearer = traces
        .flatMap((t) => t.spans)
        .find(
          (s) =>
            s.operationName === 'verify bearer token' &&
            s.tags.some((t) => t.key === 'sample_mcp.auth.client_id' && t.value === 'mcp-automation'),
        );
      assert.ok(bearer, 'the bearer check of the doctor’s token');
      assert.ok(
        bearer.tags.some(
          (t) => t.key === 'sample_mcp.auth.issuer' && t.value === 'https://auth.localhost/realms/mcp',
        ),
      );
    });
  });
}
