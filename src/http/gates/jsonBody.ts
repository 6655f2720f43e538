/**
 * A POST's body: `Content-Type: application/json` (else 415), at most `maxBytes` (else 413, the
 * connection closed), valid JSON (else 400, JSON-RPC `-32700`). The parsed body goes on the
 * exchange; its JSON-RPC method, tool and protocol version go on the log line. Other methods pass.
 */
import { BodyTooLargeError, readBody, sendRpcError } from '../../web/nodeIo.js';
import type { Gate, RequestLog } from '../exchange.js';

export function jsonBodyGate(maxBytes: number): Gate {
  return async (x) => {
    if (x.req.method !== 'POST') return true;
    const type = (x.req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') {
      sendRpcError(x.res, 415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
      return false;
    }
    let raw: Buffer;
    try {
      raw = await readBody(x.req, maxBytes);
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) throw err;
      sendRpcError(x.res, 413, -32000, `Request body larger than ${maxBytes} bytes`, { connection: 'close' });
      return false;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      sendRpcError(x.res, 400, -32700, 'Parse error: the body is not valid JSON');
      return false;
    }
    x.body = { raw, json };
    describeRpc(json, x.log);
    return true;
  };
}

/** JSON-RPC method, tool name and protocol version of a parsed body, for the log line. */
function describeRpc(body: unknown, log: RequestLog): void {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return;
  const msg = body as { method?: unknown; params?: Record<string, unknown> };
  if (typeof msg.method === 'string') log.rpcMethod = msg.method.slice(0, 100);
  const params = msg.params;
  if (params && typeof params === 'object') {
    if (msg.method === 'tools/call' && typeof params.name === 'string') log.tool = params.name.slice(0, 128);
    if (msg.method === 'initialize' && typeof params.protocolVersion === 'string') {
      log.protocolVersion ??= params.protocolVersion.slice(0, 40);
    }
    const meta = params._meta as Record<string, unknown> | undefined;
    const v = meta?.['io.modelcontextprotocol/protocolVersion'];
    if (typeof v === 'string') log.protocolVersion ??= v.slice(0, 40);
  }
}
