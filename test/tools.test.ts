/**
 * `search` and `fetch` exactly as ChatGPT's connector contract needs them, and the identity in
 * the token deciding which orders a caller sees.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { type Stack, sampleStore, startStack } from './helpers/stack.js';

let s: Stack;
const clients: Client[] = [];
before(async () => {
  s = await startStack();
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await s.close();
});

async function clientFor(user: 'alice' | 'bob' | 'carol' | 'nobody', claims = {}): Promise<Client> {
  const client = new Client({ name: 'tools-test', version: '1' }, { versionNegotiation: { mode: 'legacy' } });
  const token = await s.token(user, claims);
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${s.base}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  clients.push(client);
  return client;
}

interface ToolResult {
  content: { type: string; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

async function call(c: Client, name: string, args: Record<string, unknown>): Promise<ToolResult> {
  return (await c.callTool({ name, arguments: args })) as ToolResult;
}

async function search(c: Client, query: string) {
  const r = await call(c, 'search', { query });
  assert.equal(r.isError, undefined);
  assert.equal(r.content.length, 1, 'exactly one content item');
  assert.equal(r.content[0]?.type, 'text');
  const parsed = JSON.parse(r.content[0]?.text as string) as {
    results: { id: string; title: string; url: string }[];
  };
  assert.deepEqual(Object.keys(parsed), ['results']);
  assert.deepEqual(r.structuredContent, parsed, 'structuredContent mirrors the text');
  return parsed.results;
}

describe('tool definitions', () => {
  test('search and fetch: read-only annotations, input and output schemas', async () => {
    const c = await clientFor('alice');
    const { tools } = await c.listTools();
    for (const name of ['search', 'fetch']) {
      const t = tools.find((x) => x.name === name);
      assert.ok(t, name);
      assert.equal(t.annotations?.readOnlyHint, true);
      assert.equal(t.annotations?.destructiveHint, false);
      assert.equal(t.annotations?.openWorldHint, false);
      assert.equal(t.inputSchema.type, 'object');
      assert.ok(t.outputSchema, `${name} declares an outputSchema`);
      assert.ok(t.description && t.description.length > 20);
    }
    const searchTool = tools.find((x) => x.name === 'search');
    assert.deepEqual(searchTool?.inputSchema.required, ['query']);
    assert.deepEqual(tools.find((x) => x.name === 'fetch')?.inputSchema.required, ['id']);
  });
});

describe('search and fetch results', () => {
  test('search returns {results:[{id,title,url}]} with absolute URLs under MCP_SERVER_URL', async () => {
    const results = await search(await clientFor('carol'), 'chocolate birthday');
    assert.ok(results.length > 0 && results.length <= 10);
    for (const r of results) {
      assert.deepEqual(Object.keys(r).sort(), ['id', 'title', 'url']);
      assert.equal(r.url, `${s.base}/orders/${r.id}`);
      assert.match(r.title, /Order ord-\d+/);
    }
  });

  test('fetch returns {id,title,text,url,metadata} for a search hit', async () => {
    const c = await clientFor('carol');
    const [hit] = await search(c, 'red velvet');
    assert.ok(hit);
    const r = await call(c, 'fetch', { id: hit.id });
    assert.equal(r.content.length, 1);
    const doc = JSON.parse(r.content[0]?.text as string);
    assert.deepEqual(Object.keys(doc).sort(), ['id', 'metadata', 'text', 'title', 'url']);
    assert.equal(doc.id, hit.id);
    assert.equal(doc.url, hit.url);
    assert.match(doc.text, /Red Velvet/);
    assert.match(doc.text, /Total: \d+\.\d\d USD/);
    assert.deepEqual(r.structuredContent, doc);
    const order = sampleStore().get(hit.id, { kind: 'all' });
    assert.equal(doc.metadata.customer_email, order?.customerEmail);
    assert.equal(doc.metadata.total, (order?.totalCents ?? 0) / 100);
  });

  test('hostile queries return a result list, never an error', async () => {
    const c = await clientFor('carol');
    for (const q of [
      '"',
      'AND',
      'NEAR(',
      '(((',
      '*',
      'a OR',
      "'; DROP TABLE orders; --",
      '',
      'x'.repeat(10_240),
      '🧁 crème brûlée',
    ]) {
      const results = await search(c, q);
      assert.ok(Array.isArray(results), q.slice(0, 20));
    }
    assert.ok((await search(c, 'chocolate')).length > 0, 'store still intact');
  });

  test('bad arguments and unknown ids are tool errors (isError), not crashes', async () => {
    const c = await clientFor('carol');
    const noArgs = await call(c, 'fetch', {});
    assert.equal(noArgs.isError, true);
    assert.match(noArgs.content[0]?.text ?? '', /id/);
    const wrongType = await call(c, 'search', { query: 42 });
    assert.equal(wrongType.isError, true);
    const unknown = await call(c, 'fetch', { id: 'ord-999999999' });
    assert.equal(unknown.isError, true);
    assert.match(unknown.content[0]?.text ?? '', /No order with id "ord-999999999"/);
    const tooLong = await call(c, 'search', { query: 'x'.repeat(30_000) });
    assert.equal(tooLong.isError, true);
    // the server is still fine
    assert.ok((await search(c, 'lemon')).length > 0);
  });
});

describe('identity reaches the data', () => {
  test('alice sees only her orders; bob only his', async () => {
    for (const [user, email] of [
      ['alice', 'alice@example.com'],
      ['bob', 'bob@example.com'],
    ] as const) {
      const c = await clientFor(user);
      for (const q of ['chocolate', 'vanilla', '', 'delivered', 'party']) {
        for (const r of await search(c, q)) {
          assert.equal(sampleStore().get(r.id, { kind: 'all' })?.customerEmail, email, `${user} got ${r.id}`);
        }
      }
      assert.ok((await search(c, '')).length > 0, `${user} has orders`);
    }
  });

  test("fetching someone else's order answers exactly like an unknown id", async () => {
    const bob = await clientFor('bob');
    const [bobsOrder] = await search(bob, '');
    assert.ok(bobsOrder);
    const alice = await clientFor('alice');
    const theirs = await call(alice, 'fetch', { id: bobsOrder.id });
    const unknown = await call(alice, 'fetch', { id: 'ord-000000' });
    assert.equal(theirs.isError, true);
    assert.equal(
      theirs.content[0]?.text.replace(bobsOrder.id, 'X'),
      unknown.content[0]?.text.replace('ord-000000', 'X'),
    );
  });

  test('staff (realm role) see every customer; the staff scope works too', async () => {
    const carol = await search(await clientFor('carol'), 'chocolate');
    const emails = new Set(carol.map((r) => sampleStore().get(r.id, { kind: 'all' })?.customerEmail));
    assert.ok(emails.size > 2, `staff saw ${emails.size} customers`);
    const scoped = await search(await clientFor('bob', { scope: 'mcp:tools orders:read:all' }), 'chocolate');
    assert.ok(new Set(scoped.map((r) => sampleStore().get(r.id, { kind: 'all' })?.customerEmail)).size > 2);
  });

  test('the e-mail claim is compared case-insensitively', async () => {
    const results = await search(await clientFor('alice', { email: 'Alice@Example.COM' }), '');
    assert.ok(results.length > 0);
  });

  test('a token without an e-mail claim sees nothing', async () => {
    assert.deepEqual(await search(await clientFor('nobody'), 'chocolate'), []);
  });
});

describe('the order URL serves a person', () => {
  test('with a token: an HTML page for browsers, JSON otherwise; someone else’s order is 404', async () => {
    const alice = await s.token('alice');
    const [mine] = await search(await clientFor('alice'), '');
    assert.ok(mine);
    const html = await fetch(mine.url, {
      headers: { authorization: `Bearer ${alice}`, accept: 'text/html' },
    });
    assert.equal(html.status, 200);
    assert.match(await html.text(), new RegExp(`<h1>Order ${mine.id}</h1>`));
    const json = await fetch(mine.url, { headers: { authorization: `Bearer ${alice}` } });
    assert.equal((await json.json()).id, mine.id);
    const bob = await s.token('bob');
    assert.equal((await fetch(mine.url, { headers: { authorization: `Bearer ${bob}` } })).status, 404);
  });

  test('a malformed percent-encoding is an unknown order (404), not a server error', async () => {
    const alice = await s.token('alice');
    const res = await fetch(`${s.base}/orders/%E0%A4%A`, { headers: { authorization: `Bearer ${alice}` } });
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error, 'not_found');
  });

  test('without a token: 401 with the challenge and a readable sign-in page', async () => {
    const res = await fetch(`${s.base}/orders/ord-100000`, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 401);
    assert.ok(res.headers.get('www-authenticate'));
    assert.match(await res.text(), /Sign-in required/);
  });
});
