/**
 * OpenTelemetry end to end, in a real Jaeger v2 (scripts/provision.ts builds it): the embedded
 * authorization server and the resource server export OTLP/HTTP to a Jaeger on loopback, and the
 * traces are read back from Jaeger's query API (`GET /api/traces/<id>`) as an operator would see
 * them: the client's trace id, the MCP `tools/call search` span with the MCP conventions'
 * attributes, the tool and store spans under it, the HTTP and bearer-check spans of the request;
 * log lines that carry the trace; and no token, password or session MAC anywhere in what was
 * exported.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { sessionHash } from '../src/cluster/sessionIds.js';
import { loadTelemetryConfig } from '../src/config/telemetry.js';
import { obtainToken } from '../src/idp/client.js';
import { DEV_ACCOUNTS } from '../src/idp/users.js';
import { startTelemetry, type Telemetry } from '../src/observability/telemetry.js';
import { type EmbeddedStack, startEmbeddedStack } from './helpers/embedded.js';
import { type Jaeger, type JaegerSpan, startJaeger, tag, traceSpans } from './helpers/jaeger.js';
import { requirements } from './helpers/requirements.js';
import { INIT_BODY, JSON_HEADERS, rpcBody, SEARCH_CALL } from './helpers/stack.js';

const skip = requirements('OpenTelemetry traces in Jaeger', ['jaeger']);

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const traceparent = (traceId: string, spanId: string) => `00-${traceId}-${spanId}-01`;

function only(spans: JaegerSpan[], name: string): JaegerSpan {
  const found = spans.filter((s) => s.operationName === name);
  assert.equal(found.length, 1, `one ${name} span in ${spans.map((s) => s.operationName).join(', ')}`);
  return found[0] as JaegerSpan;
}

const parentOf = (span: JaegerSpan) => span.references.find((r) => r.refType === 'CHILD_OF')?.spanID;

/** A loopback OTLP/HTTP metrics receiver (Jaeger takes traces only): the bodies it was sent. */
async function metricsReceiver(): Promise<{ url: string; bodies: Buffer[]; server: Server }> {
  const bodies: Buffer[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/metrics') bodies.push(Buffer.concat(chunks));
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metrics`, bodies, server };
}

describe('OpenTelemetry traces in a real Jaeger', { skip }, () => {
  let jaeger: Jaeger;
  let telemetry: Telemetry;
  let stack: EmbeddedStack;
  let token: string;
  let otlpMetrics: Awaited<ReturnType<typeof metricsReceiver>>;
  /** The trace id a `/metrics` probe was sent with: probes make no spans. */
  const probeTrace = hex(16);
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(stack.mcpUrl, {
      method: 'POST',
      headers: { ...JSON_HEADERS, authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify(body),
    });

  before(async () => {
    jaeger = await startJaeger();
    otlpMetrics = await metricsReceiver();
    telemetry = startTelemetry(
      loadTelemetryConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpHttp,
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: otlpMetrics.url,
        OTEL_METRIC_EXPORT_INTERVAL: '3600000',
        OTEL_TRACES_SAMPLER: 'always_on',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      }),
    );
    assert.equal(telemetry.tracing, true);
    stack = await startEmbeddedStack({}, undefined, { tracing: true });
    const tokens = await obtainToken({
      issuer: stack.issuer,
      resource: stack.mcpUrl,
      email: 'alice@example.com',
      password: 'alice-dev-password',
    });
    token = tokens.access_token;
  });

  after(async () => {
    await stack?.close();
    await telemetry?.shutdown();
    await jaeger?.close();
    await new Promise((r) => otlpMetrics?.server.close(r));
  });

  test('a search with traceparent in _meta: one trace, the MCP span with its attributes, tool and store under it, the bearer check in the same trace', async () => {
    const traceId = hex(16);
    const clientMcpSpan = hex(8); // the client's `tools/call search` span: sent in params._meta
    const clientHttpSpan = hex(8); // its HTTP request's span, a child of it: sent as the header
    const call = SEARCH_CALL('chocolate', 7) as { params: Record<string, unknown> };
    call.params._meta = { traceparent: traceparent(traceId, clientMcpSpan) };
    const res = await post(call, {
      traceparent: traceparent(traceId, clientHttpSpan),
      'mcp-protocol-version': '2025-11-25',
    });
    assert.equal(res.status, 200);
    const answer = (await rpcBody(res)) as { result: { structuredContent: { results: unknown[] } } };
    const results = answer.result.structuredContent.results.length;
    assert.ok(results > 0);
    await telemetry.flush();

    const spans = await traceSpans(jaeger, traceId, 5);
    for (const s of spans) assert.equal(s.traceID, traceId, `${s.operationName} is in the client's trace`);

    const mcp = only(spans, 'tools/call search');
    assert.equal(parentOf(mcp), clientMcpSpan, 'the client span from _meta is the parent');
    assert.equal(tag(mcp, 'span.kind'), 'server');
    assert.equal(tag(mcp, 'mcp.method.name'), 'tools/call');
    assert.equal(tag(mcp, 'gen_ai.tool.name'), 'search');
    assert.equal(tag(mcp, 'gen_ai.operation.name'), 'execute_tool');
    assert.equal(
      tag(mcp, 'jsonrpc.request.id'),
      '7',
      "the client's id, not the shared server's internal one",
    );
    assert.equal(tag(mcp, 'mcp.protocol.version'), '2025-11-25');
    assert.equal(tag(mcp, 'network.transport'), 'tcp');
    assert.equal(tag(mcp, 'error.type'), undefined);

    const http = only(spans, 'POST /mcp');
    assert.equal(parentOf(http), clientHttpSpan, 'the traceparent header is the HTTP span’s parent');
    assert.equal(tag(http, 'http.response.status_code'), 200);
    assert.equal(tag(http, 'http.route'), '/mcp');
    assert.ok(
      mcp.references.some((r) => r.refType === 'FOLLOWS_FROM' && r.spanID === http.spanID),
      'the HTTP span is linked from the MCP span',
    );

    const tool = only(spans, 'execute_tool search');
    assert.equal(parentOf(tool), mcp.spanID);
    assert.equal(tag(tool, 'sample_mcp.tool.results'), results);
    const store = only(spans, 'search orders');
    assert.equal(parentOf(store), tool.spanID, 'the store query is the tool’s child');
    assert.equal(tag(store, 'db.system.name'), 'sqlite');
    assert.equal(tag(store, 'db.operation.name'), 'search');
    assert.equal(tag(store, 'db.response.returned_rows'), results);
    assert.equal(tag(store, 'span.kind'), 'client');

    const bearer = only(spans, 'verify bearer token');
    assert.equal(parentOf(bearer), http.spanID);
    assert.equal(tag(bearer, 'sample_mcp.auth.outcome'), 'accepted');
    assert.equal(tag(bearer, 'sample_mcp.auth.issuer'), stack.issuer);
    assert.ok(String(tag(bearer, 'sample_mcp.auth.client_id') ?? '').length > 0);
    const claims = bearer.tags
      .map((t) => t.key)
      .filter((k) => /\.(sub|subject|email|scopes?|roles?)$/.test(k));
    assert.deepEqual(claims, [], 'no claims beyond iss, aud and client id');

    const line = stack.logs().find((l) => l.event === 'request' && l.trace_id === traceId);
    assert.ok(line, 'the request log line carries the trace id');
    assert.equal(line.span_id, http.spanID);
  });

  test('a refused token: the bearer span says why, the HTTP span has the 401', async () => {
    const traceId = hex(16);
    const res = await fetch(stack.mcpUrl, {
      method: 'POST',
      headers: {
        ...JSON_HEADERS,
        authorization: 'Bearer not-a-jwt',
        traceparent: traceparent(traceId, hex(8)),
      },
      body: JSON.stringify(SEARCH_CALL('x')),
    });
    assert.equal(res.status, 401);
    await res.arrayBuffer();
    await telemetry.flush();
    const spans = await traceSpans(jaeger, traceId, 2);
    const bearer = only(spans, 'verify bearer token');
    assert.equal(tag(bearer, 'sample_mcp.auth.outcome'), 'refused');
    assert.equal(tag(bearer, 'sample_mcp.auth.failure_reason'), 'malformed');
    assert.equal(tag(bearer, 'error.type'), 'malformed');
    assert.equal(tag(only(spans, 'POST /mcp'), 'http.response.status_code'), 401);
    assert.equal(
      spans.find((s) => s.operationName.startsWith('tools/')),
      undefined,
      'no MCP span for a refused request',
    );
  });

  test('a 2025 session: mcp.session.id is the id without its MAC; a tool error is error.type tool_error', async () => {
    const init = await post(INIT_BODY('2025-11-25'));
    assert.equal(init.status, 200);
    await init.arrayBuffer();
    const sid = init.headers.get('mcp-session-id') ?? '';
    assert.match(sid, /^[\w-]+\.[\w-]+$/);
    const traceId = hex(16);
    const res = await post(
      {
        jsonrpc: '2.0',
        id: 'fetch-1',
        method: 'tools/call',
        params: {
          name: 'fetch',
          arguments: { id: 'ord-nope' },
          _meta: { traceparent: traceparent(traceId, hex(8)) },
        },
      },
      { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
    );
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    await telemetry.flush();
    const spans = await traceSpans(jaeger, traceId, 3);
    const mcp = only(spans, 'tools/call fetch');
    assert.equal(tag(mcp, 'mcp.session.id'), sid.slice(0, sid.indexOf('.')));
    assert.equal(tag(mcp, 'jsonrpc.request.id'), 'fetch-1');
    assert.equal(tag(mcp, 'error.type'), 'tool_error');
    assert.equal(tag(mcp, 'otel.status_code'), 'ERROR');
    assert.equal(tag(only(spans, 'get orders'), 'db.response.returned_rows'), 0);
  });

  test('the 2026-07-28 wire: the MCP span reads the protocol version from the request envelope', async () => {
    const traceId = hex(16);
    const res = await post(
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: {
          name: 'search',
          arguments: { query: 'lemon' },
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientCapabilities': {},
            'io.modelcontextprotocol/clientInfo': { name: 'test', version: '1' },
            traceparent: traceparent(traceId, hex(8)),
          },
        },
      },
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'search' },
    );
    assert.equal(res.status, 200, await res.clone().text());
    await res.arrayBuffer();
    await telemetry.flush();
    const spans = await traceSpans(jaeger, traceId, 3);
    const mcp = only(spans, 'tools/call search');
    assert.equal(tag(mcp, 'mcp.protocol.version'), '2026-07-28');
    assert.equal(parentOf(only(spans, 'search orders')), only(spans, 'execute_tool search').spanID);
  });

  test('an unknown tool name is not a span name', async () => {
    const traceId = hex(16);
    const call = {
      jsonrpc: '2.0',
      id: 9,
      method: 'tools/call',
      params: { name: 'x'.repeat(300), arguments: {} },
    };
    const res = await post(call, {
      traceparent: traceparent(traceId, hex(8)),
      'mcp-protocol-version': '2025-11-25',
    });
    await res.arrayBuffer();
    await telemetry.flush();
    const spans = await traceSpans(jaeger, traceId, 3);
    const mcp = only(spans, 'tools/call');
    assert.equal(tag(mcp, 'gen_ai.tool.name'), undefined);
    assert.ok(tag(mcp, 'error.type'));
  });

  test('legacy SSE: the MCP span of a message POSTed to /messages, its session id hashed', async () => {
    const ctrl = new AbortController();
    const stream = await fetch(`${stack.base}/sse`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
      signal: ctrl.signal,
    });
    assert.equal(stream.status, 200);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const readUntil = async (what: string) => {
      while (!text.includes(what)) text += new TextDecoder().decode((await reader.read()).value);
    };
    await readUntil('\n\n');
    const endpoint = /data: (\S+)/.exec(text)?.[1] ?? '';
    const streamId = new URL(endpoint, stack.base).searchParams.get('sessionId') ?? '';
    assert.ok(streamId);
    const send = async (body: unknown) => {
      const res = await fetch(`${stack.base}${endpoint}`, {
        method: 'POST',
        headers: { ...JSON_HEADERS, authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 202);
      await res.arrayBuffer();
    };
    await send(INIT_BODY('2024-11-05'));
    await send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const traceId = hex(16);
    const call = SEARCH_CALL('vanilla', 42) as { params: Record<string, unknown> };
    call.params._meta = { traceparent: traceparent(traceId, hex(8)) };
    await send(call);
    await readUntil('"id":42');
    ctrl.abort();
    await telemetry.flush();
    const spans = await traceSpans(jaeger, traceId, 3);
    const mcp = only(spans, 'tools/call search');
    assert.equal(
      tag(mcp, 'mcp.session.id'),
      sessionHash(streamId),
      'the stream id itself routes messages: hashed',
    );
    assert.equal(tag(mcp, 'jsonrpc.request.id'), '42');
    assert.equal(parentOf(only(spans, 'execute_tool search')), mcp.spanID);
  });

  test('mcp.server.operation.duration and mcp.server.session.duration: on /metrics and over OTLP', async () => {
    // A version a client makes up is no label (it would be a new series per string).
    const madeUp = await post(INIT_BODY('9999-01-01'));
    assert.equal(madeUp.status, 200);
    await madeUp.arrayBuffer();
    const init = await post(INIT_BODY('2025-11-25'));
    await init.arrayBuffer();
    const sid = init.headers.get('mcp-session-id') ?? '';
    const del = await fetch(stack.mcpUrl, {
      method: 'DELETE',
      headers: {
        authorization: `Bearer ${token}`,
        'mcp-session-id': sid,
        'mcp-protocol-version': '2025-11-25',
      },
    });
    assert.equal(del.status, 200);
    await del.arrayBuffer();
    const prom = await (
      await fetch(`${stack.base}/metrics`, { headers: { traceparent: traceparent(probeTrace, hex(8)) } })
    ).text();
    assert.match(
      prom,
      /mcp_server_operation_duration_seconds_count\{mcp_method_name="tools\/call",gen_ai_tool_name="search",error_type="",mcp_protocol_version="2025-11-25"\} [1-9]/,
    );
    assert.match(
      prom,
      /mcp_server_operation_duration_seconds_count\{[^}]*gen_ai_tool_name="fetch",error_type="tool_error"/,
    );
    assert.match(
      prom,
      /mcp_server_operation_duration_seconds_bucket\{le="0.01",/,
      'the convention’s buckets',
    );
    assert.ok(!prom.includes('9999-01-01'), 'no label for a made-up protocol version');
    assert.match(
      prom,
      /mcp_server_session_duration_seconds_count\{transport="streamable_http",mcp_protocol_version="2025-11-25"\} 1/,
    );
    assert.match(
      prom,
      /mcp_server_session_duration_seconds_count\{transport="sse",mcp_protocol_version="2024-11-05"\} [1-9]/,
    );
    await telemetry.flush();
    const exported = Buffer.concat(otlpMetrics.bodies).toString('latin1');
    assert.ok(exported.includes('mcp.server.operation.duration'), 'exported over OTLP');
    assert.ok(exported.includes('mcp.server.session.duration'));
    assert.ok(exported.includes('tools/call'));
  });

  test('no token, password or session MAC in any exported span', async () => {
    const init = await post(INIT_BODY('2025-11-25'));
    await init.arrayBuffer();
    const sid = init.headers.get('mcp-session-id') ?? '';
    const list = await post(
      { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} },
      { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' },
    );
    await list.arrayBuffer();
    await telemetry.flush();
    // Everything Jaeger holds for both servers, the login above (authorization server) included,
    // once the last request's spans have landed.
    let all = '';
    const deadline = Date.now() + 15_000;
    while (!all.includes('"operationName":"tools/list"') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      const res = await fetch(`${jaeger.queryUrl}/api/traces?service=sample-mcp&limit=100000&lookback=1h`);
      assert.equal(res.status, 200);
      all = await res.text();
    }
    assert.ok(all.includes('"operationName":"tools/list"'), 'the last request is in the exported data');
    assert.ok(all.includes('"operationName":"POST /interaction/{uid}/login"'), 'so is the login');
    assert.ok(!all.includes(probeTrace), 'the /metrics probe made no span');
    const secrets = {
      'access token': token,
      'token signature': token.split('.')[2] as string,
      'session MAC': sid.slice(sid.indexOf('.') + 1),
      ...Object.fromEntries(DEV_ACCOUNTS.map((a) => [`${a.email} password`, a.devPassword])),
    };
    for (const [what, secret] of Object.entries(secrets)) {
      assert.ok(secret.length >= 8, what);
      assert.equal(all.includes(secret), false, `${what} appears in the exported spans`);
    }
  });
});
