/**
 * Browser-facing safety: DNS-rebinding protection (`Host` and `Origin` allow-lists) and CORS.
 * Server-to-server clients (ChatGPT's and Claude's back ends) send no `Origin` and pass.
 *
 * @example
 * ```ts
 * if (!hostAllowed(req.headers.host, config)) return forbid(res);
 * res.setHeader('access-control-allow-origin', corsOrigin(req.headers.origin, config) ?? 'null');
 * ```
 */
import { isLoopbackHostname } from '../config/config.js';

export interface GuardConfig {
  allowedHosts: readonly string[];
  allowedOrigins: readonly string[];
  allowLoopbackOrigins: boolean;
}

/** Host name of a `Host` header value (`example.com:443` → `example.com`, `[::1]:3000` → `[::1]`). */
export function hostnameOf(hostHeader: string): string | undefined {
  try {
    return new URL(`http://${hostHeader}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

export function hostAllowed(hostHeader: string | undefined, c: GuardConfig): boolean {
  if (!hostHeader) return false;
  const name = hostnameOf(hostHeader);
  return name !== undefined && (c.allowedHosts.includes(name) || isLoopbackHostname(name));
}

/** `true` when there is no `Origin` (not a browser) or it is allowed. */
export function originAllowed(origin: string | undefined, c: GuardConfig): boolean {
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

export const CORS_ALLOW_HEADERS =
  'Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID';
export const CORS_EXPOSE_HEADERS = 'WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version';

/** CORS headers for an MCP endpoint response, for an allowed `Origin` (none otherwise). */
export function corsHeaders(origin: string | undefined, c: GuardConfig): Record<string, string> {
  if (origin === undefined || !originAllowed(origin, c)) return {};
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': CORS_EXPOSE_HEADERS,
    vary: 'Origin',
  };
}

/** CORS headers for public documents (metadata): any origin, no credentials. */
export const PUBLIC_CORS: Record<string, string> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, OPTIONS',
  'access-control-allow-headers': 'MCP-Protocol-Version, Content-Type',
};
