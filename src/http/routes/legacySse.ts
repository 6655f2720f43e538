/**
 * The legacy HTTP+SSE transport (2024-11-05): `GET /sse` opens the stream (long-lived),
 * `POST /messages?sessionId=…` delivers a message to it (src/mcp/legacySse.ts).
 */
import type { Principal } from '../../auth/principal.js';
import { authInfoFor } from '../../mcp/context.js';
import type { LegacySseEndpoint } from '../../mcp/legacySse.js';
import { STREAM_HEADERS, sendRpcError } from '../../web/nodeIo.js';
import type { Exchange, Handler } from '../exchange.js';

export function sseStreamRoute(sse: Pick<LegacySseEndpoint, 'open'>): Handler {
  return async (x: Exchange) => {
    x.streaming();
    for (const [k, v] of Object.entries(STREAM_HEADERS)) x.res.setHeader(k, v);
    await sse.open(x.res, x.principal as Principal);
  };
}

export function sseMessagesRoute(sse: Pick<LegacySseEndpoint, 'post'>, serverUrl: string): Handler {
  return async (x: Exchange) => {
    const principal = x.principal as Principal;
    const delivered = await sse.post(
      x.req,
      x.res,
      x.url.searchParams.get('sessionId'),
      x.body?.json,
      principal,
      authInfoFor(principal, serverUrl),
    );
    if (!delivered) sendRpcError(x.res, 404, -32001, 'Session not found: open a new stream with GET /sse');
  };
}
