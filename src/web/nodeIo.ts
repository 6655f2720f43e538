/**
 * Node request/response I/O: reading a bounded body, writing JSON, JSON-RPC errors and web
 * `Response`s, and turning a Node request into a web `Request` (what the MCP SDK speaks).
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
  }
}

/** Reads the whole body, refusing (without buffering further) once it passes `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLargeError(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length']);

export function toWebRequest(
  req: IncomingMessage,
  url: URL,
  body: Buffer | undefined,
  signal: AbortSignal,
): Request {
  const headers = new Headers();
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (HOP_BY_HOP.has(name) || !values) continue;
    for (const v of values) headers.append(name, v);
  }
  const init: RequestInit & { duplex?: 'half' } = { method: req.method ?? 'GET', headers, signal };
  if (body && req.method !== 'GET' && req.method !== 'HEAD') init.body = new Uint8Array(body);
  return new Request(url, init);
}

/**
 * Headers that keep proxies from buffering or compressing an event stream (nginx honours
 * `X-Accel-Buffering`; `no-transform` tells any intermediary not to re-encode).
 */
export const STREAM_HEADERS: Record<string, string> = {
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

/**
 * Writes a web `Response` to a Node response. Headers are flushed at once, so an idle event
 * stream is visibly open to the client (and to proxies) before its first event.
 */
export async function sendWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  if (headers['content-type']?.startsWith('text/event-stream')) Object.assign(headers, STREAM_HEADERS);
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  res.flushHeaders();
  const reader = response.body.getReader();
  const onClose = () => void reader.cancel().catch(() => {});
  res.on('close', onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) break;
      if (!res.write(value)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    }
  } catch {
    // client went away or the stream was cancelled: nothing left to send
  } finally {
    res.off('close', onClose);
    if (!res.writableEnded) res.end();
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendJsonText(res, status, JSON.stringify(body), headers);
}

/** A JSON-RPC error response without a request id (the request could not be read or was refused). */
export function rpcErrorBody(code: number, message: string): string {
  return JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
}

export function sendRpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJsonText(res, status, rpcErrorBody(code, message), headers);
}

function sendJsonText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string>,
): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
