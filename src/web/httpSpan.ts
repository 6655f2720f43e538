/**
 * The HTTP server span of one request, by the HTTP semantic conventions (`{method} {http.route}`,
 * kind SERVER), made by hand in our own request pipeline rather than by monkey-patching `node:http`
 * (auto-instrumentation would wrap every socket and header call of every request, ours and the
 * probes', and could not know the route table's templates). Its parent is the W3C `traceparent`
 * header when the client sent one. The span ends when the response closes, so a long-lived event
 * stream is one long span.
 *
 * Never recorded: the query string (legacy SSE session ids, OAuth codes and state live there), the
 * headers (Authorization, cookies).
 *
 * @example
 * ```ts
 * const server = createServer((req, res) => {
 *   const http = startHttpSpan(req, res, { route: '/healthz' });
 *   context.with(http.context, () => res.end('ok'));
 * });
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type Context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

export interface HttpSpan {
  span: Span;
  /** The context to run the request's handling in: the span is its active span. */
  context: Context;
}

const headerGetter = {
  keys: (carrier: IncomingMessage['headers']) => Object.keys(carrier),
  get: (carrier: IncomingMessage['headers'], key: string) => carrier[key],
};

/**
 * Starts the span; it ends by itself when `res` closes (with `http.response.status_code`, and
 * `error.type` plus status ERROR for a 5xx).
 *
 * @param where - `route`: the route template (`/orders/{id}`), absent for unmatched paths; `path`:
 *   the path to record as `url.path` (leave it out where a path segment is a secret)
 */
export function startHttpSpan(
  req: IncomingMessage,
  res: ServerResponse,
  where: { route?: string | undefined; path?: string | undefined; tracerName?: string },
): HttpSpan {
  const method = req.method ?? 'GET';
  const parent = propagation.extract(ROOT_CONTEXT, req.headers, headerGetter);
  const local = req.socket.localPort;
  const span = trace.getTracer(where.tracerName ?? 'sample-mcp').startSpan(
    where.route ? `${method} ${where.route}` : method,
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': method,
        'url.scheme': 'encrypted' in req.socket ? 'https' : 'http',
        'network.protocol.name': 'http',
        'network.protocol.version': req.httpVersion,
        'network.transport': 'tcp',
        ...(where.route && { 'http.route': where.route }),
        ...(where.path && { 'url.path': where.path.slice(0, 200) }),
        ...(local !== undefined && { 'server.port': local }),
        ...(req.socket.remoteAddress && { 'client.address': req.socket.remoteAddress }),
        ...(req.headers['user-agent'] && { 'user_agent.original': req.headers['user-agent'].slice(0, 200) }),
      },
    },
    parent,
  );
  res.once('close', () => {
    const status = res.statusCode;
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) {
      span.setAttribute('error.type', String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    } else if (!res.headersSent) {
      span.setAttribute('error.type', 'aborted'); // the connection closed before any answer
    }
    span.end();
  });
  return { span, context: trace.setSpan(parent, span) };
}
