/**
 * `/mcp` and `/`: Streamable HTTP for every protocol era (src/mcp/endpoint.ts decides which). A
 * reply the endpoint wrote itself is sent as it is; a web `Response` (2026 wire, event streams) is
 * streamed. A GET is a long-lived event stream.
 */
import type { ServerResponse } from 'node:http';
import { authInfoFor } from '../../mcp/context.js';
import type { DirectReply, McpEndpoint } from '../../mcp/endpoint.js';
import { STREAM_HEADERS, sendWebResponse, toWebRequest } from '../../web/nodeIo.js';
import type { Exchange, Handler } from '../exchange.js';

export function mcpRoute(endpoint: Pick<McpEndpoint, 'handle'>, resourceUrl: string): Handler {
  return async (x: Exchange) => {
    const { req, res, url } = x;
    const principal = x.principal;
    if (!principal) throw new Error('mcpRoute behind no bearer gate');
    const method = req.method ?? 'GET';
    if (method === 'GET') x.streaming();
    const reply = await endpoint.handle(
      {
        method,
        headers: req.headers,
        body: x.body?.json,
        // Built only when an SDK transport serves the request (2026 wire, event streams).
        webRequest: () => {
          const abort = new AbortController();
          res.on('close', () => abort.abort());
          return toWebRequest(req, url, x.body?.raw, abort.signal);
        },
      },
      principal,
      authInfoFor(principal, resourceUrl),
    );
    if (reply instanceof Response) await sendWebResponse(res, reply);
    else sendDirect(res, reply);
  };
}

function sendDirect(res: ServerResponse, reply: DirectReply): void {
  for (const [k, v] of Object.entries(reply.headers)) res.setHeader(k, v);
  if (reply.headers['content-type'] === 'text/event-stream') {
    for (const [k, v] of Object.entries(STREAM_HEADERS)) res.setHeader(k, v);
  }
  res.setHeader('content-length', Buffer.byteLength(reply.body));
  res.writeHead(reply.status);
  res.end(reply.body);
}
