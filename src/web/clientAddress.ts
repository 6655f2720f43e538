/**
 * The key a per-client limit counts under: the peer's IPv4 address, or the /64 prefix of its IPv6
 * address (one host usually holds a whole /64, so counting single IPv6 addresses would let it
 * rotate through billions of keys). IPv4-mapped IPv6 addresses count as IPv4.
 */
import { isIPv6 } from 'node:net';

export function clientAddressKey(remoteAddress: string | undefined): string {
  if (!remoteAddress) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  if (mapped) return mapped[1] as string;
  if (!isIPv6(remoteAddress)) return remoteAddress;
  const [head = '', tail = ''] = remoteAddress.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = remoteAddress.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
