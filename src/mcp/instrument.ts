/**
 * The MCP server span and the `mcp.server.operation.duration` metric for every JSON-RPC request
 * any of our SDK servers handles — 2026-07-28 wire, 2025 sessions and sessionless POSTs, adopted
 * sessions and legacy SSE all dispatch through the SDK's request-handler table, so the
 * instrumentation sits there, once.
 *
 * The span follows the OpenTelemetry MCP conventions (open-telemetry/semantic-conventions-genai,
 * docs/gen-ai/mcp.md): name `{mcp.method.name} {gen_ai.tool.name}` (e.g. `tools/call search`),
 * kind SERVER, `mcp.method.name`, `mcp.protocol.version`, `mcp.session.id` (the non-secret part),
 * `jsonrpc.request.id`, `gen_ai.tool.name` and `gen_ai.operation.name=execute_tool` for tool calls,
 * `error.type` (`tool_error` for an `isError` result, the JSON-RPC code for an error answer). Its
 * parent is the client's span from `params._meta` (`traceparent`/`tracestate`/`baggage`, SEP-414)
 * when there is one, with the HTTP request's span as a link; otherwise the HTTP span (itself
 * parented by the `traceparent` header) is the parent.
 *
 * Tool names come from requests: only the registered ones are recorded (span names, metric labels).
 *
 * The SDK has no public hook around request handlers; this wraps the lookup in its handler table
 * (`Protocol._requestHandlers`, a Map) and throws at start-up if that ever changes shape, so an
 * SDK upgrade that moves it fails the tests instead of silently losing the spans.
 */

import {
  type McpServer,
  type ServerContext,
  SUPPORTED_PROTOCOL_VERSIONS,
} from '@modelcontextprotocol/server';
import { type Attributes, context, type Link, propagation, SpanKind, trace } from '@opentelemetry/api';
import { publicSessionId } from '../cluster/sessionIds.js';
import type { OperationAttributes } from '../observability/metrics.js';
import { failSpan, tracer } from '../observability/tracing.js';
import { factsOf } from './context.js';

interface RpcRequest {
  id: string | number;
  method: string;
  params?: Record<string, unknown>;
}
type RequestHandler = (request: RpcRequest, ctx: ServerContext) => Promise<unknown>;

export interface InstrumentOptions {
  /** Names of the registered tools: the only ones recorded. */
  tools: readonly string[];
  /** Make spans (OpenTelemetry configured); the metric is recorded either way. */
  tracing: boolean;
  onOperation?: (attributes: OperationAttributes, seconds: number) => void;
}

const PROTOCOL_VERSION_META_KEY = 'io.modelcontextprotocol/protocolVersion';
const VERSION = /^\d{4}-\d{2}-\d{2}$/;

const version = (v: unknown): string | undefined =>
  typeof v === 'string' && VERSION.test(v) ? v : undefined;

/** The client's span context from `params._meta`, or undefined when it carries none (or a malformed one). */
function metaParent(params: Record<string, unknown> | undefined) {
  const meta = params?._meta;
  if (
    !meta ||
    typeof meta !== 'object' ||
    typeof (meta as Record<string, unknown>).traceparent !== 'string'
  ) {
    return undefined;
  }
  const extracted = propagation.extract(context.active(), meta);
  const sc = trace.getSpanContext(extracted);
  return sc && trace.isSpanContextValid(sc) ? extracted : undefined;
}

/** Instruments one SDK server's request handlers (call it after registering the tools). */
export function instrumentServer(server: McpServer, options: InstrumentOptions): void {
  const handlers = (server.server as unknown as { _requestHandlers?: unknown })._requestHandlers;
  if (!(handlers instanceof Map)) {
    throw new Error(
      'the MCP SDK no longer keeps its request handlers in Protocol._requestHandlers: update src/mcp/instrument.ts',
    );
  }
  const table = handlers as Map<string, RequestHandler>;
  const tools = new Set(options.tools);
  const get = table.get.bind(table);
  const wrapped = new Map<RequestHandler, RequestHandler>();
  table.get = (method: string) => {
    const handler = get(method);
    if (!handler) return handler;
    let w = wrapped.get(handler);
    if (!w) {
      w = wrap(method, handler);
      wrapped.set(handler, w);
    }
    return w;
  };

  function wrap(method: string, handler: RequestHandler): RequestHandler {
    return async (request, ctx) => {
      const started = performance.now();
      const params = request.params;
      const name = method === 'tools/call' ? params?.name : undefined;
      const tool = typeof name === 'string' && tools.has(name) ? name : undefined;
      const facts = factsOf(ctx.http?.authInfo);
      const protocolVersion =
        version((ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[PROTOCOL_VERSION_META_KEY]) ??
        version(facts.protocolVersion) ??
        // What a client asks for in `initialize` is any string: only versions this SDK speaks
        // become a metric label (the envelope's and the session's were checked before dispatch).
        (method === 'initialize' && SUPPORTED_PROTOCOL_VERSIONS.includes(String(params?.protocolVersion))
          ? version(params?.protocolVersion)
          : undefined);
      const metric: OperationAttributes = {
        'mcp.method.name': method,
        'gen_ai.tool.name': tool,
        'mcp.protocol.version': protocolVersion,
      };
      const finish = (result: unknown, errorType: string | undefined) => {
        metric['error.type'] = errorType;
        options.onOperation?.(metric, (performance.now() - started) / 1000);
        return result;
      };
      const outcome = (result: unknown) =>
        tool && (result as { isError?: unknown } | undefined)?.isError === true ? 'tool_error' : undefined;
      const codeOf = (err: unknown) => {
        const code = (err as { code?: unknown })?.code;
        return Number.isSafeInteger(code) ? String(code) : '_OTHER';
      };

      if (!options.tracing) {
        try {
          const result = await handler(request, ctx);
          return finish(result, outcome(result));
        } catch (err) {
          finish(undefined, codeOf(err));
          throw err;
        }
      }

      const requestId = facts.requestId ?? request.id;
      const session = facts.session ?? (ctx.sessionId ? publicSessionId(ctx.sessionId) : undefined);
      const attributes: Attributes = {
        'mcp.method.name': method,
        'network.transport': 'tcp',
        'network.protocol.name': 'http',
        ...(protocolVersion && { 'mcp.protocol.version': protocolVersion }),
        ...(session && { 'mcp.session.id': session }),
        ...(requestId !== undefined && { 'jsonrpc.request.id': String(requestId).slice(0, 100) }),
        ...(tool && { 'gen_ai.tool.name': tool, 'gen_ai.operation.name': 'execute_tool' }),
      };
      const fromMeta = metaParent(params);
      const ambient = trace.getSpanContext(context.active());
      const links: Link[] = fromMeta && ambient ? [{ context: ambient }] : [];
      return tracer().startActiveSpan(
        tool ? `${method} ${tool}` : method,
        { kind: SpanKind.SERVER, attributes, links },
        fromMeta ?? context.active(),
        async (span) => {
          try {
            const result = await handler(request, ctx);
            const errorType = outcome(result);
            if (errorType) failSpan(span, errorType);
            return finish(result, errorType);
          } catch (err) {
            const code = codeOf(err);
            span.setAttribute('rpc.response.status_code', code);
            failSpan(span, code);
            finish(undefined, code);
            throw err;
          } finally {
            span.end();
          }
        },
      );
    };
  }
}
