/**
 * Loopback host names: `localhost`, `127.0.0.0/8` and `::1`. One rule for the configuration (plain
 * http allowed), the Host/Origin gates and the doctor. Names under `localhost` (`mcp.localhost`)
 * are not included: they are what the TLS stacks use as public names.
 */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** True for `localhost`, `127.0.0.0/8` and `::1` (bracketed or not). */
export function isLoopbackHostname(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return LOOPBACK_HOSTS.has(h) || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Host name of a `Host` header value (`example.com:443` → `example.com`, `[::1]:3000` → `[::1]`). */
export function hostnameOf(hostHeader: string): string | undefined {
  try {
    return new URL(`http://${hostHeader}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Only the canonical loopback names (`localhost`, `127.0.0.1`, `::1`): where plain http is what a
 * person expects. The doctor uses this to decide whether missing TLS is worth a ✗; any other
 * address, `127.0.0.2` included, is treated like a public name.
 */
export function isLocalhostName(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase());
}
