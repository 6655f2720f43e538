/**
 * Takes docs/images/jaeger-trace.png: one MCP-Inspector-like session as a single trace in
 * Jaeger's UI. It starts Jaeger v2 (the cached binary, on loopback) serving a built Jaeger UI,
 * both servers of `npm start` exporting to it, and a client that traces itself like an
 * instrumented MCP client: one root span; inside it the OAuth sign-in (registration, the login
 * and consent forms, the token request: every request carries `traceparent`), then `initialize`,
 * `tools/list`, a `search` and a `fetch` of its first result, each an MCP client span whose context
 * goes in the `traceparent` header and in `params._meta`. Then headless Chromium opens the trace.
 *
 *   JAEGER_UI_ASSETS=<jaeger-ui/packages/jaeger-ui/build> npx tsx scripts/trace-screenshot.ts [out.png]
 *
 * The Jaeger binary built from its Go module has no UI (only the API); build the UI of the same
 * release (jaegertracing/jaeger-ui v1.76.0: `npm ci`, then `npm run build` in packages/plexus and
 * packages/jaeger-ui) and point JAEGER_UI_ASSETS at its build directory.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { chromium } from 'playwright-core';
import { loadTelemetryConfig } from '../src/config/telemetry.js';
import { obtainToken } from '../src/idp/client.js';
import { startTelemetry } from '../src/observability/telemetry.js';
import { CHROMIUM } from '../test/helpers/browser.js';
import { startEmbeddedStack } from '../test/helpers/embedded.js';
import { startJaeger, traceSpans } from '../test/helpers/jaeger.js';
import { JSON_HEADERS, rpcBody } from '../test/helpers/stack.js';

const out = process.argv[2] ?? join(process.cwd(), 'docs', 'images', 'jaeger-trace.png');
const assets = process.env.JAEGER_UI_ASSETS;
if (!assets || !existsSync(join(assets, 'index.html'))) {
  console.error('trace-screenshot: set JAEGER_UI_ASSETS to a built Jaeger UI (see the header of this file)');
  process.exit(2);
}

const jaeger = await startJaeger({ JAEGER_UI_ASSETS: assets });
const servers = startTelemetry(
  loadTelemetryConfig({
    OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpHttp,
    OTEL_TRACES_SAMPLER: 'always_on',
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_METRICS_EXPORTER: 'none',
  }),
);
// The client is another service: its own provider, not the process's global one.
const clientProvider = new TracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'mcp-inspector-like-client' }),
  spanProcessors: [
    new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${jaeger.otlpHttp}/v1/traces` }) }),
  ],
});
const client = clientProvider.getTracer('trace-screenshot');

// An instrumented client's HTTP layer: every request carries the active span's context.
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const headers: Record<string, string> = { ...(init?.headers as Record<string, string> | undefined) };
  propagation.inject(context.active(), headers);
  return realFetch(input, { ...init, headers });
};

const stack = await startEmbeddedStack({}, undefined, { tracing: true });
let traceId = '';
try {
  let sid: string | undefined;
  let nextId = 1;
  /** One MCP request in its own client span; the span's context also goes into `params._meta`. */
  const mcp = (method: string, params: Record<string, unknown>, token: string, target?: string) =>
    client.startActiveSpan(
      target ? `${method} ${target}` : method,
      { kind: SpanKind.CLIENT },
      async (span) => {
        const meta: Record<string, string> = {};
        propagation.inject(context.active(), meta);
        const res = await fetch(stack.mcpUrl, {
          method: 'POST',
          headers: {
            ...JSON_HEADERS,
            authorization: `Bearer ${token}`,
            'mcp-protocol-version': '2025-11-25',
            ...(sid && { 'mcp-session-id': sid }),
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params: { ...params, _meta: meta } }),
        });
        sid ??= res.headers.get('mcp-session-id') ?? undefined;
        const body = (await rpcBody(res)) as { result?: Record<string, unknown> };
        span.end();
        return body.result ?? {};
      },
    );

  await client.startActiveSpan('MCP Inspector-like session: sign in, search, fetch', async (root) => {
    traceId = root.spanContext().traceId;
    const tokens = await client.startActiveSpan(
      'sign in (register, authorize, login, consent, token)',
      async (s) => {
        const t = await obtainToken({
          issuer: stack.issuer,
          resource: stack.mcpUrl,
          email: 'alice@example.com',
          password: 'alice-dev-password',
        });
        s.end();
        return t;
      },
    );
    const token = tokens.access_token;
    await mcp(
      'initialize',
      {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'mcp-inspector-like', version: '1' },
      },
      token,
    );
    await mcp('tools/list', {}, token);
    const found = await mcp(
      'tools/call',
      { name: 'search', arguments: { query: 'chocolate' } },
      token,
      'search',
    );
    const first = (found.structuredContent as { results: { id: string }[] }).results[0]?.id ?? 'ord-100000';
    await mcp('tools/call', { name: 'fetch', arguments: { id: first } }, token, 'fetch');
    root.end();
  });
  await Promise.all([clientProvider.forceFlush(), servers.flush()]);
  const spans = await traceSpans(jaeger, traceId, 25);
  console.log(`trace ${traceId}: ${spans.length} spans`);

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1500, height: 1200 } });
    await page.goto(`${jaeger.queryUrl}/trace/${traceId}`);
    await page.getByText('tools/call fetch').first().waitFor({ timeout: 30_000 });
    await page.waitForTimeout(1000);
    await page.screenshot({ path: out, fullPage: true });
    console.log(`wrote ${out}`);
  } finally {
    await browser.close();
  }
} finally {
  globalThis.fetch = realFetch;
  await stack.close();
  await servers.shutdown();
  await clientProvider.shutdown();
  await jaeger.close();
  trace.disable();
}
