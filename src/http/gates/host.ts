/**
 * DNS-rebinding protection, first half: the `Host` header must name this server (`MCP_SERVER_URL`'s
 * host, `MCP_ALLOWED_HOSTS`) or loopback; anything else is 403.
 */
import { isIP } from 'node:net';
import type { Config } from '../../config/config.js';
import { hostnameOf, isLoopbackHostname } from '../../web/loopback.js';
import { sendRpcError } from '../../web/nodeIo.js';
import type { Gate } from '../exchange.js';

export function hostAllowed(hostHeader: string | undefined, allowedHosts: readonly string[]): boolean {
  if (!hostHeader) return false;
  const name = hostnameOf(hostHeader);
  return name !== undefined && (allowedHosts.includes(name) || isLoopbackHostname(name));
}

/** An IP address as the host (`10.0.0.5:3000`, `[fd00::1]`): what health probes send. */
function isIpLiteral(hostHeader: string | undefined): boolean {
  const name = hostHeader ? hostnameOf(hostHeader) : undefined;
  return name !== undefined && (isIP(name) !== 0 || (name.startsWith('[') && isIP(name.slice(1, -1)) !== 0));
}

/**
 * The Host check of the protected routes, or (`probes: true`) of `/readyz` and `/metrics`, which
 * also accept IP-address hosts: Kubernetes and load balancers probe by IP, while a DNS-rebinding
 * page always sends its own host name.
 */
export function hostGate(config: Pick<Config, 'allowedHosts'>, options: { probes?: boolean } = {}): Gate {
  return ({ req, res }) => {
    if (hostAllowed(req.headers.host, config.allowedHosts)) return true;
    if (options.probes && isIpLiteral(req.headers.host)) return true;
    sendRpcError(res, 403, -32000, `Host "${String(req.headers.host).slice(0, 100)}" is not allowed`);
    return false;
  };
}
