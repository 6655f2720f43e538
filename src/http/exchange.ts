/**
 * One request as it goes through the pipeline: the Node request and response, the parsed URL,
 * what the gates found (the principal, the JSON body) and what the request log line will say.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../auth/principal.js';

/** What the request log line says about a request, filled in as it is handled. */
export interface RequestLog {
  /** The route's name in the table (`mcp`, `order`, …), also the metrics label. */
  route: string;
  /** A long-lived event stream (GET /mcp, GET /sse): not counted as in-flight work. */
  stream?: boolean;
  rateLimited?: boolean;
  /** The client closed the connection before the request was read or answered. */
  clientAborted?: boolean;
  rpcMethod?: string;
  tool?: string;
  protocolVersion?: string;
  principal?: Principal;
  authFailure?: string;
}

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  log: RequestLog;
  /** Set by the bearer gate. */
  principal?: Principal;
  /** Set by the JSON body gate (POST only). */
  body?: { raw: Buffer; json: unknown };
  /** Marks the request as a long-lived stream: it stops counting as in-flight work. */
  streaming(): void;
}

/** A check in front of a route: `true` lets the request through; `false` means it has answered. */
export type Gate = (x: Exchange) => boolean | Promise<boolean>;

/** What a route does once every gate has let the request through. */
export type Handler = (x: Exchange) => void | Promise<void>;

export function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Notes the `MCP-Protocol-Version` header for the log line (a body's version does not override it). */
export const noteProtocolVersion: Gate = (x) => {
  x.log.protocolVersion = firstHeader(x.req.headers['mcp-protocol-version'])?.slice(0, 40);
  return true;
};
