/**
 * The page a person gets when opening the server's URL in a browser: the URL to paste, live
 * readiness, how to connect clients — in a real browser, with a screenshot (landing.png in
 * test/helpers/results.ts's folder).
 * MCP clients at the same URL still get the MCP endpoint.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, type TestBrowser } from './helpers/browser.js';
import { type EmbeddedStack, startEmbeddedStack } from './helpers/embedded.js';
import { requirements } from './helpers/requirements.js';
import { resultsDir } from './helpers/results.js';
import { INIT_BODY, JSON_HEADERS, startStack } from './helpers/stack.js';

const skip = requirements('landing page in Chromium', ['chromium', 'openssl']);

describe('landing page', { skip }, () => {
  let s: EmbeddedStack;
  let b: TestBrowser;
  before(async () => {
    s = await startEmbeddedStack();
    b = await launchBrowser();
  });
  after(async () => {
    await b?.close();
    await s?.close();
  });

  test('a browser opening the server URL sees the URL to paste, green readiness checks and how to connect', async () => {
    const ctx = await b.browser.newContext({ viewport: { width: 1000, height: 1300 } });
    try {
      const page = await ctx.newPage();
      const res = await page.goto(`${s.base}/`);
      assert.equal(res?.status(), 200);
      assert.equal(await page.locator('#connector-url').textContent(), s.mcpUrl);
      assert.match((await page.locator('h2#ready').textContent()) ?? '', /ready/);
      const checks = await page.locator('ul.checks li').allTextContents();
      assert.ok(checks.some((c) => /signing keys/.test(c)));
      assert.ok(checks.some((c) => /authorization_servers\[0\] equals the issuer/.test(c)));
      // The three lines the doctor prints: how ChatGPT, Claude and VS Code get a client id here.
      for (const client of ['ChatGPT', 'Claude', 'VS Code']) {
        assert.ok(
          checks.some(
            (c) => c.includes(`${client} gets a client id`) && c.includes('Client ID Metadata Document'),
          ),
          client,
        );
      }
      assert.equal(await page.locator('ul.checks li.fail').count(), 0);
      for (const client of ['ChatGPT', 'Claude', 'VS Code', 'MCP Inspector']) {
        assert.ok(((await page.locator('#clients + ol').textContent()) ?? '').includes(client));
      }
      await page.screenshot({ path: join(resultsDir(), 'landing.png'), fullPage: true });
    } finally {
      await ctx.close();
    }
  });

  test('shows what is wrong when the authorization server is misconfigured', async () => {
    const broken = await startEmbeddedStack({}, (env) => ({ KC_ISSUER: `${env.KC_ISSUER}/` }));
    try {
      const res = await fetch(`${broken.base}/`, { headers: { accept: 'text/html' } });
      const html = await res.text();
      assert.match(html, /needs attention/);
      assert.match(html, /class="fail"[\s\S]*authorization_servers\[0\] equals the issuer/);
      assert.match(html, /Fix:<\/b> set KC_ISSUER to/);
    } finally {
      await broken.close();
    }
  });

  test('MCP clients at the same URL still get the endpoint (401 challenge), and GET / for an event stream too', async () => {
    const post = await fetch(`${s.base}/`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify(INIT_BODY()),
    });
    assert.equal(post.status, 401);
    const get = await fetch(`${s.base}/`, { headers: { accept: 'text/event-stream' } });
    assert.equal(get.status, 401);
    assert.ok(get.headers.get('www-authenticate'));
  });
});

test('concurrent page views share one check of the authorization server', async () => {
  const stack = await startStack();
  try {
    const asked = () =>
      [...stack.issuer.hits]
        .filter(([path]) => path.includes('/.well-known/'))
        .reduce((n, [, c]) => n + c, 0);
    // The server's own key discovery is done once it is ready: count only what the page views cause.
    assert.equal((await fetch(`${stack.base}/readyz`)).status, 200);
    const before = asked();
    const pages = await Promise.all(
      Array.from({ length: 50 }, () => fetch(`${stack.base}/`, { headers: { accept: 'text/html' } })),
    );
    for (const p of pages) assert.equal(p.status, 200);
    await Promise.all(pages.map((p) => p.arrayBuffer()));
    const perView = asked() - before;
    assert.ok(perView > 0, 'the page checked the authorization server');
    assert.ok(perView <= 3, `50 concurrent views made ${perView} requests to the authorization server`);
  } finally {
    await stack.close();
  }
});
