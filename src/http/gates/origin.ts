/**
 * DNS-rebinding protection, second half, and CORS: a browser's `Origin` must be allowed
 * (`MCP_SERVER_URL`'s origin, `MCP_ALLOWED_ORIGINS`, loopback unless turned off), else 403; an
 * allowed one gets the CORS headers. Server-to-server clients (ChatGPT's and Claude's back ends)
 * send no `Origin` and pass.
 */
import type { Config } from '../../config/config.js';
import { isLoopbackHostname } from '../../web/loopback.js';
import { sendRpcError } from '../../web/nodeIo.js';
import { firstHeader, type Gate } from '../exchange.js';

type OriginConfig = Pick<Config, 'allowedOrigins' | 'allowLoopbackOrigins'>;

export const CORS_ALLOW_HEADERS =
  'Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID';
export const CORS_EXPOSE_HEADERS = 'WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version';

/** `true` when there is no `Origin` (not a browser) or it is allowed. */
export function originAllowed(origin: string | undefined, c: OriginConfig): boolean {
  if (origin === undefined) return true;
  if (c.allowedOrigins.includes(origin)) return true;
  if (!c.allowLoopbackOrigins) return false;
  try {
    const u = new URL(origin);
    return (
      (u.protocol === 'http:' || u.protocol === 'https:') &&
      u.origin === origin &&
      isLoopbackHostname(u.hostname)
    );
  } catch {
    return false;
  }
}

export function originGate(config: OriginConfig): Gate {
  return ({ req, res }) => {
    const origin = firstHeader(req.headers.origin);
    if (!originAllowed(origin, config)) {
      sendRpcError(res, 403, -32000, `Origin "${String(origin).slice(0, 100)}" is not allowed`);
      return false;
    }
    if (origin !== undefined) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-expose-headers', CORS_EXPOSE_HEADERS);
      res.setHeader('vary', 'Origin');
    }
    return true;
  };
}
