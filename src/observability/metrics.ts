/**
 * Prometheus metrics (prom-client) on a registry of our own, served at `/metrics`. The two MCP
 * histograms of the OpenTelemetry MCP conventions (`mcp.server.operation.duration`,
 * `mcp.server.session.duration`, in seconds, with the convention's buckets) are recorded both here
 * and through the OpenTelemetry meter, which exports them over OTLP when configured (a no-op
 * otherwise; src/observability/telemetry.ts registers it before the server is built).
 */
import { metrics as otel } from '@opentelemetry/api';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type Metrics = ReturnType<typeof createMetrics>;

/** The MCP convention's `ExplicitBucketBoundaries` for both duration histograms (seconds). */
export const MCP_DURATION_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];

/** What an MCP operation is recorded with (low-cardinality values only: no user input). */
export interface OperationAttributes {
  'mcp.method.name': string;
  'gen_ai.tool.name'?: string | undefined;
  'error.type'?: string | undefined;
  'mcp.protocol.version'?: string | undefined;
}

export interface SessionAttributes {
  /** `streamable_http` or `sse`. */
  transport: string;
  'mcp.protocol.version'?: string | undefined;
}

function mcpHistograms(registry: Registry) {
  const meter = otel.getMeter('sample-mcp');
  const advice = { explicitBucketBoundaries: MCP_DURATION_BUCKETS };
  const otelOperation = meter.createHistogram('mcp.server.operation.duration', {
    unit: 's',
    description: 'MCP request duration as observed on the server, from receipt until the result is sent',
    advice,
  });
  const otelSession = meter.createHistogram('mcp.server.session.duration', {
    unit: 's',
    description: 'MCP session duration as observed on the server',
    advice,
  });
  const promOperation = new Histogram({
    name: 'mcp_server_operation_duration_seconds',
    help: 'MCP request duration (mcp.server.operation.duration) by method, tool, error type and protocol version',
    labelNames: ['mcp_method_name', 'gen_ai_tool_name', 'error_type', 'mcp_protocol_version'] as const,
    buckets: MCP_DURATION_BUCKETS,
    registers: [registry],
  });
  const promSession = new Histogram({
    name: 'mcp_server_session_duration_seconds',
    help: 'MCP session duration (mcp.server.session.duration) by transport and protocol version',
    labelNames: ['transport', 'mcp_protocol_version'] as const,
    buckets: MCP_DURATION_BUCKETS,
    registers: [registry],
  });
  return {
    recordOperation(a: OperationAttributes, seconds: number): void {
      promOperation.observe(
        {
          mcp_method_name: a['mcp.method.name'],
          gen_ai_tool_name: a['gen_ai.tool.name'] ?? '',
          error_type: a['error.type'] ?? '',
          mcp_protocol_version: a['mcp.protocol.version'] ?? '',
        },
        seconds,
      );
      otelOperation.record(seconds, withoutUndefined(a));
    },
    recordSession(a: SessionAttributes, seconds: number): void {
      promSession.observe(
        { transport: a.transport, mcp_protocol_version: a['mcp.protocol.version'] ?? '' },
        seconds,
      );
      otelSession.record(seconds, {
        ...withoutUndefined({ 'mcp.protocol.version': a['mcp.protocol.version'] }),
        'network.transport': 'tcp',
        'network.protocol.name': 'http',
      });
    },
  };
}

function withoutUndefined(o: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) if (typeof v === 'string') out[k] = v;
  return out;
}

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    ...mcpHistograms(registry),
    requests: new Counter({
      name: 'mcp_http_requests_total',
      help: 'HTTP requests by route, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'mcp_http_request_duration_seconds',
      help: 'HTTP request duration (until the response ends; long for streams)',
      labelNames: ['route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'mcp_auth_failures_total',
      help: 'Refused bearer tokens by reason (no_credentials, expired, audience, issuer, signature, scope, …)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'mcp_rate_limited_total',
      help: 'Requests refused with 429 by the per-user rate limit',
      registers: [registry],
    }),
    connectionsDropped: new Counter({
      name: 'mcp_connections_dropped_total',
      help: 'Connections closed on arrival because MCP_MAX_CONNECTIONS were open',
      registers: [registry],
    }),
    toolCalls: new Counter({
      name: 'mcp_tool_calls_total',
      help: 'Tool calls by tool and outcome',
      labelNames: ['tool', 'outcome'] as const,
      registers: [registry],
    }),
    sessions: new Gauge({
      name: 'mcp_sessions_active',
      help: 'Open MCP sessions (streamable HTTP and legacy SSE)',
      labelNames: ['transport'] as const,
      registers: [registry],
    }),
  };
}
