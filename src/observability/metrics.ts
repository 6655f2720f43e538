/**
 * Prometheus metrics (prom-client) on a registry of our own, served at `/metrics`.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
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
