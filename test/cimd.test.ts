/**
 * Client ID Metadata Documents at the embedded authorization server, as ChatGPT, Claude and VS
 * Code publish them (their shapes, served by this test over https with a test CA on loopback).
 *
 * `npm start` runs as a child process the way a user runs it, with the test CA in
 * NODE_EXTRA_CA_CERTS and the test's host names resolving to 127.0.0.1 (test/helpers/localhost-dns.mjs):
 * `clients.test` and `stall.test` are the operator's trusted hosts (IDP_CIMD_TRUSTED_HOSTS), and
 * `chatgpt.com` stands for a default-list host that resolves to a loopback address.
 *
 * Each flow goes authorize → login → consent → token (ChatGPT's with a `private_key_jwt` assertion
 * signed by a key served at the document's `jwks_uri`) → `search` at the resource server. Then the
 * refusals, each with the reason the server logs.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { obtainToken } from '../src/idp/client.js';
import { requirements } from './helpers/requirements.js';
import { freePort, JSON_HEADERS, SEARCH_CALL } from './helpers/stack.js';

const skip = requirements('Client ID Metadata Documents', ['openssl']);
const HOSTS = ['clients.test', 'stall.test', 'chatgpt.com', 'outside.test'];
const ALICE = { email: 'alice@example.com', password: 'alice-dev-password' };

/** A CA and one server certificate for every test host, made with openssl. */
function makeCertificates(dir: string): { ca: string; key: string; cert: string } {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=sample-mcp test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  ]);
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=clients.test',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  ]);
  const san = `subjectAltName=${HOSTS.map((h) => `DNS:${h}`).join(',')}`;
  execFileSync('sh', ['-c', `printf '%s' '${san}' > san.ext`], { cwd: dir });
  run([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'san.ext',
    '-out',
    'server.pem',
  ]);
  return {
    ca: join(dir, 'ca.pem'),
    key: readFileSync(join(dir, 'server.key'), 'utf8'),
    cert: readFileSync(join(dir, 'server.pem'), 'utf8'),
  };
}

interface Served {
  status?: number;
  headers?: Record<string, string>;
  body: string;
}

describe('Client ID Metadata Documents (embedded authorization server)', { skip }, () => {
  let dir: string;
  let docs: HttpsServer;
  let stall: TcpServer;
  const stalled: Socket[] = [];
  let docsPort: number;
  let stallPort: number;
  let child: ChildProcess;
  let issuer: string;
  let mcp: string;
  const logs: Record<string, unknown>[] = [];
  const served = new Map<string, Served>();
  const fetched: string[] = [];
  let signingKey: CryptoKey;

  const url = (host: string, path: string) =>
    `https://${host}:${host === 'stall.test' ? stallPort : docsPort}${path}`;
  const serve = (path: string, doc: Served | Record<string, unknown>) =>
    served.set(
      path,
      'body' in doc && typeof doc.body === 'string' ? (doc as Served) : { body: JSON.stringify(doc) },
    );

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sample-mcp-cimd-'));
    const tls = makeCertificates(dir);
    docsPort = await freePort();
    stallPort = await freePort();
    docs = createHttpsServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      const path = new URL(req.url ?? '/', 'https://x').pathname;
      fetched.push(path);
      const doc = served.get(path);
      if (!doc) return void res.writeHead(404).end();
      res.writeHead(doc.status ?? 200, { 'content-type': 'application/json', ...doc.headers }).end(doc.body);
    });
    await new Promise<void>((r) => docs.listen(docsPort, '127.0.0.1', r));
    // Accepts the connection, then says nothing: not even the TLS handshake.
    stall = createTcpServer((socket) => stalled.push(socket));
    await new Promise<void>((r) => stall.listen(stallPort, '127.0.0.1', r));

    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    signingKey = privateKey;
    serve('/chatgpt/jwks.json', {
      keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }],
    });

    const [rsPort, asPort] = [await freePort(), await freePort()];
    issuer = `http://localhost:${asPort}`;
    mcp = `http://localhost:${rsPort}/mcp`;
    const preload = pathToFileURL(join(process.cwd(), 'test', 'helpers', 'localhost-dns.mjs')).href;
    child = spawn(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), join(process.cwd(), 'src', 'cli', 'start.ts')],
      {
        cwd: dir,
        env: {
          ...process.env,
          NODE_ENV: 'development',
          PORT: String(rsPort),
          IDP_PORT: String(asPort),
          DATA_DIR: join(dir, 'data'),
          IDP_CIMD_TRUSTED_HOSTS: 'clients.test,stall.test',
          NODE_EXTRA_CA_CERTS: tls.ca,
          NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${preload}`.trim(),
          SAMPLE_MCP_TEST_HOSTS: HOSTS.join(','),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    let pending = '';
    child.stdout?.on('data', (d) => {
      pending += String(d);
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('{')) logs.push(JSON.parse(l));
    });
    let up = false;
    for (let i = 0; i < 100 && !up && child.exitCode === null; i++) {
      const as = await fetch(`${issuer}/.well-known/oauth-authorization-server`).then(
        (r) => r.ok,
        () => false,
      );
      const rs = await fetch(`http://localhost:${rsPort}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      up = as && rs;
      if (!up) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(up, `npm start did not come up:\n${stderr}`);
  });

  after(async () => {
    child?.kill('SIGTERM');
    await new Promise((r) => child?.once('exit', r));
    for (const s of stalled) s.destroy();
    await new Promise((r) => stall?.close(r));
    await new Promise((r) => docs?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  /** alice's tokens for a metadata-document client, through login and consent. */
  const tokenFor = (
    clientId: string,
    redirectUri: string,
    clientAuthentication?: Parameters<typeof obtainToken>[0]['clientAuthentication'],
  ) => obtainToken({ issuer, resource: mcp, ...ALICE, clientId, redirectUri, clientAuthentication });

  async function search(token: string): Promise<unknown> {
    const res = await fetch(mcp, {
      method: 'POST',
      headers: { ...JSON_HEADERS, authorization: `Bearer ${token}` },
      body: JSON.stringify(SEARCH_CALL('chocolate')),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { result?: { content: { text: string }[] } };
    return JSON.parse(body.result?.content[0]?.text ?? '{}');
  }

  /** GET /auth for this client; the answer status and the reasons logged for its document. */
  async function authorize(clientId: string, redirectUri: string) {
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      code_challenge: createHash('sha256').update(randomBytes(32)).digest('base64url'),
      code_challenge_method: 'S256',
      state: 's',
      resource: mcp,
    });
    const res = await fetch(`${issuer}/auth?${q}`, { redirect: 'manual' });
    const body = await res.text();
    // The child writes its log line before it answers; the pipe may deliver it a moment later.
    const reasonsNow = () =>
      logs.filter((l) => l.event === 'cimd_refused' && l.clientId === clientId).map((l) => String(l.reason));
    for (let i = 0; i < 20 && res.status >= 400 && reasonsNow().length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    return { status: res.status, location: res.headers.get('location'), cookie, body, reasons: reasonsNow() };
  }

  test('discovery advertises CIMD, and none and private_key_jwt at the token endpoint', async () => {
    const meta = (await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(meta.client_id_metadata_document_supported, true);
    const methods = meta.token_endpoint_auth_methods_supported as string[];
    assert.ok(methods.includes('none'), 'Claude picks CIMD only when none is advertised');
    assert.ok(methods.includes('private_key_jwt'), "ChatGPT's document declares private_key_jwt");
    assert.ok(meta.registration_endpoint, 'DCR stays for the clients that use it');
  });

  test("ChatGPT's document: private_key_jwt against its jwks_uri, then search", async () => {
    const clientId = url('clients.test', '/chatgpt/IbUR3zxyNQ16/client.json');
    serve('/chatgpt/IbUR3zxyNQ16/client.json', {
      client_id: clientId,
      client_uri: 'https://chatgpt.com/',
      redirect_uris: ['https://chatgpt.com/connector/oauth/IbUR3zxyNQ16'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_name: 'ChatGPT',
      token_endpoint_auth_signing_alg: 'RS256',
      jwks_uri: url('clients.test', '/chatgpt/jwks.json'),
    });
    const assertion = async (audience: string, iss: string) => ({
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(iss)
        .setSubject(iss)
        .setAudience(audience)
        .setJti(randomBytes(8).toString('hex'))
        .setIssuedAt()
        .setExpirationTime('2m')
        .sign(signingKey),
    });
    const tokens = await tokenFor(clientId, 'https://chatgpt.com/connector/oauth/IbUR3zxyNQ16', assertion);
    assert.equal(tokens.token_type, 'Bearer');
    const results = (await search(tokens.access_token)) as { results: unknown[] };
    assert.ok(results.results.length > 0);
    assert.ok(fetched.includes('/chatgpt/jwks.json'), 'the assertion was checked against the jwks_uri');
    // Without the assertion the token request is refused: the declared method is enforced.
    await assert.rejects(
      tokenFor(clientId, 'https://chatgpt.com/connector/oauth/IbUR3zxyNQ16'),
      /invalid_client/,
    );
  });

  test("Claude's document: the jwt-bearer grant it lists is dropped, the rest granted", async () => {
    const clientId = url('clients.test', '/claude/client.json');
    serve('/claude/client.json', {
      client_id: clientId,
      client_name: 'Claude',
      client_uri: 'https://claude.ai',
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    const tokens = await tokenFor(clientId, 'https://claude.ai/api/mcp/auth_callback');
    assert.ok(tokens.refresh_token, 'refresh_token granted');
    assert.ok(((await search(tokens.access_token)) as { results: unknown[] }).results.length > 0);
  });

  test("VS Code's document: a loopback redirect on any port (native app, RFC 8252)", async () => {
    const clientId = url('clients.test', '/vscode/client-metadata.json');
    serve('/vscode/client-metadata.json', {
      client_id: clientId,
      client_name: 'Visual Studio Code',
      redirect_uris: ['http://127.0.0.1:33418/', 'https://vscode.dev/redirect'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    });
    const tokens = await tokenFor(clientId, 'http://127.0.0.1:54321/');
    assert.ok(((await search(tokens.access_token)) as { results: unknown[] }).results.length > 0);
  });

  test('a document that declares no token_endpoint_auth_method is a public client (PKCE)', async () => {
    const clientId = url('clients.test', '/nomethod/client.json');
    serve('/nomethod/client.json', {
      client_id: clientId,
      client_name: 'No method',
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
    });
    const tokens = await tokenFor(clientId, 'https://claude.ai/api/mcp/auth_callback');
    assert.ok(tokens.access_token);
  });

  test('the consent page names the host that published the document', async () => {
    const clientId = url('clients.test', '/claude/client.json');
    const r = await authorize(clientId, 'https://claude.ai/api/mcp/auth_callback');
    assert.equal(r.status, 303);
    const login = await fetch(new URL(r.location ?? '', issuer), { headers: { cookie: r.cookie } });
    assert.match(await login.text(), /Claude \(client metadata from clients\.test\)/);
  });

  describe('refusals', () => {
    const good = (path: string, extra: Record<string, unknown> = {}) => ({
      client_id: url('clients.test', path),
      client_name: 'Refused',
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
      ...extra,
    });
    const CALLBACK = 'https://claude.ai/api/mcp/auth_callback';

    test('an http client_id is not a metadata document', async () => {
      const r = await authorize(`http://clients.test:${docsPort}/claude/client.json`, CALLBACK);
      assert.equal(r.status, 400);
      assert.match(r.body, /invalid_client/);
    });

    test('a document whose client_id is not its URL', async () => {
      serve('/mismatch/client.json', good('/other/client.json'));
      const r = await authorize(url('clients.test', '/mismatch/client.json'), CALLBACK);
      assert.equal(r.status, 400);
      assert.deepEqual(r.reasons, ['its client_id is not this URL']);
    });

    test('a redirect_uri the document does not list', async () => {
      serve('/redirects/client.json', good('/redirects/client.json'));
      const r = await authorize(
        url('clients.test', '/redirects/client.json'),
        'https://chatgpt.com/connector_platform_oauth_redirect',
      );
      assert.equal(r.status, 400);
      assert.match(r.body, /redirect_uri/);
    });

    test('a 6 KB document', async () => {
      serve(
        '/big/client.json',
        good('/big/client.json', { client_uri: `https://clients.test/${'x'.repeat(6000)}` }),
      );
      const r = await authorize(url('clients.test', '/big/client.json'), CALLBACK);
      assert.equal(r.status, 400);
      assert.deepEqual(r.reasons, ['larger than 5120 bytes']);
    });

    test('a redirect instead of the document', async () => {
      serve('/moved/client.json', {
        status: 302,
        headers: { location: url('clients.test', '/claude/client.json') },
        body: '',
      });
      const r = await authorize(url('clients.test', '/moved/client.json'), CALLBACK);
      assert.equal(r.status, 400);
      assert.deepEqual(r.reasons, ['redirect (HTTP 302) not followed']);
    });

    test('a host outside the allow-list is never fetched', async () => {
      const before = fetched.length;
      const r = await authorize(url('outside.test', '/claude/client.json'), CALLBACK);
      assert.equal(r.status, 400);
      assert.deepEqual(r.reasons, ['host outside.test is not allowed']);
      assert.equal(fetched.length, before);
    });

    test('a default-list host that resolves to 127.0.0.1', async () => {
      const clientId = url('chatgpt.com', '/oauth/x/client.json');
      serve('/oauth/x/client.json', {
        client_id: clientId,
        client_name: 'ChatGPT',
        redirect_uris: [CALLBACK],
      });
      const before = fetched.length;
      const r = await authorize(clientId, CALLBACK);
      assert.equal(r.status, 400);
      assert.equal(r.reasons.length, 1);
      assert.match(r.reasons[0] ?? '', /^fetch failed: .*special-use IP address/);
      assert.equal(fetched.length, before, 'the request never reached the server');
    });

    test('a host that accepts the connection and never answers: refused in seconds, then not asked again', async () => {
      const clientId = url('stall.test', '/client.json');
      const started = Date.now();
      const r = await authorize(clientId, CALLBACK);
      const took = Date.now() - started;
      assert.equal(r.status, 400);
      assert.ok(took < 6000, `took ${took} ms`);
      assert.match(r.reasons[0] ?? '', /^fetch failed/);
      const connections = stalled.length;
      const again = await authorize(clientId, CALLBACK);
      assert.equal(again.status, 400);
      assert.equal(stalled.length, connections, 'a failed document is not fetched again within a minute');
    });
  });
});
