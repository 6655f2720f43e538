/**
 * Which redirect URIs dynamic client registration accepts: those of the clients people use with
 * MCP servers, loopback for native apps and CLIs (any port), and an explicit extra list.
 */
import { isLoopbackHostname } from '../web/loopback.js';

/** Exact URIs, and patterns for per-connection ones. */
const KNOWN: (string | RegExp)[] = [
  // ChatGPT: the stable redirect (used when the AS supports RFC 9207) and the per-connector one
  'https://chatgpt.com/connector_platform_oauth_redirect',
  /^https:\/\/chatgpt\.com\/connector\/oauth\/[A-Za-z0-9_-]{1,128}$/,
  // Claude (claude.ai and claude.com)
  'https://claude.ai/api/mcp/auth_callback',
  'https://claude.com/api/mcp/auth_callback',
  // VS Code (web redirect relay)
  'https://vscode.dev/redirect',
  'https://insiders.vscode.dev/redirect',
];

/** `http://localhost`, `127.x.x.x` or `[::1]`, any port — what native apps, the Inspector and CLIs use. */
export function isLoopbackRedirect(uri: string): boolean {
  try {
    const u = new URL(uri);
    return u.protocol === 'http:' && isLoopbackHostname(u.hostname) && !u.username && !u.password && !u.hash;
  } catch {
    return false;
  }
}

export function redirectUriAllowed(uri: string, extra: readonly string[]): boolean {
  if (extra.includes(uri)) return true;
  if (isLoopbackRedirect(uri)) return true;
  return KNOWN.some((k) => (typeof k === 'string' ? k === uri : k.test(uri)));
}
