/**
 * The doctor against a healthy stack (every check passes) and against deliberately broken ones —
 * wrong audience, wrong issuer, a token without the audience (Keycloak without its audience
 * mapper), a token without the scope, no TLS — each time the right ✗ with its cause and fix. And
 * the evidence bundle: what is in it, and that no token is.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../src/config/config.js';
import { checkClientPaths } from '../src/doctor/checks/authorizationServer/clientPaths.js';
import { writeEvidence } from '../src/doctor/evidence.js';
import { runDoctor } from '../src/doctor/run.js';
import type { CheckResult } from '../src/doctor/types.js';
import { createLogger } from '../src/observability/logger.js';
import { startResourceServer } from '../src/resourceServer.js';
import { type EmbeddedStack, startEmbeddedStack } from './helpers/embedded.js';
import { freePort, type Stack, sampleStore, startStack } from './helpers/stack.js';

/** Runs the doctor CLI without blocking this process (the servers under test live here). */
function cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
  return new Promise((resolve) => {
    execFile(tsx, [join(process.cwd(), 'src', 'cli', 'doctor.ts'), ...args], (err, stdout, stderr) => {
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const ALICE = { user: 'alice@example.com', password: 'alice-dev-password' };
const tmp = mkdtempSync(join(tmpdir(), 'sample-mcp-doctor-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function byId(checks: CheckResult[], id: string): CheckResult {
  const c = checks.find((x) => x.id === id);
  assert.ok(c, `check ${id} ran (ran: ${checks.map((x) => x.id).join(', ')})`);
  return c;
}

function assertFails(checks: CheckResult[], id: string, cause: RegExp, fix: RegExp): void {
  const c = byId(checks, id);
  assert.equal(c.status, 'fail', `${id} should fail: ${JSON.stringify(c)}`);
  assert.match(c.cause ?? '', cause);
  assert.match(c.fix ?? '', fix);
}

describe('doctor against a healthy stack', () => {
  let s: EmbeddedStack;
  before(async () => {
    s = await startEmbeddedStack();
  });
  after(() => s.close());

  test('every check passes with credentials; the seed’s checks are all there', async () => {
    const report = await runDoctor({ url: s.mcpUrl, ...ALICE, query: 'chocolate' });
    const failed = report.checks.filter((c) => c.status === 'fail');
    assert.deepEqual(failed, []);
    for (const id of [
      'challenge',
      'challenge-scope',
      'prm-root',
      'prm-mcp',
      'prm-as',
      'as-discovery',
      'issuer-match',
      'pkce',
      'rfc9207',
      'registration',
      'cors',
      'login',
      'token-iss',
      'token-aud',
      'tools-list',
      'search',
      'fetch',
    ]) {
      assert.equal(byId(report.checks, id).status, 'pass', id);
    }
    // plain http on localhost: TLS checks do not apply
    assert.equal(byId(report.checks, 'tls').status, 'skip');
    assert.ok(report.ok);
  });

  test('ChatGPT, Claude and VS Code would each use a Client ID Metadata Document here', async () => {
    const report = await runDoctor({ url: s.mcpUrl, register: false });
    for (const id of ['path-chatgpt', 'path-claude', 'path-vscode']) {
      const c = byId(report.checks, id);
      assert.equal(c.status, 'pass', id);
      assert.match(c.detail ?? '', /^Client ID Metadata Document/, id);
    }
  });

  test('without credentials the authenticated checks are skipped, not failed', async () => {
    const report = await runDoctor({ url: s.base, register: false });
    assert.ok(report.ok);
    assert.equal(byId(report.checks, 'login').status, 'skip');
    assert.equal(byId(report.checks, 'registration').status, 'skip');
    assert.equal(byId(report.checks, 'prm-root').status, 'pass');
  });

  test('--evidence writes the bundle: documents, 401 exchange, registration, token claims, tool results, log lines, report.md — never the token', async () => {
    const dir = join(tmp, 'evidence');
    const logFile = join(tmp, 'server.log');
    const report = await runDoctor({ url: s.mcpUrl, ...ALICE, query: 'chocolate', serverLog: logFile });
    writeFileSync(
      logFile,
      `${s
        .logs()
        .map((l) => JSON.stringify(l))
        .join('\n')}\n`,
    );
    const files = writeEvidence(dir, report, logFile);
    for (const f of [
      'report.md',
      'metadata-root.json',
      'metadata-mcp.json',
      'authorization-server-metadata.json',
      '401-exchange.json',
      'registration.json',
      'token.json',
      'tools-list.json',
      'search.json',
      'fetch.json',
      'server-log.jsonl',
      'exchanges.json',
      'checks.json',
    ]) {
      assert.ok(files.includes(f), `${f} written`);
    }
    const token = report.context.token as string;
    const [, , signature] = token.split('.');
    for (const f of readdirSync(dir)) {
      const text = readFileSync(join(dir, f), 'utf8');
      assert.equal(text.includes(token), false, `${f} has no token`);
      assert.equal(text.includes(signature as string), false, `${f} has no signature`);
    }
    const claims = JSON.parse(readFileSync(join(dir, 'token.json'), 'utf8'));
    assert.equal(claims.claims.iss, s.issuer);
    assert.equal(claims.header.alg, 'RS256');
    const challenge = JSON.parse(readFileSync(join(dir, '401-exchange.json'), 'utf8'));
    assert.equal(challenge.response.status, 401);
    assert.match(challenge.response.headers['www-authenticate'], /resource_metadata=/);
    const logs = readFileSync(join(dir, 'server-log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(logs.length >= 3);
    for (const l of logs) {
      assert.equal(l.iss, s.issuer);
      assert.equal(l.path, '/mcp');
      assert.equal(l.sub, 'alice');
      assert.ok(l.aud);
    }
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    assert.match(md, /all checks passed/);
    assert.match(md, new RegExp(`iss \`${s.issuer}\``));
  });

  test('the CLI: exit 0 when healthy, --json for machines, exit 2 on usage errors', async () => {
    const ok = await cli([s.mcpUrl, '--json', '--no-register']);
    assert.equal(ok.status, 0, ok.stderr);
    const json = JSON.parse(ok.stdout);
    assert.equal(json.ok, true);
    assert.ok(json.checks.length > 10);
    const text = await cli([s.mcpUrl, '--no-register']);
    assert.match(text.stdout, /^✓ 401 challenge at /m);
    const usage = await cli([]);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /usage: sample-mcp doctor/);
  });
});

test('a Keycloak realm that advertises CIMD: ChatGPT and Claude would send documents 26.7 refuses; VS Code is fine', () => {
  const meta = {
    client_id_metadata_document_supported: true,
    token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
    registration_endpoint: 'https://auth.example.com/realms/mcp/clients-registrations/openid-connect',
  };
  const checks = checkClientPaths('https://auth.example.com/realms/mcp', meta);
  assertFails(checks, 'path-chatgpt', /Keycloak 26\.7 refuses it/, /cimd feature off/);
  assertFails(checks, 'path-claude', /Keycloak 26\.7 refuses it/, /cimd feature off/);
  assert.equal(byId(checks, 'path-vscode').status, 'pass');
  // Claude needs `none` advertised before it picks CIMD; without it, it registers.
  const claude = checkClientPaths('https://as.example.com', {
    ...meta,
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
  });
  assert.match(byId(claude, 'path-claude').detail ?? '', /^dynamic client registration/);
  assert.match(byId(claude, 'path-chatgpt').detail ?? '', /^Client ID Metadata Document/);
});

describe('doctor against broken stacks', () => {
  test('wrong audience: the server expects another audience than the tokens carry', async () => {
    const s = await startEmbeddedStack({}, () => ({
      MCP_AUDIENCE: 'https://api.example.com',
      MCP_ALT_AUDIENCE: 'https://api.example.com/mcp',
    }));
    try {
      const report = await runDoctor({
        url: s.mcpUrl,
        ...ALICE,
        audience: 'https://api.example.com',
        register: false,
      });
      assert.equal(report.ok, false);
      assertFails(report.checks, 'token-aud', /audience mismatch/, /MCP_AUDIENCE|audience mapper/);
      assertFails(report.checks, 'tools-list', /audience mismatch/, /MCP_AUDIENCE/);
      // CLI exit code 1 on any ✗
      const r = await cli([
        s.mcpUrl,
        '--user',
        ALICE.user,
        '--password',
        ALICE.password,
        '--audience',
        'https://api.example.com',
        '--no-register',
      ]);
      assert.equal(r.status, 1);
      assert.match(r.stdout, /✗ MCP initialize with the token|✗ tools\/list/);
      assert.match(r.stdout, /cause: audience mismatch/);
    } finally {
      await s.close();
    }
  });

  test('wrong issuer: KC_ISSUER with a trailing slash the authorization server does not have', async () => {
    const s = await startEmbeddedStack({}, (env) => ({ KC_ISSUER: `${env.KC_ISSUER}/` }));
    try {
      const report = await runDoctor({ url: s.mcpUrl, register: false });
      assertFails(
        report.checks,
        'issuer-match',
        /401 without prompt/,
        new RegExp(`KC_ISSUER to "${s.issuer}"`),
      );
    } finally {
      await s.close();
    }
  });

  describe('tokens from an authorization server without the right mappers', () => {
    let t: Stack;
    before(async () => {
      t = await startStack();
    });
    after(() => t.close());

    test('no audience (Keycloak without its audience mapper) → token-aud ✗ and the server refuses it', async () => {
      const token = await t.token('alice', { aud: 'account' });
      const report = await runDoctor({ url: `${t.base}/mcp`, token, register: false });
      assertFails(report.checks, 'token-aud', /audience mismatch/, /audience mapper/);
      assertFails(report.checks, 'tools-list', /audience mismatch/, /audience/);
    });

    test('no mcp:tools scope (missing scope mapping) → tools ✗ naming the scope', async () => {
      const token = await t.token('alice', { scope: 'openid email' });
      const report = await runDoctor({ url: `${t.base}/mcp`, token, register: false });
      assert.equal(byId(report.checks, 'token-aud').status, 'pass');
      assertFails(report.checks, 'tools-list', /lacks the scope mcp:tools/, /default scope/);
    });

    test('an authorization server without registration or RFC 9207 is flagged', async () => {
      const report = await runDoctor({ url: `${t.base}/mcp`, register: false });
      assertFails(report.checks, 'registration', /register/, /registration/);
      assertFails(report.checks, 'rfc9207', /ChatGPT/, /authorization_response_iss_parameter_supported/);
    });

    test('without registration or metadata documents, no client can get a client id', async () => {
      const report = await runDoctor({ url: `${t.base}/mcp`, register: false });
      for (const id of ['path-chatgpt', 'path-claude', 'path-vscode']) {
        assertFails(
          report.checks,
          id,
          /neither a Client ID Metadata Document nor dynamic registration/,
          /registration_endpoint/,
        );
      }
    });
  });

  test('no TLS on a public name → https ✗', async () => {
    const issuerStack = await startStack();
    const port = await freePort();
    const base = `http://127.0.0.2:${port}`;
    const config = loadConfig({
      KC_ISSUER: issuerStack.issuer.issuer,
      MCP_SERVER_URL: base,
      HOST: '127.0.0.2',
      PORT: String(port),
    });
    const rs = await startResourceServer(config, {
      store: sampleStore(),
      logger: createLogger('silent', new Writable({ write: (_c, _e, cb) => cb() })),
    });
    try {
      const report = await runDoctor({ url: `${base}/mcp`, register: false });
      assertFails(report.checks, 'tls', /plain http/, /TLS-terminating proxy/);
      assert.equal(byId(report.checks, 'prm-mcp').status, 'pass', 'the rest still checks');
    } finally {
      await rs.close();
      await issuerStack.close();
    }
  });
});
