/**
 * The embedded authorization server under hostile traffic on loopback (issue 15): a login flood
 * does not stall the MCP server and is cut off by the per-address limit; failed logins slow down
 * the address that sends them, never the user; registrations and authorization requests have
 * per-address budgets. Each attack is bounded in count and time.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { obtainToken, registerClient } from '../src/idp/client.js';
import { type EmbeddedStack, startEmbeddedStack } from './helpers/embedded.js';
import {
  CHATGPT_REDIRECT,
  loopbackRequest,
  openLoginForm,
  type RawResponse,
  submitLogin,
} from './helpers/loginForm.js';

const BOB = { email: 'bob@example.com', password: 'bob-dev-password' };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Milliseconds of one `GET /healthz` at the MCP server. */
async function healthzMs(base: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${base}/healthz`);
  await res.arrayBuffer();
  assert.equal(res.status, 200);
  return performance.now() - started;
}

/** Runs `count` tasks, `concurrency` at a time. */
async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

describe('login flood', () => {
  let s: EmbeddedStack;
  before(async () => {
    s = await startEmbeddedStack({ IDP_LOGINS_PER_IP_PER_MINUTE: '50' });
  });
  after(() => s.close());

  test('200 logins, 16 at a time, from one client: the MCP server stays responsive, and past the limit the answer is 429', async (t) => {
    const form = await openLoginForm(s.issuer, s.mcpUrl);
    const quiet: number[] = [];
    for (let i = 0; i < 20; i++) quiet.push(await healthzMs(s.base));

    let flooding = true;
    const during: number[] = [];
    const probe = (async () => {
      while (flooding) during.push(await healthzMs(s.base));
    })();
    const answers: (RawResponse & { ms: number })[] = await pool(200, 16, async (i) => {
      const started = performance.now();
      // unknown e-mails: each costs a password hash all the same
      const answer = await submitLogin(s.issuer, form, {
        email: `nobody-${i}-${randomBytes(4).toString('hex')}@example.com`,
        password: 'x',
      });
      return { ...answer, ms: performance.now() - started };
    });
    flooding = false;
    await probe;

    // The event loop is not blocked by password hashing: /healthz answers about as fast as when
    // quiet (a wide margin; a hash on the event loop costs tens of ms per login).
    assert.ok(during.length >= 5, `healthz was probed during the flood (${during.length} times)`);
    const bound = Math.max(50, 10 * median(quiet));
    assert.ok(
      median(during) < bound,
      `healthz p50 during the flood ${median(during).toFixed(1)} ms (quiet ${median(quiet).toFixed(1)} ms, bound ${bound.toFixed(0)} ms)`,
    );
    t.diagnostic(
      `healthz p50 quiet ${median(quiet).toFixed(1)} ms, during the flood ${median(during).toFixed(1)} ms (${during.length} probes)`,
    );
    const statuses = answers.map((a) => a.status);
    assert.equal(statuses.filter((c) => c === 401).length, 50, 'the first 50 were checked');
    const limited = answers.filter((a) => a.status === 429);
    assert.equal(limited.length, 150, 'the rest were refused by the per-address limit');
    assert.ok(Number(limited[0]?.headers['retry-after']) >= 1);
    assert.match(limited[0]?.body ?? '', /Too many sign-in attempts from your network/);
    // Refusals are paced (a second each), so 16 flooding connections get 16 refusals a second
    // rather than as many as the server can write.
    const fastest = Math.min(...limited.map((a) => a.ms));
    assert.ok(fastest >= 900, `the fastest 429 came after ${fastest.toFixed(0)} ms`);
  });
});

describe('failed logins slow down the sender, not the user', () => {
  let s: EmbeddedStack;
  before(async () => {
    s = await startEmbeddedStack();
  });
  after(() => s.close());

  test('an attacker at 127.0.0.2 failing 20 times for bob: bob at 127.0.0.3 still signs in; the attacker waits', async () => {
    const form = await openLoginForm(s.issuer, s.mcpUrl);
    const attacker = { localAddress: '127.0.0.2' };
    const attempts: number[] = [];
    for (let i = 0; i < 20; i++) {
      attempts.push(
        (await submitLogin(s.issuer, form, { email: BOB.email, password: `guess-${i}` }, attacker)).status,
      );
    }
    assert.deepEqual(attempts.slice(0, 5), [401, 401, 401, 401, 401]);
    assert.ok(
      attempts.slice(5).every((c) => c === 429),
      `after five failures the attacker waits: ${attempts}`,
    );
    // Even with bob's real password the attacker's address must wait its turn.
    const fromAttacker = await submitLogin(s.issuer, form, BOB, attacker);
    assert.equal(fromAttacker.status, 429);
    assert.match(fromAttacker.body, /Too many failed attempts/);

    const bobsForm = await openLoginForm(s.issuer, s.mcpUrl);
    const fromBob = await submitLogin(s.issuer, bobsForm, BOB, { localAddress: '127.0.0.3' });
    assert.equal(fromBob.status, 303, `bob signs in: ${fromBob.status} ${fromBob.body.slice(0, 200)}`);
    assert.match(String(fromBob.headers.location), /\/auth\//);
  });
});

describe('hashing queue, registration and authorization budgets', () => {
  let s: EmbeddedStack;
  before(async () => {
    s = await startEmbeddedStack({
      IDP_PASSWORD_HASH_CONCURRENCY: '1',
      IDP_PASSWORD_HASH_QUEUE: '1',
      IDP_REGISTRATIONS_PER_IP_PER_MINUTE: '4',
      IDP_AUTHORIZATIONS_PER_IP_PER_MINUTE: '4',
    });
  });
  after(() => s.close());

  test('logins beyond the hashing queue are refused at once with 503 and Retry-After, not queued without end', async () => {
    const form = await openLoginForm(s.issuer, s.mcpUrl);
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        submitLogin(
          s.issuer,
          form,
          { email: BOB.email, password: `w${i}` },
          { localAddress: `127.0.1.${i + 1}` },
        ),
      ),
    );
    const busy = answers.filter((a) => a.status === 503);
    assert.ok(busy.length >= 1, `some were refused: ${answers.map((a) => a.status)}`);
    assert.ok(
      answers.some((a) => a.status === 401),
      'some were checked',
    );
    assert.equal(busy[0]?.headers['retry-after'], '2');
    assert.match(busy[0]?.body ?? '', /Sign-in is busy right now/);
  });

  test('registrations: the 5th from one address within a minute is 429 temporarily_unavailable; another address is still served', async () => {
    // openLoginForm above registered once from 127.0.0.1
    const register = (localAddress: string) =>
      loopbackRequest(s.issuer, {
        method: 'POST',
        path: '/reg',
        localAddress,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          token_endpoint_auth_method: 'none',
          redirect_uris: ['https://chatgpt.com/connector_platform_oauth_redirect'],
        }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await register('127.0.0.1')).status);
    const refused = await register('127.0.0.1');
    assert.deepEqual(statuses, [201, 201, 201]);
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    assert.equal((JSON.parse(refused.body) as { error: string }).error, 'temporarily_unavailable');
    assert.equal((await register('127.0.0.4')).status, 201);
  });

  test('authorization requests: past the per-address budget, a 429 page with Retry-After', async () => {
    // openLoginForm above sent one authorization request from 127.0.0.1
    const authorize = () =>
      loopbackRequest(s.issuer, { method: 'GET', path: '/auth?client_id=unknown&response_type=code' });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await authorize()).status);
    assert.equal(statuses.filter((c) => c === 429).length, 1, `${statuses}`);
    const refused = await authorize();
    assert.equal(refused.status, 429);
    assert.match(String(refused.headers['content-type']), /text\/html/);
    assert.match(refused.body, /Too many sign-in requests from your network/);
  });
});

describe('registration metadata limits, unused clients, the periodic sweep', () => {
  let s: EmbeddedStack;
  before(async () => {
    s = await startEmbeddedStack({ IDP_UNUSED_CLIENT_TTL_SECONDS: '1', IDP_SWEEP_INTERVAL_SECONDS: '1' });
  });
  after(() => s.close());

  const register = async (metadata: Record<string, unknown>) => {
    const res = await fetch(`${s.issuer}/reg`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        token_endpoint_auth_method: 'none',
        redirect_uris: [CHATGPT_REDIRECT],
        ...metadata,
      }),
    });
    return { status: res.status, body: (await res.json()) as { error?: string; error_description?: string } };
  };

  test('a client_name over 200 characters, too many redirect URIs, or a body over 16 KiB → 400 invalid_client_metadata naming the limit', async () => {
    assert.equal((await register({ client_name: 'n'.repeat(200) })).status, 201);
    const long = await register({ client_name: 'n'.repeat(5000) });
    assert.equal(long.status, 400);
    assert.equal(long.body.error, 'invalid_client_metadata');
    assert.match(String(long.body.error_description), /client_name is 5000 characters; at most 200/);
    const many = await register({
      redirect_uris: Array.from({ length: 21 }, (_, i) => `http://127.0.0.1:${9000 + i}/callback`),
    });
    assert.equal(many.status, 400);
    assert.match(String(many.body.error_description), /redirect_uris has 21 entries; at most 20/);
    const stored = await register({
      contacts: Array.from({ length: 10 }, (_, i) => `${i}${'c'.repeat(900)}@example.com`),
    });
    assert.equal(stored.status, 400);
    assert.match(String(stored.body.error_description), /the client metadata is \d+ bytes; at most 8192/);
    const big = await register({ software_statement_padding: 'x'.repeat(20_000) });
    assert.equal(big.status, 400);
    assert.equal(big.body.error, 'invalid_client_metadata');
    assert.match(String(big.body.error_description), /at most 16384/);
  });

  test('an unused client expires and its row is swept while the server runs; a used client lives on', async () => {
    const db = new Database(join(s.dataDir, 'idp', 'idp.sqlite'), { readonly: true });
    try {
      const stored = (id: string) =>
        db.prepare("SELECT count(*) AS n FROM oidc_models WHERE model = 'Client' AND id = ?").get(id) as {
          n: number;
        };
      const registration = `${s.issuer}/reg`;
      const unused = await registerClient(registration, CHATGPT_REDIRECT);
      const used = await registerClient(registration, CHATGPT_REDIRECT);
      const tokens = await obtainToken({
        issuer: s.issuer,
        resource: s.mcpUrl,
        email: BOB.email,
        password: BOB.password,
        clientId: used,
        redirectUri: CHATGPT_REDIRECT,
      });
      assert.equal(stored(unused).n, 1);
      const deadline = Date.now() + 10_000;
      while (stored(unused).n > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      assert.equal(stored(unused).n, 0, 'the unused client was swept without a restart');
      assert.equal(stored(used).n, 1, 'the used client is kept');
      const refreshed = await fetch(`${s.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token ?? '',
          client_id: used,
          resource: s.mcpUrl,
        }),
      });
      assert.equal(refreshed.status, 200, 'its refresh token still works');
      const authorize = await fetch(
        `${s.issuer}/auth?${new URLSearchParams({ client_id: unused, response_type: 'code', redirect_uri: CHATGPT_REDIRECT })}`,
        { redirect: 'manual' },
      );
      assert.match(await authorize.text(), /invalid_client/);
    } finally {
      db.close();
    }
  });
});
