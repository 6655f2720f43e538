/**
 * DNS-rebinding protection, first half: the `Host` header must name this server (`MCP_SERVER_URL`'s
 * host, `MCP_ALLOWED_HOSTS`) or loopback; anything else is 403.
 */
import type { Config } from '../../config/config.js';
import { hostnameOf, isLoopbackHostname } from '../../web/loopback.js';
import { sendRpcError } from '../../web/nodeIo.js';
import type { Gate } from '../exchange.js';

export function hostAllowed(hostHeader: string | undefined, allowedHosts: readonly string[]): boolean {
  if (!hostHeader) return false;
  const name = hostnameOf(hostHeader);
  return name !== undefined && (allowedHosts.includes(name) || isLoopbackHostname(name));
}

export function hostGate(config: Pick<Config, 'allowedHosts'>): Gate {
  return ({ req, res }) => {
    if (hostAllowed(req.headers.host, config.allowedHosts)) return true;
    sendRpcError(res, 403, -32000, `Host "${String(req.headers.host).slice(0, 100)}" is not allowed`);
    return false;
  };
}
