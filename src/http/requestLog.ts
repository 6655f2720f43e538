/**
 * One JSON log line and the request metrics for every request, when its response closes: method,
 * path, route, status, duration, protocol version, session, JSON-RPC method, tool, why auth failed,
 * and the validated `iss`/`aud`/`sub`/client/scopes — never the token. Probes are counted, not logged.
 */
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { type Exchange, firstHeader } from './exchange.js';

export function logRequest(
  x: Exchange,
  request: { started: bigint; quiet?: boolean | undefined },
  deps: { logger: Logger; metrics: Pick<Metrics, 'requests' | 'duration'> },
): void {
  const { req, res, url, log } = x;
  const durationMs = Number(process.hrtime.bigint() - request.started) / 1e6;
  deps.metrics.requests.inc({ route: log.route, method: req.method ?? '', status: res.statusCode });
  deps.metrics.duration.observe({ route: log.route }, durationMs / 1000);
  if (request.quiet) return; // probes would drown the log
  const p = log.principal;
  const sessionId = firstHeader(req.headers['mcp-session-id']) ?? (res.getHeader('mcp-session-id') as string);
  deps.logger.info(
    {
      event: 'request',
      method: req.method,
      path: url.pathname.slice(0, 200),
      route: log.route,
      status: res.statusCode,
      durationMs: Math.round(durationMs * 100) / 100,
      protocolVersion: log.protocolVersion,
      sessionId: sessionId?.slice(0, 100),
      rpcMethod: log.rpcMethod,
      tool: log.tool,
      authFailure: log.authFailure,
      rateLimited: log.rateLimited,
      clientAborted: log.clientAborted,
      ...(p && { iss: p.issuer, aud: p.audience, sub: p.subject, clientId: p.clientId, scopes: p.scopes }),
    },
    'request',
  );
}
